"""Conditional GET and a shared page cache for anonymous readers.

Each cacheable view names a *validator*: a function that reads, in one cheap
query, the newest change among the rows the page shows. The ETag, the
Last-Modified header and the cache key all derive from it, so:

- a reader's `If-None-Match` / `If-Modified-Since` gets a 304 before the view
  runs at all;
- an edit in the admin changes the validator, hence the key, on the very next
  request in every worker, whatever the cache backend (Redis shared by all
  workers, or a per-process cache that can then only ever miss);
- a scheduled post going live changes the validator by itself, because its
  `published_at` enters the newest-change computation the moment it is due —
  no job, no cron.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Subquery
from django.http import QueryDict
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date

from blog.models import Post, SiteState, StoryUpdate

CODE_FOLDERS = (
    ("blog", "*.py"),
    ("templates", "*.html"),
    ("static", "*.*"),
    ("locale", "*.mo"),  # a corrected translation is a new representation
)


def _code_files():
    root = Path(settings.BASE_DIR)
    for folder, pattern in CODE_FOLDERS:
        for path in sorted((root / folder).rglob(pattern)):
            yield root, path


@functools.cache
def code_fingerprint() -> str:
    """A hash of the code and templates that render pages, read once per
    process: a new release never serves (or 304s) what the old one cached,
    and two machines running the same release agree."""
    digest = hashlib.blake2b(digest_size=8)
    for root, path in _code_files():
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def code_modified() -> datetime:
    """When that code last changed: the floor of every Last-Modified, so a
    client revalidating by date alone also refetches after a release."""
    newest = max(path.stat().st_mtime for _, path in _code_files())
    return datetime.fromtimestamp(newest, tz=UTC)


def newest_change(listing, updates=None) -> datetime:
    """Newest change in a listing of posts (a Post queryset, not yet limited to
    published()), its due story `updates`, and site-wide removals or renames —
    in a single query.

    Each part is an ORDER BY … LIMIT 1 that an index answers, so the cost does
    not grow with the archive. Edits to scheduled posts count too: that only
    refreshes a page a little early, while reading updated_at among due posts
    alone would need a scan.
    """
    newest = {
        "post_updated": listing.marked_published()
        .order_by("-updated_at")
        .values("updated_at")[:1],
        "post_published": listing.published()
        .order_by("-published_at")
        .values("published_at")[:1],
    }
    if updates is not None:
        newest["update_published"] = updates.order_by("-published_at").values(
            "published_at"
        )[:1]
    row = (
        SiteState.objects.filter(pk=1)
        .annotate(**{name: Subquery(query) for name, query in newest.items()})
        .values("changed_at", *newest)
        .first()
    )
    if row is None:  # migrate makes the row; a bare flush can lose it
        SiteState.touch()
        return newest_change(listing, updates)
    return max(value for value in row.values() if value is not None)


def site_changed(request, *args, **kwargs) -> datetime:
    """Validator of pages that show a bit of everything (home, article, nav)."""
    return newest_change(Post.objects.all(), StoryUpdate.objects.published())


def settings_fingerprint() -> str:
    """The settings that change what pages say (page size, feed length,
    names, public address, time zone): changing one is a new representation."""
    relevant = (
        sorted(settings.DATELINE.items()),
        settings.SITE_URL,
        settings.TIME_ZONE,
        settings.LANGUAGE_CODE,
    )
    return hashlib.blake2b(repr(relevant).encode(), digest_size=8).hexdigest()


def _etag(changed: datetime, variant: str = "") -> str:
    raw = (
        f"{code_fingerprint()}|{settings_fingerprint()}|{changed.isoformat()}|{variant}"
    )
    return '"' + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() + '"'


def has_session(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


# The only query parameters public views read; the cache key (and the links
# pages render) ignore the rest, so ?utm_source=… cannot multiply entries.
PAGE_PARAMS = ("page", "q", "p")  # p: sitemap pages


def page_params(request) -> QueryDict:
    """The request's query string, reduced to the parameters views read."""
    params = QueryDict(mutable=True)
    for name in PAGE_PARAMS:
        if name in request.GET:
            params.setlist(name, request.GET.getlist(name)[:1])
    return params


def public_cache(validator=site_changed, variant=None):
    """Serve a view conditionally and from the shared cache to anonymous readers.

    Requests carrying a session (editors) skip the cache and get never-cache
    headers, so a staff preview of a draft is never stored anywhere.
    `variant(request)` names the representation when a view answers the same
    URL in more than one way (feeds: for a browser or for a reader); it goes
    into the ETag and the cache key, and the response varies on Accept.
    """
    vary = ["Cookie", "Accept"] if variant else ["Cookie"]

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in {"GET", "HEAD"} or has_session(request):
                response = view(request, *args, **kwargs)
                if has_session(request):
                    add_never_cache_headers(response)
                    patch_vary_headers(response, ["Cookie"])
                return response

            changed = max(validator(request, *args, **kwargs), code_modified())
            etag = _etag(changed, variant(request) if variant else "")
            response = get_conditional_response(
                request, etag=etag, last_modified=int(changed.timestamp())
            )
            if response is None:
                key = (
                    "page:"
                    + hashlib.blake2b(
                        f"{etag}|{request.path}?{page_params(request).urlencode()}".encode(),
                        digest_size=16,
                    ).hexdigest()
                )
                response = cache.get(key)
                if response is None:
                    response = view(request, *args, **kwargs)
                    if hasattr(response, "render"):
                        response = response.render()
                    if response.status_code != 200:
                        return response
                    cache.set(key, response)
            response.headers["ETag"] = etag
            response.headers["Last-Modified"] = http_date(changed.timestamp())
            patch_cache_control(
                response,
                public=True,
                max_age=0,
                s_maxage=settings.DATELINE["CDN_MAX_AGE"],
                must_revalidate=True,
            )
            patch_vary_headers(response, vary)
            return response

        return wrapped

    return decorator
