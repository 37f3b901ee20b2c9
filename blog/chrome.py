"""The chrome every public page shares, rendered once per site state (issue 8).

The site header (skip link, the sections' navigation, the search form) and
the footer (static pages, archive, the site's feeds) cost about half a
millisecond of template work on every page (addresses, translations, a loop
over the sections), a fifth of a page's render path. What they show depends
on the settings, the sections and footer pages, the language, the URLconf
and script prefix, the page's current section and, for the footer's absolute
feed links, the public origin: nothing a post changes.

Every section or page change touches SiteState (blog/caching.py), and the
request's validator reads it (`SITE_STATE`); so each partial is rendered from
its template once per process for each SiteState time and the other inputs
named in its key, and copied from then on. A renamed section changes the
key on the next request in every worker; a new deploy is a new process; a
setting changed in tests clears the memo. A request whose validator read no
SiteState (an editor's, an error page) and a search page (the box repeats
the query) render the partials live, as do error pages (Django's handlers render them after
the view, outside the validator's request).

Each partial is rendered in a context holding only what its key names, so
its template cannot come to depend on anything else unnoticed.
"""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from blog.caching import SITE_STATE, nav_sections
from blog.metadata import absolute_uri
from blog.pages import footer_pages

HEADER_TEMPLATE = "_site_header.html"
FOOTER_TEMPLATE = "_site_footer.html"
DESK_TEMPLATE = "blog/_desk.html"
# Where a desk's lines go in its frame: escaped, no section name can hold it.
ITEMS = mark_safe("<!--dateline:items-->")

_memo: dict[tuple, SafeString | tuple] = {}
# A key per current section and origin for each SiteState time; old times'
# entries are dropped wholesale when it fills.
MAX_MEMO = 512


def _remembered(key: tuple | None, render) -> SafeString:
    if key is None:
        return render()
    try:
        return _memo[key]
    except KeyError:
        html = render()
        if len(_memo) >= MAX_MEMO:
            _memo.clear()
        _memo[key] = html
        return html


def _key(memo: bool, name: str, *inputs) -> tuple | None:
    """What a partial depends on besides its template, or None: render live."""
    state = SITE_STATE.get() if memo else None
    if state is None:
        return None
    site = settings.DATELINE["SITE_NAME"]
    return (
        name,
        state,
        get_language(),
        get_urlconf(),
        get_script_prefix(),
        site,
        *inputs,
    )


def site_header(
    nav_section=None, nav_current="page", query="", memo=True
) -> SafeString:
    """The skip link and the site header; `nav_section` (a section's id) is
    marked as current with `aria-current="<nav_current>"`."""

    def render():
        context = {
            "site_name": settings.DATELINE["SITE_NAME"],
            "nav_sections": nav_sections(),
            "nav_section": nav_section,
            "nav_current": nav_current,
            "query": query,
        }
        return mark_safe(render_to_string(HEADER_TEMPLATE, context))  # noqa: S308

    key = _key(memo and not query, HEADER_TEMPLATE, nav_section, nav_current)
    return _remembered(key, render)


def site_feeds(request) -> tuple:
    """The site's own feeds (blog/listings.LatestListing), which every page
    links in its <head> and footer. They depend on the settings, language,
    URLconf, script prefix and origin alone, so they are remembered under
    those."""
    from blog.listings import LatestListing

    key = (
        "site feeds",
        get_language(),
        get_urlconf(),
        get_script_prefix(),
        settings.DATELINE["SITE_NAME"],
        absolute_uri(request, "/"),
    )
    return _remembered(key, lambda: tuple(LatestListing().feed_links(request)))


def site_footer(request, memo=True) -> SafeString:
    """The site footer: static pages, the archive and the site's own feeds
    (absolute addresses: the origin is part of its key)."""

    def render():
        feeds = () if request is None else site_feeds(request)
        context = {
            "site_name": settings.DATELINE["SITE_NAME"],
            "footer_pages": footer_pages(),
            "site_feeds": feeds,
        }
        return mark_safe(render_to_string(FOOTER_TEMPLATE, context))  # noqa: S308

    if request is None:
        return render()
    key = _key(memo, FOOTER_TEMPLATE, absolute_uri(request, "/"))
    return _remembered(key, render)


def desk(section, items: str) -> SafeString:
    """One desk of the home page's "From the desks": its section's heading
    and list around `items` (its posts' lines, blog/cards.desk_list)."""

    def render():
        context = {"section": section, "items": ITEMS}
        head, tail = render_to_string(DESK_TEMPLATE, context).split(ITEMS)
        return head, tail

    head, tail = _remembered(_key(True, DESK_TEMPLATE, section.pk), render)
    return mark_safe(head + items + tail)  # noqa: S308 - escaped by its template


@receiver(setting_changed)
def forget(**kwargs):
    """Settings changed (tests): every partial is rendered again."""
    _memo.clear()
