"""blog/services.py: WebSub pings, against a real HTTP hub on 127.0.0.1."""

import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from blog.models import Post
from blog.services import announce, feed_urls_for, ping_hub
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
    """A post appears in the site, section, tag and story feeds, three formats each."""
    post = make_post(
        section=make_section("World"), tags=[make_tag("Iran"), make_tag("Russia")]
    )
    urls = feed_urls_for(post)
    assert len(urls) == 5 * 3
    assert "/feed/json/" in urls[2] and urls[0].endswith("/feed/")
    assert any(url.endswith("/tag/iran/feed/atom/") for url in urls)
    assert any(url.endswith(f"/{post.slug}/feed/") for url in urls)


def test_publishing_pings_the_hub_after_commit(hub, django_capture_on_commit_callbacks):
    """Saving a live post pings the hub, after commit, with every feed it is in."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post = make_post(section=make_section("World"), tags=[make_tag("Iran")])
    assert callbacks, "the ping waits for the commit"
    assert hub.received.wait(5)
    ping = hub.pings[0]
    assert ping["hub.mode"] == ["publish"]
    assert "https://news.example/feed/" in ping["hub.url"]
    assert "https://news.example/tag/iran/feed/json/" in ping["hub.url"]
    assert f"https://news.example{post.get_absolute_url()}feed/atom/" in ping["hub.url"]


def test_drafts_do_not_ping(hub, django_capture_on_commit_callbacks):
    """Saving a draft tells the hub nothing."""
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        make_post(status=Post.Status.DRAFT)
    assert callbacks == []


def test_story_update_pings(hub, django_capture_on_commit_callbacks):
    """A new story update pings the hub about its story's feeds."""
    post = make_post()
    with django_capture_on_commit_callbacks(execute=True):
        make_update(post)
    assert hub.received.wait(5)
    assert any(url.endswith(f"/{post.slug}/feed/") for url in hub.pings[-1]["hub.url"])


def test_a_dead_hub_never_breaks_the_save(
    settings, caplog, django_capture_on_commit_callbacks
):
    """A hub that refuses connections is logged; the post is saved all the same."""
    settings.SITE_URL = "https://news.example"
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": "http://127.0.0.1:9/"}
    post = make_post()
    thread = announce(post.pk)
    thread.join(10)
    assert Post.objects.filter(pk=post.pk).exists()
    assert "WebSub ping to http://127.0.0.1:9/ failed" in caplog.text


def test_hub_errors_are_logged(settings, caplog):
    """A hub answering 500 is logged as a failed ping."""
    server = Hub(status=500)
    try:
        ping_hub(server.url, ["https://news.example/feed/"]).join(10)
    finally:
        server.close()
    assert "failed" in caplog.text


def test_no_ping_without_a_hub(settings):
    """Without WEBSUB_HUB nothing is sent."""
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": ""}
    assert announce(make_post().pk) is None
