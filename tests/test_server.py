"""The real thing: gunicorn with several workers, whitenoise and a database
file, as `make run` starts them. An edit made outside the server shows on the
very next request, whichever worker answers."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url, **headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "server-test-key",
        "DATELINE_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'dateline.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DATELINE_MEDIA_ROOT", None)

    def manage(*args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, text=True)  # fmt: skip

    manage("migrate", "--noinput")
    manage("collectstatic", "--noinput")
    manage("load_demo")
    manage("worker", "--batch", "--no-reload", "--no-startup-delay")  # renditions
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if get(base + "/healthz")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(
            "gunicorn did not answer /healthz: "
            + process.stderr.read().decode()[-2000:]
        )
    yield base, manage
    process.terminate()
    process.wait(10)


def test_gunicorn_serves_pages_feeds_and_health(server):
    """Home, an article, a feed and /healthz answer through gunicorn."""
    base, _ = server
    status, headers, body = get(base + "/")
    assert status == 200 and b"Latest updates" in body
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    status, _, body = get(base + "/feed/atom/")
    assert status == 200 and body.startswith(b"<?xml")
    assert get(base + "/section/world/")[0] == 200
    assert get(base + "/no/such/page/")[0] == 404


def test_static_files_are_hashed_compressed_and_long_lived(server):
    """Whitenoise serves hashed CSS with a year's cache and gzip on request."""
    base, _ = server
    _, _, body = get(base + "/")
    href = body.decode().split('rel="stylesheet" href="')[1].split('"')[0]
    assert href.startswith("/static/css/site.") and href.endswith(".css")
    status, headers, _ = get(base + href, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert "max-age=31536000" in headers["Cache-Control"]
    assert headers.get("Content-Encoding") == "gzip"


def test_uploaded_images_are_served(server):
    """Lead-image renditions are served with a long cache lifetime."""
    base, _ = server
    _, _, body = get(base + "/")
    src = body.decode().split('src="/media/')[1].split('"')[0]
    status, headers, image = get(base + "/media/" + src)
    assert (
        status == 200
        and headers["Content-Type"] == "image/jpeg"
        and image[:2] == b"\xff\xd8"
    )
    assert "immutable" in headers["Cache-Control"]


def test_an_edit_shows_on_the_next_request_from_every_worker(server):
    """After an edit, every worker serves the new page at once (no stale cache)."""
    base, manage = server
    for _ in range(6):  # warm every worker's cache with the old page
        assert b"Keeping it cold" in get(base + "/")[2]
    manage(
        "shell", "-c",
        "from blog.models import Post; p = Post.objects.get(slug='vaccine-cold-chain'); "
        "p.title = 'Cold chain, revised'; p.save()",
    )  # fmt: skip
    for _ in range(12):
        body = get(base + "/")[2]
        assert b"Cold chain, revised" in body and b"Keeping it cold" not in body


def test_conditional_get_through_gunicorn(server):
    """A feed reader's If-None-Match gets a 304 from the real server."""
    base, _ = server
    _, headers, _ = get(base + "/feed/")
    status, _, body = get(base + "/feed/", **{"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
