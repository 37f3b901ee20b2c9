"""WebSub: tell the hub which feeds changed when a post or story update is saved.

A write that spans more than one model's concerns (publishing, then pinging a
hub about every feed the post appears in) lives here, per DESIGN.md.
A change is written down with the save (a `Ping` row, in the same
transaction) and sent by the job queue after the commit, with a short timeout
and retries with back-off (blog/tasks.py): a slow or broken hub costs the
editor nothing, and a worker that dies mid-ping does not lose it.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.urls import reverse

logger = logging.getLogger(__name__)

PING_TIMEOUT_SECONDS = 5
FORMATS = ("rss", "atom", "json")


def feed_urls_for(post) -> list[str]:
    """Absolute URLs of every feed `post` appears in: the site, its section,
    each of its tags, and its own story feed, in all three formats.
    (Tag intersections are unbounded in number; hubs learn them from their
    subscribers' own fetches.)"""
    listings = [("latest", {}), ("section", {"slug": post.section.slug})]
    listings += [("tag", {"slugs": [tag.slug]}) for tag in post.tags.all()]
    day = post.get_absolute_url().strip("/").split("/")
    listings.append(
        ("post", {"year": day[0], "month": day[1], "day": day[2], "slug": post.slug})
    )
    return [
        settings.SITE_URL + reverse(f"blog:{name}_feed_{fmt}", kwargs=kwargs)
        for name, kwargs in listings
        for fmt in FORMATS
    ]


class PingFailed(Exception):
    """The hub could not be reached or refused the ping: worth retrying."""


def hub_url() -> str | None:
    """The configured hub, if pings can be sent (an http(s) hub and SITE_URL)."""
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
    return hub


def ping_hub(hub: str, urls: list[str]) -> int:
    """POST hub.mode=publish with every changed feed URL; the hub's status, or
    PingFailed. Runs in a queue job (blog/tasks.py), never in a request."""
    body = urllib.parse.urlencode(
        [("hub.mode", "publish"), *(("hub.url", url) for url in urls)]
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    # The hub is the operator's own http(s) setting (checked in hub_url).
    request = urllib.request.Request(hub, data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=PING_TIMEOUT_SECONDS) as answer:  # noqa: S310
            logger.info(
                "WebSub hub %s accepted %d feed(s): %s", hub, len(urls), answer.status
            )
            return answer.status
    except (OSError, urllib.error.URLError) as error:
        raise PingFailed(f"WebSub ping to {hub} failed: {error}") from error


def feed_urls_of(post_id: int) -> list[str]:
    """The feeds of a post as it is now, or [] if it is gone."""
    from blog.models import Post

    post = (
        Post.objects.select_related("section")
        .prefetch_related("tags")
        .filter(pk=post_id)
        .first()
    )
    return feed_urls_for(post) if post is not None else []


def announce(post_id: int, key: str | None = None, urls: list[str] | None = None):
    """Record that the hub must hear about a post's feeds (it went live,
    changed, or left them); the queue sends it once the transaction commits.
    `key` names a change that must be told once whoever notices it (going
    live at a publication time, deletion); without one each call is a change."""
    from blog.tasks import record_ping

    if hub_url() is None:
        return None
    return record_ping(post_id, key, urls or [])


def announce_on_commit(post_id: int) -> None:
    """A change to a post's feeds (kept for callers that only know the id)."""
    announce(post_id)
