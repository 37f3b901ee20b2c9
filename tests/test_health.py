"""/healthz: 200 while the node can serve readers, each dependency by name,
no details (blog/health.py)."""

import json
import os
import subprocess
import sys

import pytest

from tests.processes import ROOT, free_port

DEPENDENCIES = {"database", "cache", "storage", "queue"}


@pytest.mark.django_db
def test_healthz_names_every_dependency(client, settings):
    """With everything up, 200 and one state per dependency."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", *DEPENDENCIES}
    assert body["status"] == "ok" and body["database"] == "ok"
    # "local": a per-process cache (the default); "ok": Redis (REDIS_URL).
    assert body["cache"] == (
        "ok" if settings.CACHES["default"].get("LOCATION") else "local"
    )
    assert body["storage"] == "ok" and body["queue"] == "ok"
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_a_missing_cache_is_degraded_not_down(client, settings):
    """Redis unreachable: still 200 (pages are served uncached), cache named
    unavailable."""
    settings.CACHES = {
        "default": {
            "BACKEND": "blog.cache_backends.DegradingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["cache"] == "unavailable"


def test_a_database_that_does_not_answer_is_a_503_without_details():
    """Database unreachable: 503 naming the database unavailable; the error
    text (hosts, ports) goes to the log, not to whoever asked."""
    code = (
        "import django; django.setup(); "
        "from django.test import Client; from django.test.utils import setup_test_environment; "
        "setup_test_environment(); r = Client().get('/healthz'); "
        "print(r.status_code); print(r.content.decode())"
    )
    env = {**os.environ, "DJANGO_SECRET_KEY": "k", "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/nowhere"}  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=False, cwd=ROOT)  # fmt: skip
    status, body = result.stdout.strip().splitlines()[-2:]
    assert status == "503"
    body = json.loads(body)
    assert body["status"] == "unavailable" and body["database"] == "unavailable"
    assert set(body.values()) <= {"ok", "unavailable", "local", "absent"}
    assert "127.0.0.1" not in json.dumps(body)
    assert "127.0.0.1" in result.stderr  # logged, not shown


@pytest.mark.django_db
def test_unreachable_storage_is_degraded_within_the_deadline(client, settings):
    """An S3 endpoint that refuses connections: 200, storage unavailable, and
    the answer comes within the probe's deadline, not the client's retries."""
    import time

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "nowhere",
                "endpoint_url": f"http://127.0.0.1:{free_port()}",
                "access_key": "x",
                "secret_key": "x",
                "region_name": "us-east-1",
            },
        },
    }
    started = time.monotonic()
    response = client.get("/healthz")
    assert time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.json()["storage"] == "unavailable"
    assert response.json()["status"] == "degraded"
