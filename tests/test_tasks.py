"""blog/tasks.py: the job queue — pings told once, retried with back-off, and
scheduled posts announced when they come due, by real competing workers."""

import os
import signal
import subprocess
import sys
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

    def __init__(self, failures=0, hang_first=False):
        self.accepted: list[list[str]] = []
        self.refused = 0
        self.hung = threading.Event()
        lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                if hang_first and not hub.hung.is_set():
                    # The sender is killed meanwhile: this ping never lands.
                    hub.hung.set()
                    time.sleep(8)
                    return
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
        next_attempt_at=timezone.now() - tasks.ping_lease() * 2
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


def test_old_sent_pings_are_pruned(hub, django_capture_on_commit_callbacks):
    """Pings sent more than 30 days ago are deleted by the sweep; recent ones stay."""
    with django_capture_on_commit_callbacks(execute=True):
        old, recent = make_post(), make_post()
    Ping.objects.filter(post_id=old.pk).update(
        sent_at=timezone.now() - tasks.KEEP_FINISHED - timedelta(days=1)
    )
    assert tasks.sweep()["pruned"] == 1
    assert list(Ping.objects.values_list("post_id", flat=True)) == [recent.pk]


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
for n in range({live}):  # live at once: pinged from the save
    make_post(f"Live {{n}}", slug=f"live-{{n}}", age=timedelta(0))
for n in range({due}):  # scheduled a few seconds ahead: pinged by a sweep
    make_post(f"Due {{n}}", slug=f"due-{{n}}", published_at=now + timedelta(seconds=3))
make_post("Draft", slug="draft", status="draft")
"""


class QueueSite:
    """A site on a shared database, seeded by `manage.py shell`, with worker
    processes started (and stopped, by PID) on demand."""

    def __init__(self, tmp_path, hub):
        self.tmp_path = tmp_path
        self.url, self.drop = scratch_database(tmp_path)
        self.env = {
            **os.environ,
            "DJANGO_SECRET_KEY": "queue-test-key",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATELINE_VAR_DIR": str(tmp_path),
            "DATABASE_URL": self.url,
            "SITE_URL": "https://news.example",
            "WEBSUB_HUB": hub.url,
            "DATELINE_QUEUE": "database",
            "DATELINE_RETRY_BASE_SECONDS": "0.5",
            "DATELINE_QUEUE_LEASE_SECONDS": "2",
        }
        self.env.pop("REDIS_URL", None)
        self.workers: list[subprocess.Popen] = []
        self.manage("migrate", "--noinput")

    def manage(self, *args):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                       check=True, capture_output=True, text=True, timeout=120)  # fmt: skip

    def seed(self, live=0, due=0):
        self.manage("shell", "-c", SEED.format(live=live, due=due))

    def start_worker(self) -> subprocess.Popen:
        n = len(self.workers)
        log = (self.tmp_path / f"worker{n}.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-reload", "--interval",
             "0.2", "--sweep-interval", "0.5", "--worker-id", f"w{n}"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        self.workers.append(worker)
        return worker

    def stop(self):
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(5)
        if self.drop:
            self.drop()


def wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_three_competing_workers_tell_the_hub_once_per_change(tmp_path):
    """Three worker processes on one database: every post that goes live (now,
    or later on schedule) reaches the hub exactly once, even though the hub
    refuses the first two pings (retried with back-off)."""
    hub = Hub(failures=2)
    site = QueueSite(tmp_path, hub)
    try:
        site.seed(live=4, due=4)
        for _ in range(3):
            site.start_worker()
        expected = sorted(
            [f"live-{n}" for n in range(4)] + [f"due-{n}" for n in range(4)]
        )
        assert wait_for(lambda: hub.stories() == expected), hub.stories()
        time.sleep(3)  # room for any duplicate to arrive
        assert hub.refused == 2
        assert hub.stories() == expected
    finally:
        site.stop()
        hub.close()


@pytest.mark.django_db(transaction=True)
def test_a_ping_whose_worker_is_killed_is_sent_by_another(tmp_path):
    """At least once: a worker killed (SIGKILL) in the middle of a ping loses
    nothing; another worker sends it once its claim has expired."""
    hub = Hub(hang_first=True)
    site = QueueSite(tmp_path, hub)
    try:
        site.seed(live=1)
        first = site.start_worker()
        assert hub.hung.wait(60), "the first worker never pinged"
        first.kill()
        first.wait(5)
        assert hub.stories() == []
        site.start_worker()
        assert wait_for(lambda: hub.stories() == ["live-0"], 30), hub.stories()
        time.sleep(2)
        assert hub.stories() == ["live-0"]
    finally:
        site.stop()
        hub.close()


def test_the_sweep_looks_only_since_its_last_look(
    hub, django_capture_on_commit_callbacks
):
    """A sweep given the time of the previous look ignores posts due before it."""
    post = make_post(age=-timedelta(minutes=5))
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - timedelta(minutes=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep(since=timezone.now() - timedelta(minutes=1))["due"] == 0
        assert tasks.sweep(since=timezone.now() - timedelta(minutes=3))["due"] == 1
    assert hub.stories() == [post.slug]


def test_the_worker_outlives_a_database_that_is_away(tmp_path):
    """A worker whose database does not answer keeps running, saying so,
    instead of exiting and leaving the queue unattended."""
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "queue-test-key",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATELINE_VAR_DIR": str(tmp_path),
        # Nothing listens on port 9 (discard): connections are refused at once.
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/none",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as err:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-reload", "--no-startup-delay"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:
            time.sleep(6)
            assert worker.poll() is None, log.read_text()[-2000:]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(15)
    assert "Database unavailable" in log.read_text()
