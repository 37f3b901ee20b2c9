"""blog/tasks.py: the job queue — pings told once, retried with back-off, and
scheduled posts announced when they come due, by real competing workers."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from blog import tasks
from blog.models import Ping, Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[1]


class Hub:
    """A real HTTP hub on 127.0.0.1: it records every ping, and can refuse
    the first `failures` with a 500."""

    def __init__(self, failures=0):
        self.accepted: list[list[str]] = []
        self.refused = 0
        lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with lock:
                    refuse = hub.refused < failures
                    if refuse:
                        hub.refused += 1
                    else:
                        hub.accepted.append(urllib.parse.parse_qs(body)["hub.url"])
                self.send_response(500 if refuse else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stories(self) -> list[str]:
        """The post each accepted ping was about (its own story feed)."""
        return sorted(
            url.rstrip("/").split("/")[-2]
            for urls in self.accepted
            for url in urls
            if url.endswith("/feed/") and url.count("/") == 8
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hub(settings):
    server = Hub()
    settings.SITE_URL = "https://news.example"
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": server.url}
    yield server
    server.close()


def test_backoff_doubles_and_is_capped():
    """Retries wait about 10 s, 20 s, 40 s… and never more than an hour (±20%)."""
    assert 8 <= tasks.backoff(1).total_seconds() <= 12
    assert 16 <= tasks.backoff(2).total_seconds() <= 24
    assert tasks.backoff(30) <= tasks.BACKOFF_CAP * 1.2


def test_a_ping_sent_twice_reaches_the_hub_once(
    hub, django_capture_on_commit_callbacks
):
    """Two jobs for one recorded ping (at-least-once delivery) make one POST."""
    with django_capture_on_commit_callbacks(execute=True):
        post = make_post()
    ping = Ping.objects.get(post_id=post.pk)
    assert tasks.send_ping.call(ping.pk) == "not claimed"
    assert len(hub.accepted) == 1


def test_a_scheduled_post_is_announced_once_when_it_comes_due(
    hub, django_capture_on_commit_callbacks
):
    """Saving a scheduled post tells nobody; the sweep after its time tells the
    hub once, however many sweeps see it."""
    with django_capture_on_commit_callbacks(execute=True):
        post = make_post(age=-timedelta(minutes=5))
    assert hub.accepted == []
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep()["due"] == 1
        assert tasks.sweep()["due"] == 0
    assert hub.stories() == [post.slug]


def test_publishing_now_and_the_sweep_agree_on_one_ping(
    hub, django_capture_on_commit_callbacks
):
    """A post published now is not announced again by the worker's sweep."""
    with django_capture_on_commit_callbacks(execute=True):
        make_post(age=timedelta(0))
        tasks.sweep()
    assert len(hub.accepted) == 1


def test_lost_pings_are_sent_by_the_sweep(hub):
    """A ping recorded but whose job never ran is sent by a later sweep."""
    post = make_post()  # on_commit never runs here: the job is "lost"
    Ping.objects.filter(post_id=post.pk).update(
        next_attempt_at=timezone.now() - tasks.PING_GRACE * 2
    )
    assert tasks.sweep()["requeued_pings"] == 1
    assert hub.stories() == [post.slug]


def test_jobs_whose_worker_died_go_back_to_the_queue(settings):
    """A job left running far longer than any job takes is made ready again."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    result = tasks.make_lead_renditions.enqueue(1, "lead/x.png")
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", started_at=timezone.now() - tasks.JOB_LEASE * 2
    )
    assert tasks.sweep()["requeued_jobs"] == 1
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"


# Real worker processes, competing on one database.


def scratch_database(tmp_path):
    """A database the worker processes share: a SQLite file, or on PostgreSQL
    a scratch database beside the test database (dropped afterwards)."""
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.sqlite3'}", None
    import psycopg

    params = connection.settings_dict
    name = f"{params['NAME']}_queue"[:60]
    base = f"postgres://{params['USER']}@{params['HOST']}:{params['PORT']}"
    admin = psycopg.connect(f"{base}/postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return f"{base}/{name}", drop


SEED = """
from datetime import timedelta
from django.utils import timezone
from tests.factories import make_post
now = timezone.now()
for n in range(4):  # live at once: pinged from the save
    make_post(f"Live {n}", slug=f"live-{n}", age=timedelta(0))
for n in range(4):  # scheduled a few seconds ahead: pinged by a sweep
    make_post(f"Due {n}", slug=f"due-{n}", published_at=now + timedelta(seconds=3))
make_post("Draft", slug="draft", status="draft")
"""


@pytest.mark.django_db(transaction=True)
def test_three_competing_workers_tell_the_hub_once_per_change(tmp_path):
    """Three worker processes on one database: every post that goes live (now,
    or later on schedule) reaches the hub exactly once, even though the hub
    refuses the first two pings (retried with back-off)."""
    hub = Hub(failures=2)
    url, drop = scratch_database(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "queue-test-key",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATELINE_VAR_DIR": str(tmp_path),
        "DATABASE_URL": url,
        "SITE_URL": "https://news.example",
        "WEBSUB_HUB": hub.url,
        "DATELINE_QUEUE": "database",
        "DATELINE_RETRY_BASE_SECONDS": "0.5",
    }
    env.pop("REDIS_URL", None)

    def manage(*args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                       check=True, capture_output=True, text=True, timeout=120)  # fmt: skip

    workers = []
    try:
        manage("migrate", "--noinput")
        manage("shell", "-c", textwrap.dedent(SEED))
        for n in range(3):
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "worker",
                        "--no-reload",
                        "--interval",
                        "0.2",
                        "--sweep-interval",
                        "0.5",
                        "--worker-id",
                        f"w{n}",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(tmp_path / f"worker{n}.log").open("w"),
                )
            )
        expected = sorted(
            [f"live-{n}" for n in range(4)] + [f"due-{n}" for n in range(4)]
        )
        deadline = time.monotonic() + 60
        while hub.stories() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(3)  # room for any duplicate to arrive
        assert hub.refused == 2
        assert hub.stories() == expected
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
        hub.close()
        if drop:
            drop()


def test_old_sent_pings_are_pruned(hub, django_capture_on_commit_callbacks):
    """Pings sent more than 30 days ago are deleted by the sweep; recent ones stay."""
    with django_capture_on_commit_callbacks(execute=True):
        old, recent = make_post(), make_post()
    Ping.objects.filter(post_id=old.pk).update(
        sent_at=timezone.now() - tasks.KEEP_FINISHED - timedelta(days=1)
    )
    assert tasks.sweep()["pruned"] == 1
    assert list(Ping.objects.values_list("post_id", flat=True)) == [recent.pk]
