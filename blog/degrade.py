"""When the database is away: serve what the cache holds, 503 the rest (issue 11).

A reader should never see a 500 because a dependency is down. While the
database does not answer:

- a public page this node has served before is answered from its last good
  copy, kept in the shared cache under its address (pages are keyed by a
  validator read from the database, which is exactly what is missing now);
- anything else, even an address that would be a 404, answers 503 with the
  site's own error page (templates/503.html, which needs no database) and
  `Retry-After`, so browsers, crawlers and load balancers come back later;
- each process that finds the database gone answers that way at once, for
  RETRY_DATABASE_SECONDS, instead of making every request wait out the connect
  timeout again (a frozen server would otherwise cost seconds per request);
  then it tries again, so recovery needs nobody. /healthz always really asks.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections import OrderedDict

from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views import defaults

logger = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
RETRY_DATABASE_SECONDS = 5
# Last good copies outlive any outage worth riding out.
STALE_COPY_SECONDS = 24 * 60 * 60
# Query parameters a cached public page may carry; other addresses (searches,
# tracking parameters) are not worth a copy each.
STALE_PARAMS = {"page"}
# Each process remembers which version of a page it last stored, so the copy is
# written once per page version, not on every request (bounded, oldest dropped).
STORED_VERSIONS_MAX = 2000


def is_database_down(error: BaseException | None) -> bool:
    return isinstance(error, DATABASE_DOWN)


def lost_connection() -> bool:
    """The database cannot be reached (no connection, or one closed by a
    timeout), as opposed to one query failing on a working connection, which
    must not make the whole process stop asking."""
    raw = connection.connection
    return raw is None or bool(getattr(raw, "closed", False))


def unavailable() -> HttpResponse:
    """The site's 503 page, rendered without touching the database."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


def _stale_key(request) -> str | None:
    if request.method not in {"GET", "HEAD"} or set(request.GET) - STALE_PARAMS:
        return None
    address = f"{request.get_host()}{request.get_full_path()}"
    return "stale:" + hashlib.blake2b(address.encode(), digest_size=16).hexdigest()


def _is_public_copy(response) -> bool:
    cache_control = response.headers.get("Cache-Control", "")
    return (
        response.status_code == 200
        and "public" in cache_control
        and "ETag" in response.headers
        and not response.streaming
        and not response.cookies
    )


class DatabaseOutageMiddleware:
    """Keeps a last good copy of public pages and answers from it, or with a
    503, when a view finds the database down. Place it last in MIDDLEWARE so
    the copy is the view's own response, before per-request headers."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.stored_versions: OrderedDict[str, str] = OrderedDict()
        self.database_down_until = 0.0

    def __call__(self, request):
        if time.monotonic() < self.database_down_until and request.path != reverse(
            "healthz"
        ):
            return self.without_database(request)
        response = self.get_response(request)
        # In this order: a 304 or a private page costs no key (issue 8).
        key = _stale_key(request) if _is_public_copy(response) else None
        if key:
            self._remember(key, response)
        return response

    def _remember(self, key, response) -> None:
        etag = response.headers["ETag"]
        if self.stored_versions.get(key) == etag:
            self.stored_versions.move_to_end(key)
            return
        cache.set(key, response, STALE_COPY_SECONDS)
        if not getattr(cache, "available", True):
            return  # the cache is away: store it again when it is back
        self.stored_versions[key] = etag
        if len(self.stored_versions) > STORED_VERSIONS_MAX:
            self.stored_versions.popitem(last=False)

    def process_exception(self, request, exception):
        if not is_database_down(exception):
            return None
        logger.warning(
            "Database unavailable: %s %s (%s)",
            request.method,
            request.path,
            type(exception).__name__,
        )
        if lost_connection():
            self.database_down_until = time.monotonic() + RETRY_DATABASE_SECONDS
        return self.without_database(request)

    def without_database(self, request):
        """The last good copy of this page, or the 503 page."""
        key = _stale_key(request)
        copy = cache.get(key) if key else None
        if copy is not None:
            copy.headers["X-Dateline-Stale"] = "database-unavailable"
            return copy
        return unavailable()


def page_not_found(request, exception):
    """Django's 404 page; a 503 if the database it shows (navigation) is down."""
    try:
        return defaults.page_not_found(request, exception)
    except DATABASE_DOWN:
        return unavailable()


def server_error(request):
    """A 503 when the failure was the database (in a middleware, say), else
    Django's 500 page (templates/500.html)."""
    if is_database_down(sys.exc_info()[1]):
        return unavailable()
    return defaults.server_error(request)
