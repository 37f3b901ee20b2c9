"""Ranked full-text search: PostgreSQL's tsvector where we have it, SQLite FTS5
otherwise. Both go through `Post.objects.published()` and return the same
annotations (`rank`, `snippet`), so the view does not care which one ran.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog.models import FTS_TABLE, Post, PostSearchIndex

# Private-use characters mark highlights inside the raw snippet; the snippet is
# escaped first and only then are these turned into <mark>, so nothing the
# author wrote can become markup here.
MARK_START, MARK_END = "\ue000", "\ue001"
MAX_TERMS = 12


def fts5_query(text: str) -> str:
    """User text as an FTS5 query: every word required, the last as a prefix.

    Each word is quoted, so operators and stray quotes in the input are just
    text, never FTS5 syntax errors.
    """
    words = re.findall(r"\w+", text)[:MAX_TERMS]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def highlight(raw: str) -> SafeString:
    escaped = escape(raw)
    return mark_safe(  # noqa: S308 - escaped above; only our markers become tags
        escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
    )


def search_posts(text: str):
    """Matches for `text` among published posts, best first.

    Returns a queryset of *hits*: on PostgreSQL the posts themselves, on
    SQLite rows of the FTS5 index with their post joined. Both carry `rank`
    and `snippet_raw`; `as_posts` turns a page of hits into posts.
    """
    text = text.strip()
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        return (
            Post.objects.published()
            .select_related("section")
            .filter(search_vector=query)
            .annotate(
                rank=SearchRank(F("search_vector"), query),
                snippet_raw=SearchHeadline(
                    "body_text",
                    query,
                    config="english",
                    start_sel=MARK_START,
                    stop_sel=MARK_END,
                    max_words=35,
                    min_words=20,
                ),
            )
            .order_by("-rank", "-published_at")
        )
    query = fts5_query(text)
    if not query:
        return PostSearchIndex.objects.none()
    # The FTS5 table must drive the query: joined the other way round, SQLite
    # re-runs the match once per post (seconds at a few thousand posts). So
    # the public check is a per-hit EXISTS on published(), by primary key.
    public = Exists(Post.objects.published().filter(pk=OuterRef("post_id")))
    return (
        PostSearchIndex.objects.filter(document__fts_match=query)
        .filter(public)
        .select_related("post", "post__section")
        .annotate(
            snippet_raw=RawSQL(
                f"snippet({FTS_TABLE}, 2, %s, %s, '…', 32)", (MARK_START, MARK_END)
            )
        )
        .order_by("rank", "-post__published_at")
    )


def as_posts(hits) -> list[Post]:
    """Posts of a page of hits, each with a highlighted, escaped `snippet`."""
    posts = []
    for hit in hits:
        post = hit if isinstance(hit, Post) else hit.post
        post.snippet = highlight(hit.snippet_raw)
        posts.append(post)
    return posts


def ensure_sqlite_index(conn) -> None:
    """Create the FTS5 table and its triggers if missing, and fill it then.

    Called after every migrate: SQLite rebuilds a table on many ALTERs, which
    drops its triggers, so this restores them rather than trusting a
    migration that ran once.
    """
    if conn.vendor != "sqlite":
        return
    columns = "title, summary, body_text"
    new = ", ".join(f"new.{c.strip()}" for c in columns.split(","))
    old = ", ".join(f"old.{c.strip()}" for c in columns.split(","))
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [f"{FTS_TABLE}_%"],
        )
        complete = cursor.fetchone()[0] == 3
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            f"{columns}, content='blog_post', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON blog_post BEGIN "
            f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.id, {new}); END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON blog_post BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) "
            f"VALUES ('delete', old.id, {old}); END"
        )
        cursor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE ON blog_post BEGIN "
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {columns}) "
            f"VALUES ('delete', old.id, {old}); "
            f"INSERT INTO {FTS_TABLE}(rowid, {columns}) VALUES (new.id, {new}); END"
        )
        # Title hits outrank summary hits, which outrank body hits.
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES ('rank', 'bm25(10.0, 4.0, 1.0)')"
        )
        if not complete:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def ensure_postgres_index(conn) -> None:
    """The GIN index behind PostgreSQL search (not in Meta: SQLite has no GIN)."""
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS post_search_gin ON blog_post USING gin (search_vector)"
        )


def postgres_search_document():
    """The weighted document PostgreSQL search matches against (title, then
    summary, then body). Post.save writes the same expression one row at a
    time; `manage.py generate_posts` writes it for a whole batch in one UPDATE.
    """
    return (
        SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body_text", weight="C", config="english")
    )
