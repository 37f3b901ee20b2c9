"""Real servers of our own for fault tests and the cluster: a PostgreSQL and a
Redis on free ports, gunicorn nodes, each started as a child and stopped by
its PID (never the machine's own services on 5432 and 6379)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, interval: float = 0.1, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = condition()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"not within {timeout} s: {what or condition}")


def get(url, timeout=10, **headers):
    """(status, headers, body) of a GET; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Child:
    """A process we started, in its own process group, so that stopping or
    freezing it reaches its workers too, and nothing else."""

    def __init__(self, name: str, args: list[str], log: Path, **popen):
        self.name, self.args, self.log_path = name, args, log
        self.log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            **popen,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, signum: int) -> None:
        if self.alive():
            os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 15, signum: int = signal.SIGTERM) -> None:
        if self.alive():
            self.send(signal.SIGCONT)  # a frozen child cannot stop
            self.send(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.send(signal.SIGKILL)
                self.process.wait(5)
        self.log.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def _as_postgres_user() -> list[str]:
    # initdb refuses root: run PostgreSQL as its own user when we are root.
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


def postgres_bin(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, or where Debian keeps them."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(candidates[-1]) if candidates else None


def postgres_available() -> bool:
    return bool(postgres_bin("initdb") and postgres_bin("postgres"))


class OwnPostgres:
    """A throwaway PostgreSQL cluster on a free port (trust auth on 127.0.0.1)."""

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dateline-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        subprocess.run(
            [*_as_postgres_user(), postgres_bin("initdb"), "-D", str(self.data),
             "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.child: Child | None = None
        self.start()

    def start(self) -> None:
        self.child = Child(
            "postgres",
            [*_as_postgres_user(), postgres_bin("postgres"), "-D", str(self.data),
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.root}", "-c", "fsync=off"],
            self.root / "server.log", stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, 30, what="PostgreSQL accepting connections")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def answers(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url(), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def processes(self) -> list[int]:
        """The postmaster and its children (backends leave its process group)."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.child.pid:
                children.append(int(stat.parent.name))
        return [self.child.pid, *children]

    def freeze(self) -> None:
        """SIGSTOP the server and its backends: sockets stay open, nothing answers."""
        for pid in self.processes():  # the postmaster first: it forks no more
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def halt(self) -> None:
        """Stop the server now (SIGINT: fast shutdown, clients cut off); its
        data stays, for start()."""
        self.child.stop(signum=signal.SIGINT)

    def remove(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


class OwnRedis:
    """A redis-server on a free port, no persistence; stop() and start() again
    on the same port, as an operator restarting it would."""

    def __init__(self, folder: Path, port: int | None = None):
        self.port = port or free_port()
        self.folder = folder
        self.child: Child | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.child = Child(
            "redis",
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            self.folder / "redis.log", stdin=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.answers, 10, what="redis-server answering")

    def answers(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.child:
            self.child.stop()


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr[-3000:]}")
    return result.stdout


def app_env(var: Path, **overrides: str) -> dict:
    """The environment of one app node: its own var/ folder, a throwaway key."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "cluster-test-key-not-secret",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATELINE_VAR_DIR": str(var),
    }
    env.pop("DATELINE_MEDIA_ROOT", None)
    env.update(overrides)
    return env


class Gunicorn(Child):
    """One app node: gunicorn serving config.wsgi on a free port."""

    CONFIG = ["-c", "python:config.gunicorn"]

    def __init__(self, name: str, env: dict, log: Path, workers: int = 2, **options):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [str(BIN / "gunicorn"), *self.CONFIG, "config.wsgi",
                "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]  # fmt: skip
        for option, value in options.items():
            args += [f"--{option.replace('_', '-')}", str(value)]
        super().__init__(name, args, log, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
        try:
            wait_until(
                lambda: get(self.base + "/robots.txt", timeout=5)[0] == 200,
                60, what=f"{name} answering",
            )  # fmt: skip
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{name} did not start: {self.tail()}") from None
