"""config/gunicorn.py: a node told to stop (SIGTERM) answers every connection
it accepted, including those still queued, then refuses new ones."""

import collections
import http.client
import json
import os
import signal
import threading
import time

import pytest

from tests.processes import Gunicorn, app_env, get, manage


@pytest.fixture
def node(tmp_path):
    env = app_env(tmp_path / "var", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    manage(env, "load_demo")
    node = Gunicorn("node", env, tmp_path / "gunicorn.log", workers=1)
    yield node
    node.stop()


def test_a_stopping_node_answers_what_it_accepted_and_refuses_the_rest(node):
    """Twelve readers on one worker, SIGTERM mid-way: each request is answered,
    or refused before it was sent (a proxy resends those), never reset after
    it was sent."""
    outcomes = collections.Counter()
    running = True

    def reader():
        while running:
            connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=20)
            try:
                connection.connect()
            except ConnectionRefusedError:
                outcomes["refused"] += 1  # a proxy resends these elsewhere
                time.sleep(0.01)
                continue
            try:
                connection.request("GET", "/archive/")
                outcomes[connection.getresponse().status] += 1
            except (ConnectionError, http.client.HTTPException) as error:
                outcomes[type(error).__name__] += 1
            finally:
                connection.close()
            time.sleep(0.05)  # readers, not a flood: the queue empties now and then

    readers = [threading.Thread(target=reader) for _ in range(12)]
    for thread in readers:
        thread.start()
    time.sleep(2)
    os.kill(node.pid, signal.SIGTERM)
    node.process.wait(30)
    time.sleep(0.5)
    running = False
    for thread in readers:
        thread.join()
    assert outcomes[200] > 20 and outcomes["refused"] > 0
    assert set(outcomes) == {200, "refused"}, outcomes


def test_every_log_line_is_json(node):
    """gunicorn's own lines (booting, stopping) and the app's are JSON objects."""
    assert get(node.base + "/archive/")[0] == 200
    node.stop()
    lines = node.log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    loggers = {entry["logger"] for entry in entries}
    assert {"gunicorn.error", "dateline.request"} <= loggers
    assert "gunicorn.access" not in loggers  # one line per request, the app's
