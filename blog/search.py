"""Ranked full-text search: PostgreSQL's tsvector where we have it, SQLite FTS5
otherwise. Both go through `Post.objects.published()` and return the same
annotations (`rank`, `snippet`), so the view does not care which one ran.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Now
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog.models import BODY_FIELDS, FTS_TABLE, Post, PostPublicDate, PostSearchIndex

# Private-use characters mark highlights inside the raw snippet; the snippet is
# escaped first and only then are these turned into <mark>, so nothing the
# author wrote can become markup here.
MARK_START, MARK_END = "\ue000", "\ue001"
MAX_TERMS = 12
# Only the newest matches are ranked: a common word matches most of the
# archive, and ranking (or counting) all of it costs what the archive costs
# (issue 8). The result list is paginated without a total (UncountedPaginator).
MAX_RANKED = 200


class UncountedPage(Page):
    def __init__(self, object_list, number, paginator, has_next):
        super().__init__(object_list, number, paginator)
        self._has_next = has_next

    def has_next(self):
        return self._has_next


class UncountedPaginator(Paginator):
    """Pages with no total: a page reads one row more than it shows to know
    whether another follows, so no COUNT over every match is ever run."""

    num_pages = None

    def validate_number(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        return number

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return UncountedPage(
            rows[: self.per_page], number, self, has_next=len(rows) > self.per_page
        )


def fts5_query(text: str, prefix: bool = True) -> str:
    """User text as an FTS5 query: every word required, the last as a prefix
    (unless not `prefix`: the words as typed).

    Each word is quoted, so operators and stray quotes in the input are just
    text, never FTS5 syntax errors.
    """
    words = re.findall(r"\w+", text)[:MAX_TERMS]
    if not words:
        return ""
    quoted = [f'"{w}"' for w in words]
    if prefix:
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
    and the query they answer; `as_posts` turns a page of hits into posts
    with snippets. Only the newest MAX_RANKED matches are ranked (on SQLite,
    every match at least as new as the MAX_RANKED-th newest match of the
    words as typed: at least those, and any newer match of the prefix).
    """
    text = text.strip()
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config="english")
        newest = (
            Post.objects.published()
            .filter(search_vector=query)
            .order_by("-published_at")
            .values("pk")[:MAX_RANKED]
        )
        return (
            Post.objects.filter(pk__in=newest)
            .select_related("section")
            .defer(*BODY_FIELDS)
            .annotate(
                rank=SearchRank(F("search_vector"), query), search_text=Value(text)
            )
            .order_by("-rank", "-published_at")
        )
    query = fts5_query(text)
    if not query:
        return PostSearchIndex.objects.none()
    # The FTS5 table must drive the query: joined the other way round, SQLite
    # re-runs the match once per post (seconds at a few thousand posts). So
    # the public check is per hit, by primary key, in the narrow
    # blog_post_public table: blog_post's status and date are stored after
    # its long texts, and reading them walked every overflow page of each hit
    # (0.23 of its 1,000-post share at 100,000 posts; issue 8).
    #
    # One pass of the match per page (issue 8): FTS5 merges a prefix term's
    # whole doclist, for every post of the archive, each time its MATCH runs
    # (`"agreement"*` ~8 ms of CPU at 100,000 posts, whatever the rowid
    # range; the newest 200 of the exact term 0.3 ms), so the page's hits
    # are ranked and given their snippets by one MATCH. (bm25 reads the
    # whole doclist once more for its IDF: what is left growing with the
    # archive.) Ordered by `rank` alone, FTS5 sorts the matches itself and
    # SQLite makes the snippets of the rows the page returns only (any other
    # order sorts every ranked match, snippets and all). The newest matches are a range
    # of ids (a range FTS5 answers from its doclist; `rowid IN (…)` would
    # re-run the match once per listed id) starting at the MAX_RANKED-th
    # newest public match of the words as typed (the last one exact: read
    # from the tail of its doclist, not the whole of it); only when the words
    # as typed have fewer matches than that is the prefix's own MAX_RANKED-th
    # read (a second pass; COALESCE stops at the first bound found).
    exact = fts5_query(text, prefix=False)
    oldest_ranked = Coalesce(
        Subquery(_newest_public(exact)[MAX_RANKED - 1 : MAX_RANKED]),
        Subquery(_newest_public(query)[MAX_RANKED - 1 : MAX_RANKED]),
        0,
    )
    return (
        _public_matches(query)
        .filter(post_id__gte=oldest_ranked)
        .annotate(
            search_text=Value(text),
            snippet_raw=RawSQL(
                f"snippet({FTS_TABLE}, 2, %s, %s, '…', 32)", (MARK_START, MARK_END)
            ),
        )
        .only("post_id")
        .order_by("rank")
    )


def _public_matches(query: str):
    """SQLite: FTS5 rows matching `query` whose post is public (by the
    narrow blog_post_public table)."""
    public_from = PostPublicDate.objects.filter(pk=OuterRef("post_id"))
    return (
        PostSearchIndex.objects.filter(document__fts_match=query)
        .alias(public_from=Subquery(public_from.values("public_from")))
        .filter(public_from__lte=Now())
    )


def _newest_public(query: str):
    """SQLite: ids of the public matches of `query`, newest (highest) first."""
    return _public_matches(query).order_by("-post_id").values("post_id")


def snippets(text: str, post_ids: list[int]) -> dict[int, str]:
    """PostgreSQL: highlighted body extracts for a page of results, in one
    query: made for the page only, as they cost far more than ranking."""
    query = SearchQuery(text, search_type="websearch", config="english")
    rows = (
        Post.objects.filter(pk__in=post_ids)
        .annotate(
            snippet_raw=SearchHeadline(
                "body_text",
                query,
                config="english",
                start_sel=MARK_START,
                stop_sel=MARK_END,
                max_words=35,
                min_words=20,
            )
        )
        .values_list("pk", "snippet_raw")
    )
    return dict(rows)


def as_posts(hits) -> list[Post]:
    """Posts of a page of hits, each with a highlighted, escaped `snippet`:
    one more query (PostgreSQL: the page's snippets; SQLite, whose hits carry
    their snippets: the page's posts, by primary key)."""
    hits = list(hits)
    if not hits:
        return []
    if isinstance(hits[0], Post):
        posts = hits
        extracts = snippets(hits[0].search_text, [post.pk for post in posts])
    else:
        extracts = {hit.post_id: hit.snippet_raw for hit in hits}
        by_id = (
            Post.objects.select_related("section")
            .defer(*BODY_FIELDS)
            .order_by()
            .in_bulk(list(extracts))
        )
        posts = [by_id[hit.post_id] for hit in hits if hit.post_id in by_id]
    for post in posts:
        post.snippet = highlight(extracts.get(post.pk, ""))
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
    ensure_public_dates(conn)


PUBLIC_TABLE = PostPublicDate._meta.db_table
_PUBLIC_FROM = (
    f"CASE WHEN {{row}}.status = '{Post.Status.PUBLISHED.value}' "
    "THEN {row}.published_at END"
)
_PUBLIC_TRIGGERS = {
    f"{PUBLIC_TABLE}_ai": (
        f"AFTER INSERT ON blog_post BEGIN INSERT INTO {PUBLIC_TABLE} (id, public_from) "
        f"VALUES (new.id, {_PUBLIC_FROM.format(row='new')}); END"
    ),
    f"{PUBLIC_TABLE}_au": (
        "AFTER UPDATE OF status, published_at ON blog_post "
        f"BEGIN UPDATE {PUBLIC_TABLE} SET public_from = {_PUBLIC_FROM.format(row='new')} "
        "WHERE id = new.id; END"
    ),
    f"{PUBLIC_TABLE}_ad": (
        f"AFTER DELETE ON blog_post BEGIN DELETE FROM {PUBLIC_TABLE} "
        "WHERE id = old.id; END"
    ),
}


def ensure_public_dates(conn) -> None:
    """SQLite: the narrow table of public dates search reads (PostPublicDate)
    and its triggers; refilled from blog_post whenever a trigger was missing
    (a migration that rebuilt blog_post dropped them)."""
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PUBLIC_TABLE} "
            "(id integer NOT NULL PRIMARY KEY, public_from datetime NULL)"
        )
        cursor.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
            f"({', '.join(['%s'] * len(_PUBLIC_TRIGGERS))})",
            list(_PUBLIC_TRIGGERS),
        )
        if cursor.fetchone()[0] == len(_PUBLIC_TRIGGERS):
            return
        for name, body in _PUBLIC_TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        cursor.execute(f"DELETE FROM {PUBLIC_TABLE}")
        cursor.execute(
            f"INSERT INTO {PUBLIC_TABLE} (id, public_from) "
            f"SELECT id, {_PUBLIC_FROM.format(row='blog_post')} FROM blog_post"
        )


def ensure_postgres_index(conn) -> None:
    """The GIN index behind PostgreSQL search (not in Meta: SQLite has no GIN)."""
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX IF NOT EXISTS post_search_gin ON blog_post USING gin (search_vector)"
        )
