"""`make cluster`: Dateline as an operator runs it on several machines, on 127.0.0.1.

Started here, each as a child process stopped by its PID at the end:
an S3 API server (moto), a Redis of its own, three gunicorn nodes with their
own var/ folders, one job worker, nginx as the caching proxy (the config in
deploy/nginx/, as docker-compose runs it), and a tiny WebSub hub that counts
pings. The database is the machine's PostgreSQL, in a database of the
cluster's own. tests/test_cluster.py drives it; see README, "Running on
several machines".
"""

from __future__ import annotations

import http.cookiejar
import importlib.util
import json
import os
import shlex
import shutil
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.processes import (
    ROOT,
    Child,
    Gunicorn,
    OwnRedis,
    app_env,
    free_port,
    get,
    manage,
    wait_until,
)

NODES = 3
BUCKET = "dateline-media"
ADMIN_PASSWORD = "cluster-admin-not-secret"
CDN_MAX_AGE = 5
PROXY_TEMPLATE = ROOT / "deploy" / "nginx" / "dateline.conf.template"


class Hub:
    """A WebSub hub that records every publish ping (time and feed URLs)."""

    def __init__(self):
        self.pings: list[tuple[float, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                hub.pings.append((time.time(), form.get("hub.url", [])))
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pings_for(self, url_part: str, since: float = 0) -> int:
        return sum(
            1
            for at, urls in self.pings
            if at >= since and any(url_part in url for url in urls)
        )

    def stop(self):
        self.server.shutdown()


class Editor:
    """An editor in a browser: one session (cookies) and the admin's own
    forms, submitted with every value the form holds plus the changes."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )

    def request(self, url, data=None, content_type=None, timeout=30):
        request = urllib.request.Request(url, data=data)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def log_in(self, base: str) -> None:
        values = self.form(base + "/admin/login/")
        values |= {"username": "editor", "password": ADMIN_PASSWORD}
        status = self.submit(base + "/admin/login/", values)[0]
        assert status == 302, f"login failed: {status}"

    def form(self, url: str, form_id: str | None = None) -> dict:
        import lxml.html

        status, _, body = self.request(url)
        assert status == 200, f"{url}: {status}"
        page = lxml.html.fromstring(body)
        form = page.get_element_by_id(form_id) if form_id else page.forms[0]
        return dict(form.form_values())

    def submit(self, url, values: dict, files: dict | None = None):
        """POST the form as multipart (files: name → (filename, bytes, type))."""
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in values.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                f"\r\n\r\n{value}\r\n".encode()
            )
        for name, (filename, content, kind) in (files or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(url, body, f"multipart/form-data; boundary={boundary}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A save answers 302: that is the answer we want to see."""

    def redirect_request(self, *args, **kwargs):
        return None


def s3_available() -> str:
    """'' when the media pieces (django-storages, moto) are installed, else why not."""
    for module, package in (("storages", "django-storages"), ("moto", "moto[server]")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed"
    return ""


def queue_available() -> str:
    if importlib.util.find_spec("django_tasks") is None:
        return "django-tasks is not installed"
    if not os.environ.get("WORKER_CMD"):
        return "WORKER_CMD (the Makefile's job worker command) is not set"
    return ""


def proxy_settings(prefix: Path, listen: str, apps: list[str], media_origin: str):
    """The values of deploy/nginx/dateline.conf.template's ${DATELINE_*}
    names; docker-compose.yml sets the same names for the nginx image."""
    return {
        "DATELINE_PROXY_LISTEN": listen,
        "DATELINE_PROXY_CACHE": str(prefix / "cache"),
        "DATELINE_PROXY_LOG": str(prefix / "access.log"),
        "DATELINE_MEDIA_ORIGIN": media_origin,
        **{f"DATELINE_APP_{number}": app for number, app in enumerate(apps, 1)},
    }


def write_proxy_config(prefix: Path, listen: str, apps: list[str], media_origin: str):
    """nginx.conf for an unprivileged, non-daemon nginx with every path under
    `prefix`, including the proxy template filled in; returns its path."""
    for temp in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (prefix / temp).mkdir(parents=True, exist_ok=True)
    values = proxy_settings(prefix, listen, apps, media_origin)
    site = string.Template(PROXY_TEMPLATE.read_text()).safe_substitute(values)
    (prefix / "dateline.conf").write_text(site)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes 2;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"  client_body_temp_path {prefix}/body;\n"
        f"  proxy_temp_path {prefix}/proxy;\n"
        f"  fastcgi_temp_path {prefix}/fastcgi;\n"
        f"  uwsgi_temp_path {prefix}/uwsgi;\n"
        f"  scgi_temp_path {prefix}/scgi;\n"
        f"  include {prefix}/dateline.conf;\n"
        "}\n"
    )
    return conf


class Cluster:
    def __init__(self, root: Path, database_url: str):
        self.root = root
        self.children: list[Child] = []
        self.figures: dict[str, object] = {}
        self.media = not s3_available()
        self.queue = not queue_available()
        self.proxy_port = free_port()
        self.proxy = f"http://127.0.0.1:{self.proxy_port}"
        try:
            self._start(database_url)
        except BaseException:
            self.stop()
            raise

    def _start(self, database_url: str) -> None:
        self.redis = OwnRedis(self._folder("redis"))
        self.hub = Hub()
        env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "SITE_URL": self.proxy,
            "WEBSUB_HUB": self.hub.url,
            "DATELINE_CDN_MAX_AGE": str(CDN_MAX_AGE),
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
        }
        if self.media:
            self.s3_port = free_port()
            self.s3 = self._child(
                "s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                       "-p", str(self.s3_port)],
            )  # fmt: skip
            s3 = f"http://127.0.0.1:{self.s3_port}"
            wait_until(lambda: get(s3 + "/", timeout=2)[0] == 200, 30, what="moto")
            env |= {
                "DATELINE_MEDIA_STORAGE": "s3",
                "DATELINE_S3_BUCKET": BUCKET,
                "DATELINE_S3_ENDPOINT_URL": s3,
                "DATELINE_MEDIA_URL": f"{self.proxy}/media/",
                "AWS_ACCESS_KEY_ID": "cluster",
                "AWS_SECRET_ACCESS_KEY": "cluster",
                "AWS_S3_REGION_NAME": "us-east-1",
            }
        else:
            # Without the S3 pieces the nodes share one folder, as a shared
            # volume would (the upload check then skips and says why).
            env["DATELINE_MEDIA_ROOT"] = str(self._folder("shared-media"))
        self.figures["media"] = "s3 (moto)" if self.media else "shared folder"
        self.figures["queue"] = "worker" if self.queue else queue_available()
        self.env = env
        first = app_env(self._folder("node1") / "var", **env)
        if self.media:  # as docker-compose's setup service does
            subprocess.run([sys.executable, str(ROOT / "deploy" / "create_bucket.py")],
                           env=first, check=True, capture_output=True)  # fmt: skip
        manage(first, "migrate", "--noinput")
        manage(first, "load_demo")
        manage(first, "createsuperuser", "--noinput", "--username", "editor",
               "--email", "editor@example.org")  # fmt: skip
        self.nodes = []
        for number in range(1, NODES + 1):
            node_env = app_env(self._folder(f"node{number}") / "var", **env)
            manage(node_env, "collectstatic", "--noinput")
            node = Gunicorn(f"node{number}", node_env,
                            self.root / f"node{number}.log", workers=2)  # fmt: skip
            self.children.append(node)
            self.nodes.append(node)
        if self.queue:
            command = shlex.split(os.environ["WORKER_CMD"])
            if command[0].startswith(".venv/"):
                command[0] = str(ROOT / command[0])
            self._child("worker", command, cwd=ROOT, env=first)
        self.nginx = self._start_nginx()

    def _folder(self, name: str) -> Path:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _child(self, name: str, args: list[str], **popen) -> Child:
        child = Child(name, args, self.root / f"{name}.log", **popen)
        self.children.append(child)
        return child

    def _start_nginx(self) -> Child:
        prefix = self._folder("nginx")
        media_origin = (
            f"http://127.0.0.1:{self.s3_port}/{BUCKET}/"
            if self.media
            else f"{self.nodes[0].base}/media/"
        )
        conf = write_proxy_config(
            prefix,
            f"127.0.0.1:{self.proxy_port}",
            [node.base.removeprefix("http://") for node in self.nodes],
            media_origin,
        )
        nginx = self._child(
            "nginx",
            [shutil.which("nginx"), "-p", str(prefix), "-c", str(conf),
             "-e", str(prefix / "error.log")],
        )  # fmt: skip
        wait_until(lambda: get(self.proxy + "/robots.txt", timeout=2)[0] == 200, 20,
                   what="nginx answering")  # fmt: skip
        return nginx

    def stop(self) -> None:
        """Stop everything started here, newest first, each by its PID."""
        for child in reversed(self.children):
            child.stop()
        if getattr(self, "redis", None):
            self.redis.stop()
        if getattr(self, "hub", None):
            self.hub.stop()

    def report(self) -> str:
        return json.dumps(self.figures, indent=2, default=str)
