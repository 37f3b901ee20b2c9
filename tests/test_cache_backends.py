"""Redis going away is a cache miss, never an error, and the cache comes back
by itself (blog/cache_backends.py, issue 11); content-addressed values are also
kept in the process, within a bound, and one redis client serves every call;
a page kept in the process is handed out as copies of one response, not
unpickled for every hit (issue 8). Against a real redis-server."""

import time

import pytest
from django.http import HttpResponse, HttpResponseGone

from blog.cache_backends import DegradingRedisCache, LocalCopies, ProcessCache
from tests.conftest import require_tool, which
from tests.processes import OwnRedis, free_port, wait_until


def backend(url, retry_after=1.0):
    return DegradingRedisCache(url, {"OPTIONS": {"retry_after": retry_after}})


@pytest.fixture
def redis_server(tmp_path):
    require_tool(which("redis-server") is not None, "redis-server is not installed")
    server = OwnRedis(tmp_path)
    yield server
    server.stop()


def test_an_unreachable_redis_answers_every_operation_as_a_miss():
    """With nothing listening, reads miss, writes are dropped, counters count
    from nothing, and no call raises."""
    cache = backend(f"redis://127.0.0.1:{free_port()}/0")
    assert cache.get("page") is None
    assert cache.get("page", "fallback") == "fallback"
    assert cache.set("page", b"html") is None
    assert cache.add("page", b"html") is False
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("page") is False
    assert cache.incr("hits") == 1
    assert cache.get_or_set("page", "rendered") == "rendered"
    assert cache.delete("page") is False
    assert cache.ping() is False


def test_content_addressed_values_survive_an_unreachable_redis():
    """What a worker stored under a content-addressed key it can serve again
    with Redis away (the value cannot be stale); nothing raises."""
    cache = backend(f"redis://127.0.0.1:{free_port()}/0")
    assert cache.get_lasting("page:a") is None
    assert cache.set_lasting("page:a", b"html") is None
    assert cache.get_lasting("page:a") == b"html"
    assert cache.get("page:a") is None  # a plain get still asks Redis only
    cache.clear()
    assert cache.get_lasting("page:a") is None


def test_one_redis_client_serves_every_call():
    """Django builds a redis.Redis (~170 callbacks copied) for every call;
    ours builds one per connection pool."""
    cache = backend(f"redis://127.0.0.1:{free_port()}/0")
    client = cache._cache.get_client("a")
    assert cache._cache.get_client("b") is client
    assert cache._cache.get_client("a", write=True) is client


def test_process_copies_are_bounded_by_bytes():
    """The least recently used copies go first; a value larger than an eighth
    of the bound is never kept."""
    copies = LocalCopies(max_bytes=1000)
    for name in "abcde":
        copies.put(name, b"x" * 100)
    copies.get("a")  # recently used: kept
    for name in "fghijk":
        copies.put(name, b"x" * 100)
    assert copies.size <= 1000
    assert copies.get("a") is not None and copies.get("b") is None
    copies.put("big", b"x" * 126)
    assert copies.get("big") is None
    assert copies.stats()["bytes"] == copies.size


def test_an_outage_costs_one_timeout_per_interval_not_one_per_call():
    """While Redis is down, a thousand reads take far less than one socket
    timeout each: the backend waits out the interval before trying again."""
    cache = backend(f"redis://127.0.0.1:{free_port()}/0", retry_after=30)
    started = time.perf_counter()
    for _ in range(1000):
        cache.get("page")
    assert time.perf_counter() - started < 1.0


def test_the_cache_comes_back_when_redis_does(redis_server):
    """Stop Redis: misses. Start it again on the same port: within the retry
    interval, values are stored and read again, with no restart of ours."""
    cache = backend(redis_server.url, retry_after=0.5)
    cache.set("page", "v1")
    assert cache.get("page") == "v1"
    redis_server.stop()
    assert cache.get("page") is None
    cache.set("page", "lost")
    redis_server.start()
    wait_until(lambda: cache.set("page", "v2") is None and cache.get("page") == "v2",
               5, what="the cache is back")  # fmt: skip
    assert cache.ping() is True


def test_content_addressed_values_are_shared_through_redis(redis_server):
    """Stored by one worker, read by another (its own process copy empty);
    each then holds it, and serves it while Redis is stopped."""
    one, two = backend(redis_server.url), backend(redis_server.url)
    one.set_lasting("page:a", {"html": "<p>"})
    assert two.get_lasting("page:a") == {"html": "<p>"}
    assert two.local.stats()["entries"] == 1
    redis_server.stop()
    assert one.get_lasting("page:a") == two.get_lasting("page:a") == {"html": "<p>"}
    assert one.get("page:a") is None


def test_copies_kept_during_an_outage_are_shared_when_redis_is_back(redis_server):
    """A page stored while Redis was down is kept by this worker only; once
    Redis answers again, the next time the worker serves it from its own copy
    it also gives it to Redis, so the other workers and machines get it (a
    Redis that came back filled again only from misses, and workers that
    already held every page never missed)."""
    one, two = backend(redis_server.url, 0.2), backend(redis_server.url, 0.2)
    one.set_lasting("page:a", {"html": "<p>a"})  # given to Redis, then lost
    redis_server.stop()
    one.set_lasting("page:b", {"html": "<p>b"})
    assert one.get_lasting("page:a") == {"html": "<p>a"}
    assert one.get_lasting("page:b") == {"html": "<p>b"}
    redis_server.start()  # empty: Redis keeps nothing across a restart
    time.sleep(0.3)  # past the retry interval
    for key in ("page:a", "page:b"):
        wait_until(lambda key=key: one.get_lasting(key) and two.get_lasting(key),
                   5, what="the copy shared through Redis")  # fmt: skip
    assert two.get_lasting("page:a") == {"html": "<p>a"}
    assert two.get_lasting("page:b") == {"html": "<p>b"}


def page(body=b"<rss>" + b"x" * 200_000 + b"</rss>"):
    response = HttpResponse(body, content_type="application/rss+xml; charset=utf-8")
    response.headers["ETag"] = '"v1"'
    return response


def process_cache():
    return ProcessCache("test-process-cache", {"OPTIONS": {"MAX_ENTRIES": 10}})


@pytest.mark.parametrize(
    "make",
    [process_cache, lambda: backend(f"redis://127.0.0.1:{free_port()}/0")],
    ids=["process", "redis-copies"],
)
def test_a_kept_page_is_handed_out_as_copies_of_one_body(make):
    """Each hit on a page kept in the process gets its own response object,
    with the same status, headers and body, and the body is the very bytes
    object kept (no copy per hit, no unpickling)."""
    cache = make()
    cache.clear()
    stored = page()
    cache.set_lasting("page:a", stored)
    one, two = cache.get_lasting("page:a"), cache.get_lasting("page:a")
    assert one is not two and type(one) is HttpResponse
    assert one.content == stored.content and one.content is two.content
    assert one.status_code == 200
    assert dict(one.headers) == dict(two.headers) == dict(stored.headers)


@pytest.mark.parametrize(
    "make",
    [process_cache, lambda: backend(f"redis://127.0.0.1:{free_port()}/0")],
    ids=["process", "redis-copies"],
)
def test_what_a_request_does_to_its_copy_reaches_no_other(make):
    """Headers, cookies and content set on one hit's response, or on the
    response that was stored, never show in a later hit."""
    cache = make()
    cache.clear()
    stored = page()
    cache.set_lasting("page:a", stored)
    stored.headers["X-Stored-After"] = "1"
    stored.content = b"changed after storing"
    hit = cache.get_lasting("page:a")
    hit.headers["X-Request-ID"] = "abc"
    hit.headers["Vary"] = "Cookie"
    hit.set_cookie("seen", "1")
    hit.write(b"more")
    again = cache.get_lasting("page:a")
    assert "X-Request-ID" not in again.headers and "Vary" not in again.headers
    assert "X-Stored-After" not in again.headers
    assert not again.cookies
    assert again.content == b"<rss>" + b"x" * 200_000 + b"</rss>"


def test_the_process_cache_keeps_every_other_value_as_a_pickle():
    """Values that are not plain pages (a dict, a response setting a cookie,
    a 410) come back equal and independent, through get and get_lasting;
    get reads a kept page too."""
    cache = process_cache()
    cache.clear()
    value = {"html": ["<p>"]}
    cache.set_lasting("page:d", value)
    value["html"].append("changed")
    assert cache.get_lasting("page:d") == cache.get("page:d") == {"html": ["<p>"]}
    with_cookie = page()
    with_cookie.set_cookie("a", "b")
    cache.set_lasting("page:c", with_cookie)
    assert cache.get_lasting("page:c").cookies["a"].value == "b"
    cache.set_lasting("page:g", HttpResponseGone(b"retracted"))
    gone = cache.get_lasting("page:g")
    assert gone.status_code == 410 and gone.content == b"retracted"
    cache.set_lasting("page:a", page())
    assert cache.get("page:a").content == page().content
    cache.set("plain", 41)
    assert cache.incr("plain") == 42


def test_the_process_cache_is_bounded_by_entries():
    """As Django's LocMemCache: MAX_ENTRIES, the oldest culled first."""
    cache = process_cache()
    cache.clear()
    for i in range(25):
        cache.set_lasting(f"page:{i}", page(b"x"))
    assert len(cache._cache) <= 10
    assert cache.get_lasting("page:0") is None
    assert cache.get_lasting("page:24").content == b"x"


def test_a_kept_page_counts_as_its_pickle_against_the_bound():
    """The byte bound of a worker's copies counts a kept page as its pickle."""
    cache = DegradingRedisCache(
        f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"local_bytes": 2_000_000}}
    )
    for name in "abcdefghijkl":
        cache.set_lasting(f"page:{name}", page())
    assert 1_600_000 < cache.local.stats()["bytes"] <= 2_000_000
    assert cache.get_lasting("page:a") is None
    assert cache.get_lasting("page:l").content.endswith(b"</rss>")


def test_a_page_read_from_redis_is_kept_as_a_response(redis_server):
    """A worker that finds a page in Redis keeps it as a response: its next
    hits share one body, and it serves them with Redis stopped."""
    one, two = backend(redis_server.url), backend(redis_server.url)
    one.set_lasting("page:a", page())
    first = two.get_lasting("page:a")
    assert first.content == page().content and first["ETag"] == '"v1"'
    redis_server.stop()
    second, third = two.get_lasting("page:a"), two.get_lasting("page:a")
    assert second.content is third.content and second is not third
