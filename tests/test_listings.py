"""blog/listings.py: what a listing's pages count, and on which index."""

import pytest
from django.db import connection

from blog.listings import LatestListing, SectionListing, TagListing
from tests.factories import make_post, make_section, make_tag
from tests.plans import plan

pytestmark = pytest.mark.django_db

BOUND = 1200  # BoundedPaginator: 12 a page, 100 pages


def counted(rows) -> str:
    sql, params = rows[:BOUND].query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) counted", params  # noqa: S608


def listings():
    section, tag = make_section("World"), make_tag("Iran")
    for _ in range(3):
        make_post(section=section, tags=[tag])
    make_post(status="draft", section=section, tags=[tag])
    return [
        (LatestListing(), "post_public_idx"),
        (SectionListing(section), "post_section_idx"),
        (TagListing([tag]), "tagged_public_idx"),
    ]


def test_each_listing_counts_as_many_rows_as_it_has_posts():
    """The rows a listing's pages count are its public posts, one each."""
    for listing, _ in listings():
        sql, params = counted(listing.count_rows())
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert cursor.fetchone()[0] == listing.posts().count() == 3


def test_each_listing_is_counted_on_its_own_index_in_its_order():
    """The bounded count walks the listing's own index in the index's order,
    so it stops at the bound: no sort, no other index. In no order,
    PostgreSQL read every row of the biggest section at 100,000 posts (a
    bitmap heap scan, 18 ms); in the posts' own order (-published_at, -id),
    both databases walked the newest-first index of every post and filtered
    it. On PostgreSQL, with scans that ignore the order turned off (the test
    tables are too small for the planner to prefer any index), the index
    must deliver the order by itself: no Sort node. The section and the tag
    hold a few of many posts, and PostgreSQL is given their statistics
    (inside the test's transaction): a section it believed to hold most posts
    is cheaper to find by filtering the newest-first index of every post."""
    elsewhere = make_section("Economy")
    for _ in range(12):
        make_post(section=elsewhere)
    found = listings()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE blog_post, blog_taggedpost")
    for listing, index in found:
        steps = plan(*counted(listing.count_rows()))
        if connection.vendor == "sqlite":
            assert f"USING COVERING INDEX {index}" in steps, steps
            assert "TEMP B-TREE" not in steps, steps
        else:
            assert f"using {index} on" in steps, steps
            assert "Sort" not in steps, steps


def test_a_section_is_taken_from_the_navigation_when_site_state_was_read(
    django_assert_num_queries,
):
    """With this request's SiteState time read, a section listing takes its
    section from the navigation's sections (caching.nav_sections, remembered
    per that time): no query. Without one, or for a section the list does not
    hold, it reads the database; an unknown slug is a 404."""
    from django.http import Http404
    from django.utils import timezone

    from blog import caching

    world = make_section("World")
    token = caching.SITE_STATE.set(timezone.now())
    try:
        caching.nav_sections()  # remembered under this time
        with django_assert_num_queries(0):
            assert SectionListing.resolve("world").section == world
        newer = make_section("Newer")  # not in the remembered list
        with django_assert_num_queries(1):
            assert SectionListing.resolve("newer").section == newer
        with django_assert_num_queries(1), pytest.raises(Http404):
            SectionListing.resolve("nowhere")
        caching.SITE_STATE.set(None)
        with django_assert_num_queries(1):
            assert SectionListing.resolve("world").section == world
    finally:
        caching.SITE_STATE.reset(token)
