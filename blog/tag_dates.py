"""A tag's posts newest first, from the tag's own index (issue 8).

A tag page read the newest public posts and kept those carrying the tag, and
counted its pages the same way: the rarer the tag, the more posts it walked
(at 100,000 posts, ~6,000 for the commonest tag to count its 100 pages; the
whole archive for a tag last used long ago). So each TaggedPost row carries
its post's `public_from`: the post's published_at while its status is
published (due or scheduled), NULL otherwise, and the (tag, public_from,
post) index lists a tag's public posts newest first. A post is public when
`public_from <= Now()` — `published()`'s own rule, by the database clock, so a
scheduled post still goes live on time with no job.

A row also carries `post_changed_at`: its post's updated_at while published
(due or scheduled), NULL otherwise, so a tag page's validator reads the
newest change of its posts from the (tag, post_changed_at) index
(`tag_changes`) instead of probing the tag on every post newest first.

Database triggers keep it, as they keep the archive's months
(blog/archive.py): a tag added to a post copies the post's dates, and a post
whose status or dates change updates its tags' rows, whatever did it (save,
bulk insert, queryset update). SQLite drops a table's triggers when a
migration rebuilds it, so `ensure_tag_dates` runs after every migrate and
recomputes every row whenever it had to create them.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Now

from blog.models import Post, Tag, TaggedPost

PUBLISHED = Post.Status.PUBLISHED.value  # in the triggers' SQL
_PUBLIC_FROM = f"CASE WHEN {{row}}.status = '{PUBLISHED}' THEN {{row}}.published_at END"
_CHANGED_AT = f"CASE WHEN {{row}}.status = '{PUBLISHED}' THEN {{row}}.updated_at END"
# Both columns, set from the post `row` (an UPDATE's SET list).
_SET = (
    f"public_from = {_PUBLIC_FROM.format(row='{row}')}, "
    f"post_changed_at = {_CHANGED_AT.format(row='{row}')}"
)

_SQLITE_TRIGGERS = {
    "blog_taggedpost_public_ai": (
        "AFTER INSERT ON blog_taggedpost BEGIN "  # noqa: S608 - constants only
        "UPDATE blog_taggedpost SET (public_from, post_changed_at) = "
        f"(SELECT {_PUBLIC_FROM.format(row='p')}, {_CHANGED_AT.format(row='p')} "
        "FROM blog_post p WHERE p.id = new.content_object_id) WHERE id = new.id; END"
    ),
    "blog_taggedpost_public_au": (
        "AFTER UPDATE OF status, published_at, updated_at ON blog_post "  # noqa: S608
        "WHEN old.status IS NOT new.status OR old.published_at IS NOT new.published_at "
        "OR old.updated_at IS NOT new.updated_at "
        f"BEGIN UPDATE blog_taggedpost SET {_SET.format(row='new')} "
        "WHERE content_object_id = new.id; END"
    ),
}

_PG_FUNCTIONS = (
    f"""
CREATE OR REPLACE FUNCTION blog_taggedpost_public_from() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT {_PUBLIC_FROM.format(row="p")}, {_CHANGED_AT.format(row="p")}
    INTO NEW.public_from, NEW.post_changed_at
    FROM blog_post p WHERE p.id = NEW.content_object_id;
  RETURN NEW;
END $$
""",  # noqa: S608 - constants only
    f"""
CREATE OR REPLACE FUNCTION blog_post_tags_public_from() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE blog_taggedpost SET {_SET.format(row="NEW")}
  WHERE content_object_id = NEW.id;
  RETURN NULL;
END $$
""",  # noqa: S608 - constants only
)
_PG_TRIGGERS = {
    "blog_taggedpost_public_insert": (
        "blog_taggedpost",
        "BEFORE INSERT ON blog_taggedpost FOR EACH ROW "
        "EXECUTE FUNCTION blog_taggedpost_public_from()",
    ),
    "blog_taggedpost_public_update": (
        "blog_post",
        "AFTER UPDATE OF status, published_at, updated_at ON blog_post FOR EACH ROW "
        "WHEN (OLD.status IS DISTINCT FROM NEW.status "
        "OR OLD.published_at IS DISTINCT FROM NEW.published_at "
        "OR OLD.updated_at IS DISTINCT FROM NEW.updated_at) "
        "EXECUTE FUNCTION blog_post_tags_public_from()",
    ),
}


def ensure_tag_dates(conn, replace=False) -> None:
    """Create the triggers if missing (or `replace` them: a migration that
    changes what they keep), then recompute every row's dates."""
    with conn.cursor() as cursor:
        if replace and conn.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        if conn.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name IN (%s, %s)",
                list(_SQLITE_TRIGGERS),
            )
            if cursor.fetchone()[0] == len(_SQLITE_TRIGGERS):
                return
            for name, body in _SQLITE_TRIGGERS.items():
                cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {body}")
        elif conn.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s)",
                [list(_PG_TRIGGERS)],
            )
            if cursor.fetchone()[0] == len(_PG_TRIGGERS) and not replace:
                return
            for function in _PG_FUNCTIONS:
                cursor.execute(function)
            for name, (table, body) in _PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                cursor.execute(f"CREATE TRIGGER {name} {body}")
        else:
            return
        redate(cursor, conn.vendor)


def redate(cursor, vendor: str, chunk: int = 50_000) -> None:
    """Every row's date from its post, in chunks of ids (one statement over a
    large archive would outlast the statement timeout)."""
    cursor.execute("SELECT MIN(id), MAX(id) FROM blog_taggedpost")
    low, high = cursor.fetchone()
    if low is None:
        return
    if vendor == "postgresql":  # a join: one pass over each table
        sql = (
            f"UPDATE blog_taggedpost t SET {_SET.format(row='p')} "  # noqa: S608
            "FROM blog_post p "
            "WHERE p.id = t.content_object_id AND t.id BETWEEN %s AND %s"
        )
    else:
        sql = (
            "UPDATE blog_taggedpost SET (public_from, post_changed_at) = "  # noqa: S608
            f"(SELECT {_PUBLIC_FROM.format(row='p')}, {_CHANGED_AT.format(row='p')} "
            "FROM blog_post p WHERE p.id = blog_taggedpost.content_object_id) "
            "WHERE id BETWEEN %s AND %s"
        )
    for start in range(low, high + 1, chunk):
        cursor.execute(sql, [start, start + chunk - 1])


def tagged_newest_first(posts, tag):
    """`posts` (already public) carrying `tag`, newest first, read from the
    tag's index: the planner walks the tag's newest rows and joins each post by
    its key, whatever the size of the archive or the rarity of the tag."""
    return posts.filter(
        taggedpost__tag=tag, taggedpost__public_from__lte=Now()
    ).order_by("-taggedpost__public_from", "-taggedpost__content_object_id")


def public_rows(tag):
    """The tag's public (post, tag) rows: what its pages count, by their
    dates in the index's order (tagged_public_idx), so both databases walk
    that index alone and stop at the count's bound."""
    rows = TaggedPost.objects.filter(tag=tag, public_from__lte=Now())
    return rows.order_by("-public_from").values("public_from")


def _tag_id(slug):
    return Subquery(Tag.objects.filter(slug=slug).order_by().values("pk")[:1])


def tag_changes(*slugs) -> dict:
    """The validator parts (blog/caching.py) of a tag, or of the posts
    carrying every one of `slugs`, from the tags' own rows: the newest change
    of such a post (published, due or scheduled, as `marked_published()`;
    `post_changed_at`, tagged_changed_idx) and the newest due one
    (`public_from`, tagged_public_idx).

    One tag: one step down each of its indexes. Several: the first tag's
    rows newest first, each post probed for the others by the unique
    (post, tag) index, up to the first that carries them all: at most that
    tag's rows. Walking every post newest first instead, a pair of tags
    sharing one old post walked the whole archive (113-160 ms at 100,000
    posts on PostgreSQL). Each tag's id is a subquery, not a join: through a join
    PostgreSQL sorted the tag's rows instead of walking its index. The rows
    are read only if every slug names a tag (a condition on no row, checked
    once), so a made-up address walks nothing."""
    first, *others = slugs
    rows = TaggedPost.objects.filter(tag_id=_tag_id(first))
    for i, slug in enumerate(others):
        # A scalar subquery per row, not EXISTS: PostgreSQL turned an EXISTS
        # into a hash join of both tags' rows (7 ms for two common tags at
        # 100,000 posts) where a probe per row stops at the first match.
        probe = TaggedPost.objects.filter(
            content_object_id=OuterRef("content_object_id"), tag_id=_tag_id(slug)
        )
        rows = rows.alias(**{f"also_{i}": Subquery(probe.values("pk")[:1])}).filter(
            Exists(Tag.objects.filter(slug=slug)), **{f"also_{i}__isnull": False}
        )
    changed = rows.filter(post_changed_at__isnull=False)
    published = rows.filter(public_from__lte=Now())
    return {
        "updated": changed.order_by("-post_changed_at").values("post_changed_at")[:1],
        "published": published.order_by("-public_from").values("public_from")[:1],
    }
