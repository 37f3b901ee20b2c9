"""blog/postgresql: a reused connection costs no health-check round trip, yet
one the server cut (a restart) never fails the request's first read; page
validators run as prepared statements. PostgreSQL only (DATABASE_URL)."""

import time

import psycopg
import pytest
from django.core.signals import request_started
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from blog import caching
from blog.models import Post, SiteState
from tests.factories import make_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs DATABASE_URL=postgres://…"
    ),
]


def new_request():
    """What Django does between two requests on a kept connection."""
    request_started.send(sender=None)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cut_off(pid: int) -> None:
    """End a backend from another session, as a restart of the server does."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    params.pop("round_trip_timeout", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.1)  # the FATAL message and the close reach our socket


@pytest.fixture
def checks(monkeypatch):
    """Counts Django's health checks (`SELECT 1` round trips)."""
    calls = []
    wrapper = type(connections["default"])
    original = wrapper.is_usable

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(wrapper, "is_usable", counting)
    return calls


def test_a_healthy_kept_connection_costs_no_health_check(checks):
    """Health checks are on, yet a new request on a kept connection sends its
    first query straight away: no `SELECT 1` first."""
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]
    # A connection of its own: one opened by the test database's setup may
    # have outlived CONN_MAX_AGE on a loaded machine (then it is replaced).
    connection.close()
    pid = backend_pid()
    for _ in range(3):
        new_request()
        assert Post.objects.count() == 0
    assert checks == []
    assert backend_pid() == pid


def test_a_connection_cut_by_the_server_does_not_fail_the_first_read(checks):
    """The server ended the connection between two requests (a restart): the
    next request's first read runs again on a new connection and succeeds."""
    make_post()
    pid = backend_pid()
    cut_off(pid)
    new_request()
    assert Post.objects.count() == 1
    assert backend_pid() != pid
    assert checks == []


def test_a_page_after_the_server_cut_the_connection(client):
    """Through the whole stack: the page is served, fresh, not a 503."""
    post = make_post()
    assert client.get(post.get_absolute_url()).status_code == 200
    cut_off(backend_pid())
    new_request()  # the test client leaves this out
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "X-Dateline-Stale" not in response.headers


def test_a_write_first_gets_the_health_check(checks):
    """A write whose answer was lost may have been applied, so it is never
    run twice: a request that writes first is checked first, as before."""
    cut_off(backend_pid())
    new_request()
    assert SiteState.objects.filter(pk=1).update(changed_at=timezone.now()) == 1
    assert checks == [1]


def test_a_transaction_gets_the_health_check_at_its_start(checks):
    cut_off(backend_pid())
    new_request()
    with transaction.atomic():
        assert Post.objects.count() == 0
    assert checks == [1]


def test_an_error_on_a_live_connection_is_not_retried():
    """Only a lost connection is tried again: a statement that fails on a
    working one (here, cancelled by its timeout) fails once, and the
    connection is kept."""
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 50")
    raw = connection.connection
    new_request()
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")
        assert time.monotonic() - started < 0.9
        assert connection.connection is raw
    finally:
        connection.close()


def test_validators_are_prepared_statements():
    """After a few runs, an article's validator is prepared on the server:
    the database plans it once per connection, not on every request."""
    post = make_post()
    for _ in range(8):
        caching.story_changed(post.slug)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE statement LIKE '%%blog_sitestate%%'"
        )
        assert cursor.fetchone()[0] == 1
    other = make_post()
    assert caching.story_changed(other.slug) >= other.updated_at


def test_prepared_text_results_read_as_djangos_own_cursor():
    """Compiled queries run on `prepared_cursor(binary=False)`: once prepared,
    dates, times, decimals, arrays, json and jsonb come back as the same
    Python values and types as through Django's own cursor (jsonb as text,
    which JSONField parses; times in UTC)."""
    sql = (
        "SELECT %s::date, %s::timestamptz, 1.50::numeric, ARRAY[1, 2],"
        " ARRAY['a', 'b'], '[{\"a\": 1}]'::json, '{\"b\": [2]}'::jsonb,"
        " NULL::jsonb, 'x'::text, 7::bigint"
    )
    params = ["2026-01-02", timezone.now()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        want = cursor.fetchone()
    for _ in range(8):
        with connection.prepared_cursor(binary=False) as cursor:
            cursor.execute(sql, params)
            got = cursor.fetchone()
        assert got == want
        assert [type(v) for v in got] == [type(v) for v in want]
        assert got[1].tzinfo == want[1].tzinfo
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE statement LIKE '%%ARRAY[1, 2]%%'"
        )
        assert cursor.fetchone()[0] == 1


def test_compiled_listing_rows_are_prepared_and_equal_the_orms():
    """A listing page's compiled query (blog/compiled.py) is a prepared
    statement after a few requests, and its posts, with their JSON tags and
    bylines, dates and joined section, equal the ORM's own."""
    from blog import compiled
    from tests.factories import make_tag

    tag = make_tag("Energy")
    posts = [make_post(f"Post {i}", tags=[tag]) for i in range(3)]

    def build():
        return Post.objects.published().for_listing().with_tags()[:10]

    for _ in range(8):
        got = compiled.memo_rows(("test prepared listing",), build)
    want = list(build())
    assert [p.pk for p in got] == [p.pk for p in want]
    assert {p.pk for p in got} == {p.pk for p in posts}
    for g, w in zip(got, want, strict=True):
        for name in ("title", "published_at", "section_id", "tag_list", "byline_list"):
            assert getattr(g, name) == getattr(w, name), name
        assert g.published_at.tzinfo == w.published_at.tzinfo
        assert g.section.name == w.section.name
    assert got[0].tag_list == [{"id": tag.pk, "name": "Energy", "slug": tag.slug}]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements"
            " WHERE statement LIKE '%%card_html%%'"
        )
        assert cursor.fetchone()[0] == 1


def test_each_intersection_is_its_own_prepared_statement(client, settings):
    """A tag intersection's posts are a prepared statement of their own for
    each set of tags (the tags' ids are in its SQL): planned once for any
    tags (a generic plan), the statement joined every row of both tags,
    15.9 ms against 1.2 ms at 100,000 posts. One tag's page is prepared too."""
    from tests.factories import make_tag

    dummy = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    settings.CACHES = {alias: dummy for alias in settings.CACHES}  # the render path
    iran, oil, gas = make_tag("Iran"), make_tag("Oil"), make_tag("Gas")
    for i in range(3):
        make_post(f"Both {i}", tags=[iran, oil, gas])

    def prepared(*tags):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT statement FROM pg_prepared_statements"
                " WHERE statement LIKE '%%blog_taggedpost%%'"
                " AND statement LIKE '%%card_html%%'"
            )
            statements = [row[0] for row in cursor.fetchall()]
        return [s for s in statements if all(f"= ({t.pk})" in s for t in tags)]

    for _ in range(8):
        assert client.get("/tag/iran+oil/").status_code == 200
        assert client.get("/tag/gas+oil/").status_code == 200
        assert client.get("/tag/iran/").status_code == 200
    assert len(prepared(iran, oil)) == 1
    assert len(prepared(gas, oil)) == 1
    assert not prepared(iran, gas)
