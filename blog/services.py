"""WebSub: tell the hub which feeds changed when a post or story update is saved.

A write that spans more than one model's concerns (publishing, then pinging a
hub about every feed the post appears in) lives here, per DESIGN.md.
The ping runs after the transaction commits, in a background thread with a
short timeout: a slow or broken hub costs the editor nothing, and a failure
is logged, never raised.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 5


def feed_urls_for(post) -> list[str]:
    """Absolute URLs of every feed `post` appears in, in every format (from
    the listing and feed-format registries, blog/listings.py)."""
    from blog.listings import feed_urls_for

    return feed_urls_for(post)


def ping_hub(hub: str, urls: list[str]) -> threading.Thread:
    """POST hub.mode=publish with every changed feed URL, in the background."""
    body = urllib.parse.urlencode(
        [("hub.mode", "publish"), *(("hub.url", url) for url in urls)]
    ).encode()

    def send():
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        # The hub is the operator's own http(s) setting (checked in announce).
        request = urllib.request.Request(hub, data=body, headers=headers)  # noqa: S310
        opener = urllib.request.urlopen  # http(s) only, checked in announce()
        try:
            with opener(request, timeout=PING_TIMEOUT_SECONDS) as response:
                logger.info(
                    "WebSub hub %s accepted %d feed(s): %s",
                    hub,
                    len(urls),
                    response.status,
                )
        except (OSError, urllib.error.URLError) as error:
            logger.warning("WebSub ping to %s failed: %s", hub, error)

    thread = threading.Thread(target=send, name="websub-ping", daemon=True)
    thread.start()
    return thread


def announce(post_id: int) -> threading.Thread | None:
    """Ping the hub about a post's feeds (it just went live, changed, or left
    them), if a hub and SITE_URL are set."""
    from blog.models import Post

    hub = settings.DATELINE["WEBSUB_HUB"]
    if not hub:
        return None
    if not hub.startswith(("http://", "https://")):
        logger.warning("WEBSUB_HUB must be an http(s) URL, not %r", hub)
        return None
    if not settings.SITE_URL:
        logger.warning(
            "WEBSUB_HUB is set but SITE_URL is not: hubs need absolute feed URLs"
        )
        return None
    post = (
        Post.objects.select_related("section")
        .prefetch_related("tags")
        .filter(pk=post_id)
        .first()
    )
    if post is None:
        return None
    return ping_hub(hub, feed_urls_for(post))


def announce_on_commit(post_id: int) -> None:
    if settings.DATELINE["WEBSUB_HUB"]:
        transaction.on_commit(lambda: announce(post_id))
