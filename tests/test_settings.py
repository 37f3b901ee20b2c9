"""config/settings.py: secure by default, driven by the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def django(code: str, **env) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter after django.setup(), with `env` only."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SITE_URL", "DATABASE_URL", "REDIS_URL"))
    }
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    script = f"import django; django.setup(); {code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )


def test_refuses_to_start_without_a_secret_key_in_production(tmp_path):
    """With DEBUG off, no DJANGO_SECRET_KEY and no kept key, Django will not start, and says why."""
    result = django("print('started')", DATELINE_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "started" not in result.stdout


def test_a_kept_local_key_is_used(tmp_path):
    """`make run` keeps a key in var/secret_key; manage.py commands use it."""
    (tmp_path / "secret_key").write_text("kept-local-key\n")
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    assert (
        django(code, DATELINE_VAR_DIR=str(tmp_path)).stdout.strip() == "kept-local-key"
    )


def test_debug_is_off_by_default():
    """DEBUG stays off unless DJANGO_DEBUG says otherwise."""
    result = django(
        "from django.conf import settings; print(settings.DEBUG)", DJANGO_SECRET_KEY="k"
    )
    assert result.stdout.strip() == "False"
    result = django(
        "from django.conf import settings; print(settings.DEBUG)", DJANGO_DEBUG="1"
    )
    assert result.stdout.strip() == "True"


def test_database_and_cache_come_from_the_environment(tmp_path):
    """DATABASE_URL picks the database; REDIS_URL switches on the shared Redis cache."""
    code = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.CACHES['default']['BACKEND'])"
    )
    result = django(code, DJANGO_SECRET_KEY="k", DATELINE_VAR_DIR=str(tmp_path))
    # Django's per-process cache, keeping pages as responses (issue 8).
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "blog.cache_backends.ProcessCache",
    ]
    result = django(
        code,
        DJANGO_SECRET_KEY="k",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/dateline",
        REDIS_URL="redis://127.0.0.1:6379/1",
    )
    # Django's PostgreSQL backend and RedisCache, bounded (issue 11).
    assert result.stdout.split() == [
        "blog.postgresql",
        "blog.cache_backends.DegradingRedisCache",
    ]


def test_https_site_url_switches_on_hardening_and_passes_check_deploy(tmp_path):
    """An https:// SITE_URL turns on HSTS, SSL redirect and secure cookies;
    `manage.py check --deploy` is then clean (once static files are collected,
    as a deployment does: before, dateline.W001 says to collect them)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SITE_URL"))
    }
    env.update(
        DJANGO_SECRET_KEY="a" * 20
        + "-long-random-secret-key-for-the-check-"
        + "z" * 20,
        SITE_URL="https://news.example",
        DATELINE_VAR_DIR=str(tmp_path),
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    code = (
        "from django.conf import settings; "
        "print(settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.SECURE_HSTS_SECONDS > 0, 'news.example' in settings.ALLOWED_HOSTS)"
    )
    assert (
        django(
            code, **{k: env[k] for k in ("DJANGO_SECRET_KEY", "SITE_URL")}
        ).stdout.split()
        == ["True"] * 4
    )


def test_plain_http_keeps_local_runs_working():
    """Without an https SITE_URL there is no SSL redirect (local runs, tests)."""
    code = "from django.conf import settings; print(settings.SECURE_SSL_REDIRECT)"
    assert django(code, DJANGO_SECRET_KEY="k").stdout.strip() == "False"


@pytest.mark.parametrize("value", ["news.example", "ftp://news.example", "https://"])
def test_malformed_site_url_is_refused(value):
    """A SITE_URL that is not http(s)://host stops startup with a clear message."""
    result = django("", DJANGO_SECRET_KEY="k", SITE_URL=value)
    assert result.returncode != 0 and "SITE_URL must look like" in result.stderr


def test_sentry_dsn_reports_errors_to_the_tracker(tmp_path):
    """With SENTRY_DSN set, an error the app logs reaches the tracker (here a
    local stand-in speaking Sentry's envelope protocol) with no user data."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Tracker(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            received.append((self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tracker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
        code = "import logging; logging.getLogger('blog').error('the presses stopped')"
        result = django(code, DJANGO_SECRET_KEY="k", DATELINE_VAR_DIR=str(tmp_path),
                        SENTRY_DSN=dsn, SENTRY_ENVIRONMENT="ci")  # fmt: skip
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    events = [body for path, body in received if path == "/api/42/envelope/"]
    assert any(b"the presses stopped" in body for body in events), received
    assert b'"environment":"ci"' in b"".join(events).replace(b" ", b"")


def test_dateline_cache_off_turns_every_cache_alias_into_a_dummy(tmp_path):
    """DATELINE_CACHE=off (the bench's render path) leaves no working cache alias."""
    code = (
        "from django.conf import settings; "
        "print(sorted({c['BACKEND'] for c in settings.CACHES.values()}))"
    )
    env = {"DJANGO_SECRET_KEY": "k", "DATELINE_VAR_DIR": str(tmp_path)}
    off = django(code, DATELINE_CACHE="off", REDIS_URL="redis://127.0.0.1:1/0", **env)
    assert off.stdout.strip() == "['django.core.cache.backends.dummy.DummyCache']"
    on = django(code, **env)
    assert "DummyCache" not in on.stdout and "ProcessCache" in on.stdout


def test_database_health_checks_can_be_turned_off(tmp_path):
    """Connection health checks are on by default; DATABASE_HEALTH_CHECKS=0
    turns them off (one round trip fewer per request, issue 8)."""
    code = "from django.db import connection; print(connection.settings_dict['CONN_HEALTH_CHECKS'])"
    common = {"DATELINE_VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "test-only"}
    assert django(code, **common).stdout.strip() == "True"
    off = django(code, DATABASE_HEALTH_CHECKS="0", **common)
    assert off.stdout.strip() == "False", off.stderr
