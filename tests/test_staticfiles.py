"""blog/staticfiles.py: a fresh checkout served with DEBUG off before
collectstatic works and says what to run (issue 10)."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.test_server import free_port, get

ROOT = Path(__file__).resolve().parents[1]


def test_runserver_without_debug_before_collectstatic_serves_pages_and_says_what_to_run(
    tmp_path,
):
    """`manage.py runserver` with DJANGO_DEBUG=0 and nothing collected answers
    pages (200), unknown addresses (404) and the stylesheet they link, and
    prints one warning naming collectstatic."""
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "runserver-test-key",
        "DATELINE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dateline.sqlite3'}",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                home = get(base + "/")
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("runserver did not answer")
        missing = get(base + "/no-such-page/")
        stylesheet = re.search(rb'<link rel="stylesheet" href="([^"]+)"', home[2])[1]
        css = get(base + stylesheet.decode())
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert home[0] == 200, home[2][:500]
    assert missing[0] == 404
    assert stylesheet == b"/static/css/site.css"
    assert css[0] == 200 and css[1]["Content-Type"].startswith("text/css")
    warnings = [line for line in output.splitlines() if "dateline.W001" in line]
    assert len(warnings) == 1, output
    assert "collectstatic" in output
