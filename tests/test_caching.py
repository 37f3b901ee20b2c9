"""blog/caching.py: validators, conditional GET and the shared page cache."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blog.caching import newest_change
from blog.models import Post, SiteState, StoryUpdate
from tests.factories import make_post, make_section, make_tag, make_update

pytestmark = pytest.mark.django_db


def test_newest_change_is_one_query(django_assert_num_queries):
    """A listing's validator costs a single query, however big the listing."""
    for _ in range(5):
        make_update(make_post())
    with django_assert_num_queries(1):
        newest_change(Post.objects.all(), StoryUpdate.objects.published())


def test_newest_change_sees_edits_schedules_and_removals():
    """The validator moves for an edit, a post coming due and a removal."""
    post = make_post()
    first = newest_change(Post.objects.all())
    Post.objects.filter(pk=post.pk).update(
        updated_at=timezone.now() + timedelta(seconds=5)
    )
    second = newest_change(Post.objects.all())
    assert second > first
    later = timezone.now() + timedelta(seconds=10)
    make_post(published_at=later)  # scheduled: not counted yet
    assert newest_change(Post.objects.all()) == second
    SiteState.objects.filter(pk=1).update(changed_at=later + timedelta(seconds=1))
    assert newest_change(Post.objects.all()) > second


def test_newest_change_survives_a_missing_state_row():
    """If the SiteState row was lost (a bare flush), it is recreated."""
    make_post()
    SiteState.objects.all().delete()
    assert newest_change(Post.objects.all()) is not None
    assert SiteState.objects.filter(pk=1).exists()


def test_pages_send_validators_and_shared_cache_headers(client):
    """Anonymous pages carry ETag, Last-Modified, Cache-Control for CDNs and Vary: Cookie."""
    make_post()
    response = client.get("/")
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"].endswith("GMT")
    assert (
        "public" in response["Cache-Control"]
        and "s-maxage=60" in response["Cache-Control"]
    )
    assert "Cookie" in response["Vary"]


def test_pages_answer_304_to_a_matching_validator(client, django_assert_num_queries):
    """If-None-Match or If-Modified-Since answer 304 after one query."""
    post = make_post()
    for url in ("/", post.get_absolute_url(), "/section/" + post.section.slug + "/"):
        first = client.get(url)
        with django_assert_num_queries(1):
            assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
        with django_assert_num_queries(1):
            again = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
            assert again.status_code == 304


def test_an_edit_is_visible_on_the_very_next_request(client):
    """Editing a post changes every page showing it at once: the cache key moves."""
    post = make_post("Before")
    assert "Before" in client.get("/").content.decode()
    post = Post.objects.get(pk=post.pk)
    post.title = "After"
    post.save()
    body = client.get("/").content.decode()
    assert "After" in body and "Before" not in body


def test_a_section_rename_reaches_every_page(client):
    """Renaming a section (nav on every page) changes every page's validator."""
    post = make_post(section=make_section("World"))
    client.get(post.get_absolute_url())
    section = post.section
    section.name = "Planet"
    section.save()
    assert "Planet" in client.get(post.get_absolute_url()).content.decode()


def test_an_unpublished_post_disappears_at_once(client):
    """Unpublishing removes a post from cached pages on the next request."""
    post = make_post("Withdrawn")
    assert "Withdrawn" in client.get("/").content.decode()
    post = Post.objects.get(pk=post.pk)
    post.status = Post.Status.DRAFT
    post.save()
    assert "Withdrawn" not in client.get("/").content.decode()


def test_pages_are_cached(client, django_assert_num_queries):
    """A second anonymous request is served from the cache: the same bytes for
    one validator query, on whichever backend (local memory or Redis)."""
    post = make_post("Cached")
    first = client.get(post.get_absolute_url())
    with django_assert_num_queries(1):
        second = client.get(post.get_absolute_url())
    assert first.content == second.content


def test_editors_bypass_the_cache_and_are_never_cached(staff_client):
    """A logged-in editor gets fresh pages with private, no-cache headers."""
    make_post()
    response = staff_client.get("/")
    assert (
        "private" in response["Cache-Control"]
        and "no-cache" in response["Cache-Control"]
    )
    assert "ETag" not in response or "public" not in response["Cache-Control"]


def test_error_pages_are_not_cached(client):
    """A 404 is not stored: a post created at that address appears at once."""
    section = make_section("World")
    assert client.get("/tag/iran/").status_code == 404
    make_post(section=section, tags=[make_tag("Iran")])
    assert client.get("/tag/iran/").status_code == 200


def test_head_requests_get_headers_only(client):
    """HEAD on a page answers 200 with validators and no body."""
    make_post()
    response = client.head("/")
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"]


def test_an_author_rename_reaches_pages(client):
    """Renaming an author changes every byline on the next request."""
    post = make_post()
    client.get(post.get_absolute_url())
    author = post.author
    author.first_name, author.last_name = "Grace", "Reporter"
    author.save()
    assert "Grace Reporter" in client.get(post.get_absolute_url()).content.decode()


def test_a_login_does_not_invalidate_pages(client, django_assert_num_queries):
    """An editor logging in (last_login only) leaves the cache alone."""
    from django.contrib.auth.models import update_last_login

    post = make_post()
    client.get("/")
    update_last_login(None, post.author)
    with django_assert_num_queries(1):
        client.get("/")


def test_foreign_query_parameters_share_the_cached_page(
    client, settings, django_assert_num_queries
):
    """?utm_source=… and friends neither multiply cache entries nor leak into links."""
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 1}
    make_post(), make_post(), make_post()
    first = client.get("/?page=2&utm_source=newsletter")
    assert "utm_source" not in first.content.decode()
    with django_assert_num_queries(1):
        again = client.get("/?utm_campaign=x&page=2")
    assert again.content == first.content
    assert client.get("/?page=3").content != first.content


def test_a_settings_change_is_a_new_representation(client, settings):
    """Changing what pages say (e.g. the feed length) changes the ETag: no stale 304."""
    for _ in range(3):
        make_post()
    first = client.get("/feed/")
    settings.DATELINE = {**settings.DATELINE, "FEED_ITEMS": 1}
    again = client.get("/feed/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200
    assert again.content.count(b"<item>") == 1
