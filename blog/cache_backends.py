"""A Redis cache that degrades to "no cache" instead of failing (issue 11).

Pages are cached to save work, never because they need the cache: when Redis
goes away, every operation answers as a miss (reads find nothing, writes are
dropped), so readers get pages rendered afresh, slower but never a 5xx.

Bounds: the socket timeouts are short (a Redis on the same network answers in
a millisecond), and after a failure the backend does not try Redis again for
`retry_after` seconds, so an outage costs one timeout per process per interval,
not one per request. Recovery needs nobody: the first call after the interval
tries Redis again.

Speed (issue 8): one redis.Redis client per connection pool, not one per call
as Django builds (each copies ~170 response callbacks, ~0.1 ms); and values
stored under content-addressed keys (`get_lasting`, `set_lasting`: a key
derived from everything the value was made of, as blog/caching.py's page keys
are) are also kept in this process, bounded by bytes, so a worker that holds
one needs no Redis round trip. Such a copy can never be stale: a change makes
a new key, and the old one ages out of the bound.

A page kept in the process is kept as a response, not as its pickle
(`KeptResponse`): each hit gets a copy of the response object around the same
content bytes, where unpickling copied a 230 kB feed's body and rebuilt its
headers on every hit (issue 8). `ProcessCache` does the same for the
per-process cache used without Redis.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections import OrderedDict
from functools import wraps
from http.cookies import SimpleCookie

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.http import HttpResponse
from django.http.response import ResponseHeaders
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


class ReusedClients(RedisCacheClient):
    """Django's Redis client maker, building one redis.Redis per connection
    pool and handing it out again (redis.Redis is thread-safe and takes a
    connection from its pool for each command)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class KeptResponse:
    """A cached page held as a response object in this process, handed out as
    copies (`served`): a hit costs no unpickling and no copy of the body.

    The response kept is one read back from the page's pickle, never the one
    a request is still answering with, so a copy is what a hit on the pickle
    would have given; each copy has its own headers, cookies and content
    list, so what a request adds to its response (ETag, Vary,
    X-Request-ID…) never reaches the kept one. Only plain in-memory responses
    without cookies are kept this way (`keeps`)."""

    __slots__ = ("response", "size")

    def __init__(self, response: HttpResponse, size: int):
        response.content = response.content  # one bytes object for every copy
        self.response = response
        self.size = size

    @staticmethod
    def keeps(value) -> bool:
        return (
            isinstance(value, HttpResponse)
            and not value.streaming
            and not value.cookies
            and not value._resource_closers
        )

    def served(self) -> HttpResponse:
        kept = self.response
        response = object.__new__(type(kept))
        response.__dict__.update(kept.__dict__)
        headers = ResponseHeaders.__new__(ResponseHeaders)
        headers._store = kept.headers._store.copy()
        response.headers = headers
        response.cookies = SimpleCookie()
        response._resource_closers = []
        response._container = [kept._container[0]]
        return response

    def pickled(self) -> bytes:
        return pickle.dumps(self.response, pickle.HIGHEST_PROTOCOL)


def keep(pickled: bytes, value, loads=pickle.loads):
    """What a process keeps of `value`, whose pickle is `pickled`: a
    KeptResponse for a page (read back from the pickle, so the caller's
    `value` stays the caller's), else the pickle itself."""
    if KeptResponse.keeps(value):
        return KeptResponse(loads(pickled), len(pickled))
    return pickled


def kept_value(kept, loads=pickle.loads):
    """The value a process keeps under a content-addressed key, ready to use."""
    if isinstance(kept, KeptResponse):
        return kept.served()
    return loads(kept)


class LocalCopies:
    """Values by key (a pickle, or a KeptResponse), least recently used
    dropped first, within `max_bytes` (a value larger than an eighth of that
    is not kept; a kept response counts as its pickle's size)."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.hits = self.misses = 0
        self._values: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | KeptResponse | None:
        with self._lock:
            value = self._values.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._values.move_to_end(key)
            return value

    def put(self, key: str, value: bytes | KeptResponse) -> None:
        if _size(value) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._values.pop(key, None)
            self.size += _size(value) - (_size(old) if old is not None else 0)
            self._values[key] = value
            while self.size > self.max_bytes:
                _, dropped = self._values.popitem(last=False)
                self.size -= _size(dropped)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.size = 0

    def stats(self) -> dict:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses,
                    "entries": len(self._values), "bytes": self.size}  # fmt: skip


def _size(value) -> int:
    return value.size if isinstance(value, KeptResponse) else len(value)


class DegradingRedisCache(RedisCache):
    """Django's RedisCache, where an unreachable Redis is a cache miss.

    OPTIONS: `retry_after` (seconds between attempts while Redis is down,
    default 2); `local_bytes` (the bound of this process's copies of
    content-addressed values, default 32 MiB; 0 keeps none); `socket_timeout`
    and `socket_connect_timeout` default to 0.25 s and go to redis-py with the
    other options.
    """

    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 2.0))
        self.local = LocalCopies(int(options.pop("local_bytes", 32 * 2**20)))
        options.setdefault("socket_timeout", 0.25)
        options.setdefault("socket_connect_timeout", 0.25)
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = ReusedClients
        self._down_until = 0.0
        self._lock = threading.Lock()
        # Which outage each copy was last given to (or read from) Redis
        # after, with its timeout. Redis keeps nothing across a restart: after
        # an outage, a copy this worker serves from its own memory is given
        # to Redis again on its next hit, so a Redis that comes back fills
        # again even when every worker already holds the pages it serves.
        self._outages = 0
        self._in_redis: dict[str, tuple[int, int | None]] = {}

    def get_lasting(self, key, default=None, version=None):
        """`get` for a content-addressed key (its value never changes): from
        this process's copy when it has one, else from Redis, then kept. While
        Redis is down, copies are still served (they cannot be stale)."""
        key = self.make_key(key, version=version)  # ours (a digest): valid
        kept = self.local.get(key)
        if kept is not None:
            if self.available:
                outage, timeout = self._in_redis.get(key, (-1, self.default_timeout))
                if outage != self._outages:
                    data = kept.pickled() if isinstance(kept, KeptResponse) else kept
                    self._share(key, data, timeout)
            return kept_value(kept, self._cache._serializer.loads)
        if not self.available:
            return default
        try:
            data = self._cache.get_client(key).get(key)
        except UNAVAILABLE:
            self._mark_down("get")
            return default
        if data is None:
            return default
        value = self._cache._serializer.loads(data)
        if isinstance(data, bytes):
            if KeptResponse.keeps(value):  # read from Redis: nobody else holds it
                kept = KeptResponse(value, len(data))
                value = kept.served()
            else:
                kept = data
            self.local.put(key, kept)
            self._note_in_redis(key, self.default_timeout)
        return value

    def set_lasting(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        """`set` for a content-addressed key: stored in Redis for every worker
        and machine, and kept in this process."""
        timeout = self.get_backend_timeout(timeout)
        if timeout == 0:  # Django's contract: expire at once
            return self.delete(key, version=version)
        key = self.make_and_validate_key(key, version=version)
        data = self._cache._serializer.dumps(value)
        if isinstance(data, bytes):  # an int is stored as itself
            self.local.put(key, keep(data, value, self._cache._serializer.loads))
        if not self.available:
            self._in_redis[key] = (-1, timeout)  # given to Redis when it is back
            return
        self._share(key, data, timeout)

    def _share(self, key, data, timeout) -> None:
        try:
            self._cache.get_client(key, write=True).set(key, data, ex=timeout)
        except UNAVAILABLE:
            self._mark_down("set")
            self._in_redis[key] = (-1, timeout)
        else:
            self._note_in_redis(key, timeout)

    def _note_in_redis(self, key, timeout) -> None:
        if len(self._in_redis) >= 10_000:  # bounded: forgetting costs one write
            self._in_redis.clear()
        self._in_redis[key] = (self._outages, timeout)

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
            self._outages += 1  # Redis may come back empty

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

_clear_redis = DegradingRedisCache.clear


def _clear(self):
    """Every key: in Redis, and this process's copies."""
    self.local.clear()
    return _clear_redis(self)


DegradingRedisCache.clear = _clear


class ProcessCache(LocMemCache):
    """Django's per-process cache (LocMemCache), where a page stored under a
    content-addressed key (`set_lasting`, blog/caching.py) is kept as a
    response and each hit gets a copy (`KeptResponse`), not an unpickled
    body. Every other value is pickled, as LocMemCache does; `get` reads
    both, so nothing else needs to know."""

    def get(self, key, default=None, version=None):
        return self._read(self.make_and_validate_key(key, version=version), default)

    def get_lasting(self, key, default=None, version=None):
        # Content-addressed keys are ours (a prefix and a hex digest): valid.
        return self._read(self.make_key(key, version=version), default)

    def set_lasting(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        kept = keep(pickle.dumps(value, self.pickle_protocol), value)
        with self._lock:
            self._set(key, kept, timeout)

    def _read(self, key, default):
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                return default
            kept = self._cache[key]
            self._cache.move_to_end(key, last=False)
        return kept_value(kept)
