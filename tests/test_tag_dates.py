"""blog/tag_dates.py: each (post, tag) row carries its post's public date,
kept by the database, so a tag's pages and count read the tag's own index."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blog import tag_dates
from blog.listings import TagListing
from blog.models import Post, TaggedPost
from tests import plans
from tests.factories import make_post, make_section, make_tag, make_user

pytestmark = pytest.mark.django_db


def dates(tag):
    return sorted(
        (row.content_object_id, row.public_from)
        for row in TaggedPost.objects.filter(tag=tag)
    )


def expected(tag):
    posts = Post.objects.filter(tags=tag)
    return sorted(
        (p.pk, p.published_at if p.status == Post.Status.PUBLISHED else None)
        for p in posts
    )


def test_rows_follow_their_posts_whatever_changes_them():
    """Tagging, saving, queryset updates and bulk inserts all keep the date."""
    iran = make_tag("Iran")
    live = make_post(tags=[iran])
    draft = make_post(tags=[iran], status=Post.Status.DRAFT)
    scheduled = make_post(tags=[iran], age=timedelta(days=-2))
    assert dates(iran) == expected(iran)
    assert dict(dates(iran))[draft.pk] is None
    assert dict(dates(iran))[scheduled.pk] == scheduled.published_at
    Post.objects.filter(pk=draft.pk).update(status=Post.Status.PUBLISHED)
    Post.objects.filter(pk=live.pk).update(
        published_at=timezone.now() - timedelta(days=9)
    )
    live.refresh_from_db()
    live.status = Post.Status.DRAFT
    live.save()
    assert dates(iran) == expected(iran)
    post = Post.objects.bulk_create(
        [
            Post(
                title="Bulk", slug="bulk", section=make_section(), author=make_user(),
                status=Post.Status.PUBLISHED, published_at=timezone.now(),
            )
        ]
    )[0]  # fmt: skip
    TaggedPost.objects.bulk_create([TaggedPost(content_object_id=post.pk, tag=iran)])
    assert dates(iran) == expected(iran)


def changes(tag):
    return sorted(
        (row.content_object_id, row.post_changed_at)
        for row in TaggedPost.objects.filter(tag=tag)
    )


def expected_changes(tag):
    return sorted(
        (p.pk, p.updated_at if p.status == Post.Status.PUBLISHED else None)
        for p in Post.objects.filter(tags=tag)
    )


def test_rows_carry_their_posts_changes():
    """Each row carries its post's updated_at while the post is published
    (due or scheduled), NULL otherwise, whatever changed it: a save, a
    queryset update (a story update, a byline), a status change, tagging."""
    iran = make_tag("Iran")
    live = make_post(tags=[iran])
    draft = make_post(tags=[iran], status=Post.Status.DRAFT)
    scheduled = make_post(tags=[iran], age=timedelta(days=-2))
    assert changes(iran) == expected_changes(iran)
    assert dict(changes(iran))[draft.pk] is None
    scheduled.refresh_from_db()
    assert dict(changes(iran))[scheduled.pk] == scheduled.updated_at
    live.title = "Edited"
    live.save()
    Post.objects.filter(pk=scheduled.pk).update(
        updated_at=timezone.now() + timedelta(minutes=1)
    )
    assert changes(iran) == expected_changes(iran)
    Post.objects.filter(pk=draft.pk).update(status=Post.Status.PUBLISHED)
    live.status = Post.Status.DRAFT
    live.save()
    assert changes(iran) == expected_changes(iran)
    assert dict(changes(iran))[live.pk] is None


def test_a_tag_validator_follows_its_posts_changes():
    """A tag page's validator (read from the tag's rows) moves when a post
    carrying the tag is edited, even an old one, or comes due; not when a
    post without the tag changes; a draft's edit does not count."""
    iran, other = make_tag("Iran"), make_tag("Other")
    old = make_post(tags=[iran], age=timedelta(days=30))
    make_post(tags=[iran], age=timedelta(days=1))
    elsewhere = make_post(tags=[other])
    draft = make_post(tags=[iran], status=Post.Status.DRAFT)
    scheduled = make_post(tags=[iran], age=timedelta(hours=-1))
    before = TagListing.changed(None, slugs=["iran"])
    later = timezone.now() + timedelta(minutes=5)
    for post in (elsewhere, draft):
        Post.objects.filter(pk=post.pk).update(updated_at=later)
    assert TagListing.changed(None, slugs=["iran"]) == before
    Post.objects.filter(pk=old.pk).update(updated_at=later)
    assert TagListing.changed(None, slugs=["iran"]) == later
    # Coming due counts by the database clock, with no job.
    Post.objects.filter(pk=old.pk).update(updated_at=before)
    Post.objects.filter(pk=scheduled.pk).update(updated_at=before)
    assert TagListing.changed(None, slugs=["iran"]) == before
    due = (timezone.now() + timedelta(seconds=3)).replace(microsecond=0)
    Post.objects.filter(pk=scheduled.pk).update(published_at=due)
    assert TagListing.changed(None, slugs=["iran"]) == before
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.05)
    assert TagListing.changed(None, slugs=["iran"]) == due


def test_a_tag_page_shows_a_scheduled_post_once_due(client):
    """A scheduled post joins its tag's page and count on time, by the
    database clock, with no job."""
    iran = make_tag("Iran")
    make_post("Old", tags=[iran], age=timedelta(days=1))
    soon = timezone.now().replace(microsecond=0) + timedelta(seconds=5)
    make_post("Soon", tags=[iran], published_at=soon)
    make_post("Draft", tags=[iran], status=Post.Status.DRAFT)
    listing = TagListing([iran])
    assert [p.title for p in listing.posts()] == ["Old"]
    assert tag_dates.public_rows(iran).count() == 1
    time.sleep((soon - timezone.now()).total_seconds() + 0.2)
    assert [p.title for p in listing.posts()] == ["Soon", "Old"]
    assert tag_dates.public_rows(iran).count() == 2


def test_a_tag_page_is_newest_first_with_ties_by_id(client):
    """The tag's order is the site's: newest first, the later post first
    among posts published the same second."""
    iran = make_tag("Iran")
    moment = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    first = make_post(tags=[iran], published_at=moment)
    second = make_post(tags=[iran], published_at=moment)
    older = make_post(tags=[iran], published_at=moment - timedelta(hours=1))
    assert list(TagListing([iran]).posts()) == [second, first, older]


def test_a_tag_page_and_its_count_walk_the_tag_index():
    """Neither the page nor its count walks the public posts looking for the
    tag (what grew with the archive and with the rarity of the tag)."""
    if connection.vendor != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    iran = make_tag("Iran")
    make_post(tags=[iran])
    listing = TagListing([iran])
    for queryset in (listing.posts()[:12], tag_dates.public_rows(iran)[:1200]):
        sql, params = queryset.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[3] for row in cursor.fetchall()]
        assert "tagged_public_idx" in plan[0], plan
        assert not any("post_public_idx" in step for step in plan), plan


def test_missing_triggers_are_restored_and_every_row_redated():
    """A migration that rebuilds a table (SQLite) drops its triggers: after
    migrate they are back and every row is dated again."""
    iran = make_tag("Iran")
    post = make_post(tags=[iran])
    names = tag_dates._SQLITE_TRIGGERS if connection.vendor == "sqlite" else {}
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in names:
                cursor.execute(f"DROP TRIGGER {name}")
        else:
            for name, (table, _) in tag_dates._PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER {name} ON {table}")
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    assert dict(dates(iran))[post.pk] is not None  # stale: no trigger
    tag_dates.ensure_tag_dates(connection)
    assert dates(iran) == expected(iran)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHED)
    assert dates(iran) == expected(iran)


@pytest.mark.parametrize("slugs", [["iran"], ["iran", "russia"]])
def test_a_tag_validator_reads_one_step_of_each_tag_index(slugs):
    """A tag page's validator reads the tag's own rows newest first: one step
    of (tag, post_changed_at) and one of (tag, public_from), no post, no
    sort; an intersection walks the first tag's rows the same way, probing
    each for the others. It probed the tag on every post newest first
    (SQLite) or joined every post of the tag (PostgreSQL), which grew with
    the archive. On PostgreSQL, with the scans that ignore order turned off
    (the test tables are too small for the planner to prefer an index), the
    indexes must deliver the order by themselves."""
    from blog import caching

    iran, russia = make_tag("Iran"), make_tag("Russia")
    make_post(tags=[iran, russia])
    sql, params = caching._validator_sql(tag_dates.tag_changes(*slugs))
    assert "blog_post" not in sql
    plan = plans.plan(sql, params)
    if connection.vendor == "sqlite":
        assert "TEMP B-TREE" not in plan, plan
    else:
        assert "Sort" not in plan, plan
    assert "tagged_changed_idx" in plan, plan
    assert "tagged_public_idx" in plan, plan
