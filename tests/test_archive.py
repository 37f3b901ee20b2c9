"""blog/archive.py: the archive's months and their counts, exact (scheduled
posts included on time, any time zone) and kept by the database itself."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from blog import archive
from blog.models import ArchiveMonth, Post
from tests.factories import make_post, make_section, make_user

pytestmark = pytest.mark.django_db


def reference():
    """What grouping every public post by local month gives: the truth."""
    counts = {}
    for post in Post.objects.published():
        local = timezone.localtime(post.published_at)
        key = (local.year, local.month)
        counts[key] = counts.get(key, 0) + 1
    return sorted(counts.items(), reverse=True)


def months():
    return [((m.year, m.month), n) for m, n in archive.months()]


def at(*args):
    return datetime(*args, tzinfo=UTC)


def test_counts_follow_every_kind_of_change():
    """Saves, queryset updates, bulk inserts and deletions all count: the
    triggers see what save() never does."""
    jan, feb = (
        make_post(published_at=at(2024, 1, 10)),
        make_post(published_at=at(2024, 2, 3)),
    )
    make_post(published_at=at(2024, 2, 9), status=Post.Status.DRAFT)
    assert months() == [((2024, 2), 1), ((2024, 1), 1)] == reference()
    Post.objects.filter(pk=jan.pk).update(published_at=at(2024, 2, 20))
    assert months() == [((2024, 2), 2)] == reference()
    Post.objects.filter(status=Post.Status.DRAFT).update(status=Post.Status.PUBLISHED)
    assert months() == [((2024, 2), 3)] == reference()
    Post.objects.filter(pk=feb.pk).update(status=Post.Status.DRAFT)
    assert months() == [((2024, 2), 2)] == reference()
    section, user = make_section(), make_user()
    Post.objects.bulk_create(
        Post(
            title=f"Bulk {i}", slug=f"bulk-{i}", section=section, author=user,
            status=Post.Status.PUBLISHED, published_at=at(2023, 12, i + 1),
        )
        for i in range(3)
    )  # fmt: skip
    assert months() == [((2024, 2), 2), ((2023, 12), 3)] == reference()
    Post.objects.filter(published_at__year=2023).delete()
    jan.delete()
    assert months() == [((2024, 2), 1)] == reference()


def test_a_scheduled_post_counts_once_due_without_a_job():
    """A scheduled post is not counted, then is once its time has come, by the
    database clock alone."""
    make_post(published_at=at(2024, 3, 1, 12))
    soon = timezone.now().replace(microsecond=0) + timedelta(seconds=2)
    make_post(published_at=soon)
    make_post(published_at=timezone.now() + timedelta(days=40))
    assert months() == [((2024, 3), 1)] == reference()
    time.sleep((soon - timezone.now()).total_seconds() + 0.2)
    local = timezone.localtime(soon)
    assert months() == [((local.year, local.month), 1), ((2024, 3), 1)] == reference()


def test_months_are_the_site_time_zones(settings):
    """In Paris, a post at 23:30 UTC on 31 January belongs to February; in
    New York one at 02:00 UTC on 1 March belongs to February."""
    settings.TIME_ZONE = "Europe/Paris"
    make_post(published_at=at(2024, 1, 31, 23, 30))
    make_post(published_at=at(2024, 1, 31, 22, 30))
    make_post(published_at=at(2024, 3, 1, 2))
    assert months() == [((2024, 3), 1), ((2024, 2), 1), ((2024, 1), 1)] == reference()
    settings.TIME_ZONE = "America/New_York"
    assert months() == [((2024, 2), 1), ((2024, 1), 2)] == reference()


def test_one_query_whatever_the_size_in_utc(settings, django_assert_num_queries):
    """UTC sites read the counts and the scheduled posts in one query."""
    settings.TIME_ZONE = "UTC"
    for day in range(1, 20):
        make_post(published_at=at(2022, day % 12 + 1, day))
    with django_assert_num_queries(1):
        archive.months()


def test_missing_triggers_are_restored_and_everything_recounted():
    """A migration that rebuilds blog_post (SQLite) drops its triggers: after
    migrate they come back and every month is counted again."""
    make_post(published_at=at(2024, 5, 5))
    names = (
        list(archive._SQLITE_TRIGGERS)
        if connection.vendor == "sqlite"
        else list(archive._PG_TRIGGERS)
    )
    with connection.cursor() as cursor:
        for name in names:
            on = "" if connection.vendor == "sqlite" else " ON blog_post"
            cursor.execute(f"DROP TRIGGER {name}{on}")
    make_post(published_at=at(2024, 5, 6))  # not counted: no trigger
    ArchiveMonth.objects.update(posts=0)
    archive.ensure_archive_counts(connection)
    assert months() == [((2024, 5), 2)] == reference()
    make_post(published_at=at(2024, 5, 7))
    assert months() == [((2024, 5), 3)]


def test_the_archive_page_and_year_page_read_the_counts(client):
    """/archive/ and a year page show the months with public posts only."""
    make_post(published_at=at(2024, 1, 10))
    make_post(published_at=at(2024, 4, 10))
    make_post(published_at=at(2024, 4, 11))
    make_post(published_at=at(2024, 6, 1), status=Post.Status.DRAFT)
    make_post(published_at=timezone.now() + timedelta(days=400))
    html = client.get("/archive/").content.decode()
    assert "2 articles" in html and "1 article" in html
    year = client.get("/2024/").content.decode()
    assert "/2024/04/" in year and "/2024/01/" in year and "/2024/06/" not in year


def test_a_month_page_links_the_nearest_months_with_posts(client):
    """A month links the nearest earlier and later months that have public
    posts (empty and scheduled-only months skipped); an empty month is 404."""
    make_post(published_at=at(2024, 1, 10))
    make_post(published_at=at(2024, 4, 10))
    make_post(published_at=at(2024, 6, 10), status=Post.Status.DRAFT)
    html = client.get("/2024/04/").content.decode()
    assert 'href="/2024/01/"' in html and "/2024/06/" not in html
    html = client.get("/2024/01/").content.decode()
    assert 'href="/2024/04/"' in html
    assert client.get("/2024/02/").status_code == 404
    assert client.get("/2024/06/").status_code == 404
