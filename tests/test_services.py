"""blog/services.py: WebSub pings, against a real HTTP hub on 127.0.0.1."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from blog.models import Ping, Post
from blog.services import PingFailed, announce, feed_urls_for, ping_hub
from tests.factories import make_post, make_section, make_tag, make_update

pytestmark = pytest.mark.django_db


class Hub:
    """A real HTTP server standing in for a WebSub hub: it records pings."""

    def __init__(self, status=204):
        self.pings: list[dict] = []
        self.received = threading.Event()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                hub.pings.append(
                    urllib.parse.parse_qs(self.rfile.read(length).decode())
                )
                self.send_response(status)
                self.end_headers()
                hub.received.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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


def test_feed_urls_cover_site_section_tags_and_story():
    """A post appears in the site, section, tag, author and story feeds, three
    formats each."""
    post = make_post(
        section=make_section("World"), tags=[make_tag("Iran"), make_tag("Russia")]
    )
    urls = feed_urls_for(post)
    assert len(urls) == 6 * 3
    author = post.bylines.get().author
    assert any(url.endswith(f"/author/{author.slug}/feed/json/") for url in urls)
    assert "/feed/json/" in urls[2] and urls[0].endswith("/feed/")
    assert any(url.endswith("/tag/iran/feed/atom/") for url in urls)
    assert any(url.endswith(f"/{post.slug}/feed/") for url in urls)


def test_publishing_pings_the_hub_after_commit(hub, django_capture_on_commit_callbacks):
    """Saving a live post records a ping and sends it, after commit, with every feed it is in."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post = make_post(section=make_section("World"), tags=[make_tag("Iran")])
    assert hub.pings == [], "nothing is sent before the commit"
    for callback in callbacks:
        callback()
    assert len(hub.pings) == 1
    ping = hub.pings[0]
    assert ping["hub.mode"] == ["publish"]
    assert "https://news.example/feed/" in ping["hub.url"]
    assert "https://news.example/tag/iran/feed/json/" in ping["hub.url"]
    assert f"https://news.example{post.get_absolute_url()}feed/atom/" in ping["hub.url"]
    assert Ping.objects.get(post_id=post.pk).sent_at is not None


def test_drafts_do_not_ping(hub, django_capture_on_commit_callbacks):
    """Saving a draft tells the hub nothing."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_post(status=Post.Status.DRAFT)
    assert callbacks == []
    assert not Ping.objects.exists()


def test_story_update_pings(hub, django_capture_on_commit_callbacks):
    """A new story update pings the hub about its story's feeds."""
    post = make_post()
    with django_capture_on_commit_callbacks(execute=True):
        make_update(post)
    assert any(url.endswith(f"/{post.slug}/feed/") for url in hub.pings[-1]["hub.url"])


def test_deleting_a_live_post_pings_the_feeds_it_left(
    hub, django_capture_on_commit_callbacks
):
    """Deleting a live post tells the hub about its section and tag feeds."""
    post = make_post(section=make_section("World"), tags=[make_tag("Iran")])
    with django_capture_on_commit_callbacks(execute=True):
        post.delete()
    assert "https://news.example/tag/iran/feed/" in hub.pings[-1]["hub.url"]


def test_a_dead_hub_never_breaks_the_save(
    settings, caplog, django_capture_on_commit_callbacks
):
    """A hub that refuses connections is logged and retried later; the post is saved."""
    settings.SITE_URL = "https://news.example"
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": "http://127.0.0.1:9/"}
    with django_capture_on_commit_callbacks(execute=True):
        post = make_post()
    assert Post.objects.filter(pk=post.pk).exists()
    assert "WebSub ping to http://127.0.0.1:9/ failed" in caplog.text
    ping = Ping.objects.get(post_id=post.pk)
    assert ping.sent_at is None and ping.attempts == 1
    assert ping.next_attempt_at > timezone.now()


def test_hub_errors_are_failures():
    """A hub answering 500 is a failed ping (to be retried)."""
    server = Hub(status=500)
    try:
        with pytest.raises(PingFailed):
            ping_hub(server.url, ["https://news.example/feed/"])
    finally:
        server.close()


def test_no_ping_without_a_hub(settings):
    """Without WEBSUB_HUB nothing is recorded or sent."""
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": ""}
    assert announce(make_post().pk) is None
    assert not Ping.objects.exists()
