"""/healthz: can this node serve readers, and how is each dependency? (issue 11)

A load balancer reads the status code: 200 while the node can serve readers
(the database answers; a missing cache, storage or queue makes pages slower or
imageless, not absent), 503 when it cannot. People read the body: one word per
dependency, never an address, a message or a stack trace (those go to the log).
Each check is bounded by its client's own timeouts (database connect and
statement timeouts, the cache's short socket timeouts).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.apps import apps
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"


def database_state() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def cache_state() -> str:
    ping = getattr(cache, "ping", None)
    if ping is None:
        # A per-process cache is always there; it just is not shared.
        return "local"
    return OK if ping() else UNAVAILABLE


# The storage client's own timeouts and retries suit uploads, not a health
# check a load balancer gives a few seconds: the lookup gets this long.
STORAGE_DEADLINE_SECONDS = 2
_storage_probe = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


def storage_state() -> str:
    # A lookup that needs no particular file: local disk or an S3 HEAD request.
    probe = _storage_probe.submit(default_storage.exists, "healthz-probe")
    try:
        probe.result(timeout=STORAGE_DEADLINE_SECONDS)
    except FutureTimeout:
        logger.warning("Health check: storage did not answer within %s s",
                       STORAGE_DEADLINE_SECONDS)  # fmt: skip
        return UNAVAILABLE
    return OK


def queue_state() -> str:
    if not apps.is_installed("django_tasks"):
        return "absent"
    from django_tasks import task_backends

    backend = task_backends["default"]
    if (
        apps.is_installed("django_tasks_db")
        and type(backend).__name__ == "DatabaseBackend"
    ):
        # The database backend's queue is a table: reading it is reaching it.
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.only("pk").first()
    return OK


@dataclass(frozen=True)
class Dependency:
    name: str
    state: Callable[[], str]
    needed_by_readers: bool
    # A dependency that lives in another (the database queue) is unavailable
    # with it, without a second wait on the same dead server.
    lives_in: str | None = None


DEPENDENCIES = (
    Dependency("database", database_state, needed_by_readers=True),
    Dependency("cache", cache_state, needed_by_readers=False),
    Dependency("storage", storage_state, needed_by_readers=False),
    Dependency("queue", queue_state, needed_by_readers=False, lives_in="database"),
)


def check(dependency: Dependency, states: dict[str, str]) -> str:
    if dependency.lives_in and states.get(dependency.lives_in) == UNAVAILABLE:
        return UNAVAILABLE
    try:
        return dependency.state()
    except Exception:  # any failure of a dependency is its state, not ours
        logger.exception("Health check: %s does not answer", dependency.name)
        return UNAVAILABLE


@require_safe
def healthz(request):
    """200 while the node can serve readers, 503 when it cannot; each
    dependency's state by name."""
    states: dict[str, str] = {}
    for dependency in DEPENDENCIES:
        states[dependency.name] = check(dependency, states)
    serving = all(
        states[dependency.name] == OK
        for dependency in DEPENDENCIES
        if dependency.needed_by_readers
    )
    degraded = any(state == UNAVAILABLE for state in states.values())
    status = "unavailable" if not serving else "degraded" if degraded else "ok"
    response = JsonResponse(
        {"status": status, **states}, status=200 if serving else 503
    )
    add_never_cache_headers(response)
    return response
