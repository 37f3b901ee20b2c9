"""An article's own parts, rendered ahead of requests (issue 8).

Most of an article page depends on its post's row alone: its <head> metadata
(Open Graph, JSON-LD, feed autodiscovery), breadcrumb, header, byline, lead
image, table of contents, body, corrections, tags and story feeds
(templates/blog/_article.html). The rest is live on every request
(templates/blog/post_detail.html): the preview banner, the "Updated" time and
the story updates that have come due (both move with the clock), and the
neighbours and related posts (other posts' rows). `LIVE_PART` marks where the
live parts go.

Absolute URLs are rendered against FEED_ORIGIN, as feed HTML is, and each
request swaps in its own origin (SITE_URL, or its host when that is unset).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, to_locale

from blog.metadata import Page, absolute_uri, article_page
from blog.models import FEED_ORIGIN

LIVE_PART = "<!--dateline:live-->"
# The pieces of _article.html between its markers: the <head> metadata, the
# header up to the "Updated" time, the rest of the header and the lead image
# (story updates follow), the body down to the tags, and the story's feeds.
PIECES = 5
# Pieces that carry absolute URLs (never the body: an author's own link to
# FEED_ORIGIN stays as written).
ABSOLUTE = (0, 4)


class _OriginRequest(HttpRequest):
    """A request from FEED_ORIGIN, for absolute URLs rendered ahead of one."""

    scheme = FEED_ORIGIN.split("://")[0]

    def get_host(self):
        return FEED_ORIGIN.split("://")[1]


def article_feeds(request, post):
    """The story's feeds, then its section's and the site's: the order of the
    page's autodiscovery links (the story's are also listed at its foot)."""
    from blog.listings import LatestListing, SectionListing, StoryListing

    story = StoryListing(post).feed_links(request)
    return story, [
        *story,
        *SectionListing(post.section).feed_links(request),
        *LatestListing().feed_links(request),
    ]


def render_article(post) -> str:
    """The post's own parts, with LIVE_PART where live parts go."""
    request = _OriginRequest()
    meta = article_page(request, post)
    feeds, meta.feeds = article_feeds(request, post)
    return render_to_string(
        "blog/_article.html",
        {
            "post": post,
            "meta": meta,
            "feeds": feeds,
            "site_name": settings.DATELINE["SITE_NAME"],
            "og_locale": to_locale(get_language()),
        },
    )


def article_pieces(post, request, html: str | None = None) -> list[SafeString]:
    """The post's own parts for this request, in PIECES pieces, from `html`
    (as render_article rendered it) or rendered now."""
    pieces = (html or render_article(post)).split(LIVE_PART)[:PIECES]
    origin = absolute_uri(request, "/")[:-1]
    for index in ABSOLUTE:
        pieces[index] = pieces[index].replace(FEED_ORIGIN, origin)
    return [mark_safe(piece) for piece in pieces]  # noqa: S308 - our template's


def page_chrome(post) -> Page:
    """What base.html reads of an article's metadata outside its <head> block
    (which comes with the article's pieces): its title, and its section as
    the navigation's current one."""
    return Page(
        title=post.title,
        description=post.summary,
        canonical="",
        nav_section=post.section_id,
        nav_current="true",
    )
