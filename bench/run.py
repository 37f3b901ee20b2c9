"""`make bench`: throughput and latency of Dateline under gunicorn.

Builds a throwaway newsroom (the demo articles plus BENCH_POSTS generated
ones, default 2,000, across sections and tags), starts gunicorn on 127.0.0.1
with BENCH_WORKERS workers, and drives it from BENCH_CLIENTS client processes
for BENCH_SECONDS per scenario. Prints a Markdown table and writes it to
bench/results/latest.md.

Everything stays on this machine (loopback only); every loop is bounded in
time. Set BENCH_DATABASE_URL / REDIS_URL to measure PostgreSQL and Redis.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POSTS = int(os.environ.get("BENCH_POSTS", "2000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))

SEED = """
import random
from django.contrib.auth import get_user_model
from blog.models import Post, Section, Tag
from django.utils import timezone
from datetime import timedelta
random.seed(7)
author = get_user_model().objects.get(username="desk")
sections = list(Section.objects.all())
tags = [Tag.objects.get_or_create(name=f"Topic {i}")[0] for i in range(60)]
words = "sanctions pipeline tanker harbour ballot vaccine turbine tariff grain drought".split()
paragraph = " ".join(random.choice(words) for _ in range(120)) + "."
body = "\\n\\n".join(f"## Part {i}\\n\\n{paragraph}" for i in range(1, 6))
now = timezone.now()
for n in range(POSTS):
    post = Post.objects.create(
        title=f"Generated story {n}: {random.choice(words)} talks",
        slug=f"generated-story-{n}",
        section=random.choice(sections),
        author=author,
        summary="A generated story for the benchmark.",
        body=body,
        status="published",
        published_at=now - timedelta(hours=n),
    )
    post.tags.set(random.sample(tags, 3))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client(port, path, headers, deadline, queue):
    """One client process: requests in a loop until the deadline."""
    latencies, errors = [], 0
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path(), headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status not in (200, 304):
                errors += 1
        except OSError:
            errors += 1
        latencies.append(time.perf_counter() - start)
    queue.put((latencies, errors))


def scenario(port, name, path, headers=None):
    queue = multiprocessing.Queue()
    deadline = time.perf_counter() + SECONDS
    started = time.perf_counter()
    procs = [
        multiprocessing.Process(
            target=client, args=(port, path, headers or {}, deadline, queue)
        )
        for _ in range(CLIENTS)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for lat, _ in results for x in lat)
    errors = sum(err for _, err in results)
    q = statistics.quantiles(latencies, n=100)
    return {
        "name": name,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": q[49] * 1000,
        "p90": q[89] * 1000,
        "p99": q[98] * 1000,
        "errors": errors,
    }


class Fixed:
    def __init__(self, path):
        self.path = path

    def __call__(self):
        return self.path


class Unique:
    """A new query string each time: the page cache always misses (render cost)."""

    def __init__(self, path):
        self.path, self.n = path, 0

    def __call__(self):
        self.n += 1
        return f"{self.path}?bench={os.getpid()}-{self.n}"


def main():
    var = Path(tempfile.mkdtemp(prefix="dateline-bench-"))
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "bench-only-key",
        "DATELINE_VAR_DIR": str(var),
        "DATABASE_URL": os.environ.get(
            "BENCH_DATABASE_URL", f"sqlite:///{var / 'bench.sqlite3'}"
        ),
    }
    python = sys.executable

    def manage(*args, **kwargs):
        subprocess.run(
            [python, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            **kwargs,
        )

    print(
        f"bench: building a newsroom of {POSTS} generated posts + the demo …",
        flush=True,
    )
    t0 = time.perf_counter()
    if "BENCH_DATABASE_URL" in os.environ:
        manage("flush", "--noinput")
    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    manage("load_demo", "--force")
    manage("shell", "-c", f"POSTS = {POSTS}\n" + SEED)
    print(f"bench: seeded in {time.perf_counter() - t0:.1f} s", flush=True)

    port = free_port()
    server = subprocess.Popen(
        [str(Path(python).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(WORKERS), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/healthz"
                )
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("HEAD", "/feed/")
        etag = conn.getresponse().getheader("ETag")
        article = "/" + "/".join(_first_article(port).strip("/").split("/")) + "/"
        scenarios = [
            ("home, cached", Fixed("/"), None),
            ("home, rendered (cache miss)", Unique("/"), None),
            ("article, cached", Fixed(article), None),
            ("article, rendered (cache miss)", Unique(article), None),
            ("section page 2, cached", Fixed("/section/world/?page=2"), None),
            ("tag intersection, cached", Fixed("/tag/iran+russia/"), None),
            ("RSS feed, cached", Fixed("/feed/"), None),
            ("Atom feed, rendered (cache miss)", Unique("/feed/atom/"), None),
            (
                "RSS feed, conditional GET → 304",
                Fixed("/feed/"),
                {"If-None-Match": etag},
            ),
            ("search, rendered", Unique("/search/"), None),
        ]
        rows = []
        for name, path, headers in scenarios:
            if isinstance(path, Unique) and path.path == "/search/":
                path = _Search()
            rows.append(scenario(port, name, path, headers))
            print(f"bench: {name}: {rows[-1]['rps']:.0f} req/s", flush=True)
    finally:
        server.terminate()
        server.wait(10)
    report = _report(rows)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report)
    print(report)


class _Search:
    terms = ["sanctions", "pipeline", "tanker", "ballot", "vaccine", "turbine"]

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return f"/search/?q={self.terms[self.n % len(self.terms)]}&bench={os.getpid()}-{self.n}"


def _first_article(port):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/section/world/")
    body = conn.getresponse().read().decode()
    return body.split('class="card-title"><a href="')[1].split('"')[0]


def _machine():
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def _report(rows):
    database = os.environ.get("BENCH_DATABASE_URL", "SQLite").split("@")[-1]
    cache = "Redis" if os.environ.get("REDIS_URL") else "local memory"
    lines = [
        f"Machine: {_machine()}",
        f"Server: gunicorn, {WORKERS} sync workers; database {database}; cache {cache}; "
        f"{POSTS} generated posts + demo; {CLIENTS} client processes on the same machine, "
        f"{SECONDS:.0f} s per row.",
        "",
        "| scenario | requests | req/s | p50 ms | p90 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['requests']} | {r['rps']:.0f} | {r['p50']:.1f} | "
            f"{r['p90']:.1f} | {r['p99']:.1f} | {r['errors']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
