"""A Redis cache that degrades to "no cache" instead of failing (issue 11).

Pages are cached to save work, never because they need the cache: when Redis
goes away, every operation answers as a miss (reads find nothing, writes are
dropped), so readers get pages rendered afresh, slower but never a 5xx.

Bounds: the socket timeouts are short (a Redis on the same network answers in
a millisecond), and after a failure the backend does not try Redis again for
`retry_after` seconds, so an outage costs one timeout per process per interval,
not one per request. Recovery needs nobody: the first call after the interval
tries Redis again.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import wraps

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)

# What each operation answers while Redis is away: what it answers for a key
# that is not there (Django's cache contract), so callers need no new cases.
MISSES = {
    "get": lambda key, default=None, *args, **kwargs: default,
    "get_many": lambda *args, **kwargs: {},
    "has_key": lambda *args, **kwargs: False,
    "set": lambda *args, **kwargs: None,
    "set_many": lambda *args, **kwargs: [],
    "add": lambda *args, **kwargs: False,
    "touch": lambda *args, **kwargs: False,
    "delete": lambda *args, **kwargs: False,
    "delete_many": lambda *args, **kwargs: None,
    "clear": lambda *args, **kwargs: None,
    # A counter nobody can read counts from nothing: throttles built on incr
    # fail open while Redis is down rather than locking every reader out.
    "incr": lambda key, delta=1, *args, **kwargs: delta,
}


class DegradingRedisCache(RedisCache):
    """Django's RedisCache, where an unreachable Redis is a cache miss.

    OPTIONS: `retry_after` (seconds between attempts while Redis is down,
    default 2); `socket_timeout` and `socket_connect_timeout` default to 0.25 s
    and go to redis-py with the other options.
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 2.0))
        options.setdefault("socket_timeout", 0.25)
        options.setdefault("socket_connect_timeout", 0.25)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """False while this process is waiting out a Redis failure."""
        return time.monotonic() >= self._down_until

    def ping(self) -> bool:
        """Ask Redis itself (for /healthz), whatever the retry interval says."""
        try:
            ok = bool(self._cache.get_client().ping())
        except UNAVAILABLE:
            self._mark_down("ping")
            return False
        self._mark_up()
        return ok

    def _mark_down(self, operation: str) -> None:
        with self._lock:
            if self.available:
                logger.warning(
                    "Cache unavailable (%s failed); serving uncached for %.1f s",
                    operation,
                    self.retry_after,
                )
            self._down_until = time.monotonic() + self.retry_after

    def _mark_up(self) -> None:
        with self._lock:
            self._down_until = 0.0


def _degrading(name, miss):
    original = getattr(RedisCache, name)

    @wraps(original)
    def method(self, *args, **kwargs):
        if not self.available:
            return miss(*args, **kwargs)
        try:
            return original(self, *args, **kwargs)
        except UNAVAILABLE:
            self._mark_down(name)
            return miss(*args, **kwargs)

    return method


for _name, _miss in MISSES.items():
    setattr(DegradingRedisCache, _name, _degrading(_name, _miss))
