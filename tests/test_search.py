"""blog/search.py: ranked full-text search on SQLite (FTS5) or PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection

from blog.models import Post
from blog.search import as_posts, fts5_query, highlight, search_posts
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def titles(text):
    return [post.title for post in as_posts(search_posts(text))]


def test_fts5_query_quotes_every_word():
    """User text becomes quoted FTS5 terms (the last a prefix); operators are just words."""
    assert fts5_query('iran "AND" russia*') == '"iran" "AND" "russia"*'
    assert fts5_query("  ()*:  ") == ""


def test_highlight_escapes_then_marks():
    """Snippets are escaped; only our markers become <mark>."""
    assert highlight("<b>\ue000oil\ue001</b>") == "&lt;b&gt;<mark>oil</mark>&lt;/b&gt;"


def test_title_matches_outrank_body_matches():
    """A hit in the title ranks above a hit in the body (weights A > C)."""
    make_post(
        "Weather report",
        body="A pipeline was mentioned in passing.",
        age=timedelta(hours=1),
    )
    make_post("Pipeline politics", body="Nothing else here.", age=timedelta(days=3))
    assert titles("pipeline") == ["Pipeline politics", "Weather report"]


def test_only_published_posts_are_found():
    """Drafts and scheduled posts are never search results."""
    make_post("Pipeline live")
    make_post("Pipeline draft", status=Post.Status.DRAFT)
    make_post("Pipeline scheduled", age=-timedelta(hours=1))
    assert titles("pipeline") == ["Pipeline live"]


def test_stemming_finds_other_forms():
    """'sanction' finds 'sanctions' (English stemming on both backends)."""
    make_post("New sanctions announced")
    assert len(search_posts("sanction")) == 1


def test_snippets_come_from_the_body_with_the_terms_marked():
    """Each result carries a snippet of body text with the matched words marked."""
    make_post("Talks", body="Delegations discussed the gas pipeline for hours.")
    hit = search_posts("pipeline")[0]
    assert "<mark>pipeline</mark>" in as_posts([hit])[0].snippet.lower()


def test_edits_and_deletes_reach_the_index():
    """The index follows saves and deletions."""
    post = make_post("Pipeline politics")
    post.title = "Rail politics"
    post.body = "Trains."
    post.save()
    assert list(search_posts("pipeline")) == []
    assert len(search_posts("rail")) == 1
    post.delete()
    assert list(search_posts("rail")) == []


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite index upkeep")
def test_sqlite_index_survives_a_table_rebuild():
    """If a migration rebuilt blog_post (dropping triggers), migrate restores and refills the index."""
    from blog.search import ensure_sqlite_index

    make_post("Pipeline politics")
    with connection.cursor() as cursor:
        for trigger in ("ai", "ad", "au"):
            cursor.execute(f"DROP TRIGGER blog_post_fts_{trigger}")
        cursor.execute("DELETE FROM blog_post_fts")
    ensure_sqlite_index(connection)
    assert len(search_posts("pipeline")) == 1
    make_post("Pipeline again")
    assert len(search_posts("pipeline")) == 2


def test_search_pages_without_counting_every_match(client, settings):
    """Search results page on without a COUNT over every match (issue 8)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 1}
    for n in range(3):
        make_post(f"Pipeline {n}")
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/search/?q=pipeline")
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert 'rel="next"' in first.content.decode()
    last = client.get("/search/?q=pipeline&page=3").content.decode()
    assert 'rel="next"' not in last and 'rel="prev"' in last
    assert client.get("/search/?q=pipeline&page=4").status_code == 404


def test_only_the_newest_matches_are_ranked(monkeypatch):
    """A word matching much of the archive ranks only its newest matches."""
    import blog.search

    old = make_post("Pipeline pipeline pipeline", age=timedelta(days=9))
    newer = [make_post(f"Mentions a pipeline {n}") for n in range(3)]
    monkeypatch.setattr(blog.search, "MAX_RANKED", 3)
    found = as_posts(search_posts("pipeline"))
    assert old not in found and sorted(p.pk for p in found) == sorted(
        p.pk for p in newer
    )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's narrow table")
def test_public_dates_follow_posts_whatever_changes_them():
    """blog_post_public holds each post's date while it is published, NULL
    otherwise, through saves, queryset updates, bulk inserts and deletions."""
    from blog.models import PostPublicDate

    def public_from(post):
        return PostPublicDate.objects.get(pk=post.pk).public_from

    post = make_post("Pipeline politics")
    assert public_from(post) == post.published_at
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    assert public_from(post) is None
    post.refresh_from_db()
    post.status = Post.Status.PUBLISHED
    post.published_at -= timedelta(days=2)
    post.save()
    assert public_from(post) == post.published_at
    [bulk] = Post.objects.bulk_create(
        [Post(title="Bulk", slug="bulk", author=post.author, section=post.section,
              status=Post.Status.PUBLISHED, published_at=post.published_at)]
    )  # fmt: skip
    assert public_from(bulk) == post.published_at
    post.delete()
    assert not PostPublicDate.objects.filter(pk=post.pk).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's narrow table")
def test_public_dates_survive_a_table_rebuild():
    """Triggers dropped by a rebuild of blog_post are restored after migrate
    and the table refilled, so search finds what is public."""
    from blog.search import ensure_sqlite_index

    make_post("Pipeline politics")
    with connection.cursor() as cursor:
        for trigger in ("ai", "au", "ad"):
            cursor.execute(f"DROP TRIGGER blog_post_public_{trigger}")
        cursor.execute("DELETE FROM blog_post_public")
    ensure_sqlite_index(connection)
    assert titles("pipeline") == ["Pipeline politics"]
    make_post("Pipeline again")
    assert len(search_posts("pipeline")) == 2


def test_a_results_page_takes_two_queries(django_assert_num_queries):
    """The ranked hits, then the page's posts (on PostgreSQL with their
    snippets; SQLite's hits carry theirs)."""
    for n in range(3):
        make_post(f"Pipeline {n}")
    with django_assert_num_queries(2):
        found = as_posts(search_posts("pipeline")[:2])
    assert len(found) == 2 and all(post.section.name for post in found)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_the_ranked_range_starts_at_the_newest_matches_of_the_words_as_typed(
    monkeypatch,
):
    """SQLite: the ranked matches are those at least as new as the
    MAX_RANKED-th newest match of the words as typed (the last one exact, read
    from the tail of its doclist): at least the newest MAX_RANKED matches,
    and any newer match of the last word as a prefix."""
    import blog.search

    make_post("Tank tank tank", age=timedelta(days=9))
    make_post("Tanker tanker tanker", age=timedelta(days=8))
    older, newer = (make_post(f"A tank {n}", age=timedelta(days=7 - n)) for n in (0, 1))
    tanker = make_post("Tankers", age=timedelta(days=1))
    monkeypatch.setattr(blog.search, "MAX_RANKED", 2)
    assert sorted(titles("tank")) == sorted([older.title, newer.title, tanker.title])


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_words_with_few_matches_as_typed_rank_the_newest_prefix_matches(
    monkeypatch,
):
    """SQLite: when the words as typed match fewer than MAX_RANKED posts (a
    word cut short), the newest MAX_RANKED matches of the prefix are ranked."""
    import blog.search

    make_post("Pipeline pipeline pipeline", age=timedelta(days=9))
    newer = [make_post(f"Pipelines {n}", age=timedelta(days=3 - n)) for n in range(2)]
    monkeypatch.setattr(blog.search, "MAX_RANKED", 2)
    assert sorted(titles("pipel")) == sorted(post.title for post in newer)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_sqlite_ranks_a_page_and_makes_its_snippets_in_one_pass_of_the_match():
    """SQLite: a page's hits come ordered by FTS5 itself (rank alone: no sort
    of every ranked match, snippets and all, by SQLite), so snippets are made
    for the page's rows only, in the same pass of the match."""
    from tests.plans import plan

    make_post("Pipeline politics")
    sql, params = search_posts("pipe")[:13].query.sql_with_params()
    steps = plan(sql, params)
    assert "TEMP B-TREE" not in steps, steps
    assert "ORDER BY" not in steps, steps
    assert len(as_posts(search_posts("pipe"))) == 1
