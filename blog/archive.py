"""The date archive's months with their number of public posts, exact and
read in one query whatever the size of the archive (issue 8).

Grouping every public post by month cost what the archive costs (0.5 s on
SQLite at 100,000 posts, each row through Django's time-zone function). So
database triggers keep `ArchiveMonth`: per UTC month, the posts whose status
is published, due or scheduled. Reading it takes off the scheduled ones (a
range of the (status, published_at) index: the few posts not yet due, by the
database clock, as `published()` judges them), so a scheduled post enters
its month on time with no job. In a site time zone other than UTC, a month's
first and last hours belong to the neighbouring UTC month: the posts in those
slivers (at most 14 hours at each boundary, again index ranges) are moved to
their local month, in a second query that UTC sites never run.

The triggers live in the database because posts change outside the ORM's
save() too (bulk inserts, queryset updates and deletions). SQLite drops a
table's triggers when a migration rebuilds it, so `ensure_archive_counts`
runs after every migrate (blog/signals.prepare_database), like the search
index's, and recounts whenever it had to create them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from blog.models import Post

TABLE = "blog_archivemonth"
PUBLISHED = Post.Status.PUBLISHED.value  # in the triggers' SQL
# The widest gap between UTC and any civil time: UTC-12 to UTC+14.
MAX_OFFSET = timedelta(hours=14)

_SQLITE_MONTH = "substr({row}.published_at, 1, 7) || '-01'"
_SQLITE_TRIGGERS = {
    f"{TABLE}_ai": (
        f"AFTER INSERT ON blog_post WHEN new.status = '{PUBLISHED}' BEGIN "  # noqa: S608 - constants only
        f"INSERT INTO {TABLE} (month, posts) VALUES ({_SQLITE_MONTH.format(row='new')}, 1) "
        "ON CONFLICT (month) DO UPDATE SET posts = posts + 1; END"
    ),
    f"{TABLE}_ad": (
        f"AFTER DELETE ON blog_post WHEN old.status = '{PUBLISHED}' BEGIN "  # noqa: S608 - constants only
        f"UPDATE {TABLE} SET posts = posts - 1 "
        f"WHERE month = {_SQLITE_MONTH.format(row='old')}; END"
    ),
    f"{TABLE}_au": (
        "AFTER UPDATE OF status, published_at ON blog_post "  # noqa: S608 - constants only
        f"WHEN (old.status = '{PUBLISHED}' OR new.status = '{PUBLISHED}') "
        "AND (old.status IS NOT new.status OR old.published_at IS NOT new.published_at) "
        f"BEGIN UPDATE {TABLE} SET posts = posts - 1 "
        f"WHERE old.status = '{PUBLISHED}' AND month = {_SQLITE_MONTH.format(row='old')}; "
        f"INSERT INTO {TABLE} (month, posts) SELECT {_SQLITE_MONTH.format(row='new')}, 1 "
        f"WHERE new.status = '{PUBLISHED}' "
        "ON CONFLICT (month) DO UPDATE SET posts = posts + 1; END"
    ),
}

_PG_MONTH = "date_trunc('month', {row}.published_at AT TIME ZONE 'UTC')::date"
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TABLE}_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = '{PUBLISHED}' THEN
    UPDATE {TABLE} SET posts = posts - 1 WHERE month = {_PG_MONTH.format(row="OLD")};
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = '{PUBLISHED}' THEN
    INSERT INTO {TABLE} (month, posts) VALUES ({_PG_MONTH.format(row="NEW")}, 1)
    ON CONFLICT (month) DO UPDATE SET posts = {TABLE}.posts + 1;
  END IF;
  RETURN NULL;
END $$
"""  # noqa: S608 - constants only
_PG_TRIGGERS = {
    f"{TABLE}_insert_delete": "AFTER INSERT OR DELETE ON blog_post FOR EACH ROW",
    f"{TABLE}_update": (
        "AFTER UPDATE OF status, published_at ON blog_post FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.published_at IS DISTINCT FROM NEW.published_at)"
    ),
}


def ensure_archive_counts(conn) -> None:
    """Create the counting triggers if missing and then recount every month
    (a migration that rebuilt blog_post on SQLite has dropped them)."""
    with conn.cursor() as cursor:
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "  # noqa: S608 - constants only
                f"({', '.join(['%s'] * len(_SQLITE_TRIGGERS))})",
                list(_SQLITE_TRIGGERS),
            )
            if cursor.fetchone()[0] == len(_SQLITE_TRIGGERS):
                return
            for name, body in _SQLITE_TRIGGERS.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
            month = _SQLITE_MONTH.format(row="blog_post")
        elif conn.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'blog_post'::regclass "
                "AND tgname = ANY(%s)",
                [list(_PG_TRIGGERS)],
            )
            if cursor.fetchone()[0] == len(_PG_TRIGGERS):
                return
            cursor.execute(_PG_FUNCTION)
            for name, when in _PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON blog_post")
                cursor.execute(
                    f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {TABLE}_count()"
                )
            month = _PG_MONTH.format(row="blog_post")
        else:
            return
        recount(cursor, month)


def recount(cursor, month: str) -> None:
    cursor.execute(f"DELETE FROM {TABLE}")  # noqa: S608 - constants only
    cursor.execute(
        f"INSERT INTO {TABLE} (month, posts) SELECT {month}, COUNT(*) "  # noqa: S608
        "FROM blog_post WHERE status = %s GROUP BY 1",
        [PUBLISHED],
    )


def _now_sql() -> str:
    # The database clock, as Now() compiles it: what published() judges by.
    if connection.vendor == "postgresql":
        return "STATEMENT_TIMESTAMP()"
    return "STRFTIME('%%Y-%%m-%%d %%H:%%M:%%f', 'NOW')"


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _month_text(value) -> str:
    return f"{value:%Y-%m}" if isinstance(value, date) else value[:7]


def months() -> list[tuple[datetime, int]]:
    """(first instant of the month in the site's time zone, public posts in
    it), newest first, months without any left out."""
    with connection.cursor() as cursor:
        cursor.execute(
            # As text (`|| ''`) in both arms: SQLite would read both by the
            # first arm's declared type (a date), PostgreSQL needs one type.
            f"SELECT 0, month || '', posts FROM {TABLE} WHERE posts > 0 "  # noqa: S608
            "UNION ALL SELECT 1, published_at || '', 1 FROM blog_post "
            f"WHERE status = %s AND published_at > {_now_sql()}",
            [PUBLISHED],
        )
        rows = cursor.fetchall()
    counts: dict[str, int] = {}
    for kind, value, n in rows:
        key = _month_text(value if kind == 0 else _utc(value))
        counts[key] = counts.get(key, 0) + (n if kind == 0 else -1)
    counts = _to_local_months(counts)
    tz = timezone.get_current_timezone()
    found = [
        (datetime(int(key[:4]), int(key[5:7]), 1, tzinfo=tz), n)
        for key, n in counts.items()
        if n > 0
    ]
    return sorted(found, reverse=True)


def _to_local_months(counts: dict[str, int]) -> dict[str, int]:
    """UTC months' counts as the site's months: the public posts within
    MAX_OFFSET of a UTC month boundary move to the month they fall in locally
    (nothing to do, and no query, in UTC)."""
    tz = timezone.get_current_timezone()
    starts = set()
    for key in counts:
        start = datetime(int(key[:4]), int(key[5:7]), 1, tzinfo=UTC)
        following = (start + timedelta(days=32)).replace(day=1)
        starts |= {start, following}
    starts = sorted(s for s in starts if s.astimezone(tz).utcoffset() or _shifts(s, tz))
    if not starts:
        return counts
    ranges = " OR ".join(["(published_at >= %s AND published_at < %s)"] * len(starts))
    params = []
    for start in starts:
        params += [
            connection.ops.adapt_datetimefield_value(start - MAX_OFFSET),
            connection.ops.adapt_datetimefield_value(start + MAX_OFFSET),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT published_at FROM blog_post WHERE status = %s "  # noqa: S608
            f"AND published_at <= {_now_sql()} AND ({ranges})",
            [PUBLISHED, *params],
        )
        near = [_utc(row[0]) for row in cursor.fetchall()]
    counts = dict(counts)
    for moment in near:
        utc_key = f"{moment:%Y-%m}"
        local_key = f"{moment.astimezone(tz):%Y-%m}"
        if utc_key != local_key:
            counts[utc_key] = counts.get(utc_key, 0) - 1
            counts[local_key] = counts.get(local_key, 0) + 1
    return counts


def _shifts(moment: datetime, tz) -> bool:
    """Whether the zone's offset differs from UTC anywhere near `moment`."""
    return any(
        (moment + delta).astimezone(tz).utcoffset()
        for delta in (-MAX_OFFSET, MAX_OFFSET)
    )
