"""blog/caching.py: validators, conditional GET and the shared page cache."""

from datetime import timedelta

import pytest
from django.utils import timezone

from blog import caching
from blog.caching import newest_change
from blog.models import Post, SiteState, StoryUpdate
from blog.tag_dates import tag_changes
from tests import plans
from tests.factories import make_post, make_section, make_tag, make_update
from tests.processes import free_port

pytestmark = pytest.mark.django_db


def test_newest_change_is_one_query(django_assert_num_queries):
    """A listing's validator costs a single query, however big the listing."""
    for _ in range(5):
        make_update(make_post())
    with django_assert_num_queries(1):
        newest_change(Post.objects.all(), StoryUpdate.objects.published())


@pytest.mark.parametrize(
    "shape, build, args, lagging",
    [
        ("site", caching._site, (), False),
        ("story", caching._story, ("a-slug",), True),
        ("section", lambda s: (Post.objects.filter(section__slug=s), None), ("w",), 0),
        ("tag", lambda *s: (Post.objects.tagged(*s), None), ("a", "b"), False),
        ("tag", lambda *s: (tag_changes(*s), None), ("a",), False),
        ("tags", lambda *s: (tag_changes(*s), None), ("a", "b"), False),
        ("tags", lambda *s: (tag_changes(*s), None), ("a", "b", "c"), False),
    ],
)
def test_validator_sql_is_compiled_once_per_shape(shape, build, args, lagging):
    """A validator's SQL is compiled once per kind of page, not once per
    article (or per CDN period): each request only puts its own slugs and lag
    cutoff into the parameters, and gets exactly what the ORM would compile."""
    template = caching._template(build, len(args), bool(lagging))
    assert template is not None
    sql, params, slots = template
    cutoff = caching.lag_cutoff()
    expected = caching._validator_sql(*build(*args), cutoff if lagging else None)
    values = [*args, caching.connection.ops.adapt_datetimefield_value(cutoff)]
    filled = list(params)
    for position, index in slots:
        filled[position] = values[index]
    assert (sql, filled) == expected


def test_an_article_validator_reads_its_own_article(django_assert_num_queries):
    """Two articles, one compiled validator: each reads its own post."""
    first, second = make_post(age=timedelta(hours=2)), make_post()
    Post.objects.filter(pk=first.pk).update(
        updated_at=timezone.now() + timedelta(seconds=30)
    )
    with django_assert_num_queries(2):
        a = caching.story_changed(first.slug)
        b = caching.story_changed(second.slug)
    assert a > b


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


@pytest.mark.parametrize("url", ["/", "/feed/", "/feed/json/"])
def test_a_hit_is_served_as_the_miss_was(client, url):
    """A page served from the cache carries the headers its first request
    had (validators, Cache-Control, Vary, type) once each, with its own
    request id: a page is stored with them, and what one request adds to its
    response never reaches the next."""
    make_post("Cached")
    first, second, third = client.get(url), client.get(url), client.get(url)
    shared = ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Type",
              "Content-Security-Policy", "X-Frame-Options")  # fmt: skip
    for response in (second, third):
        assert response.content == first.content
        assert {h: response[h] for h in shared} == {h: first[h] for h in shared}
    assert first["Vary"].count("Cookie") == 1
    assert len({r["X-Request-ID"] for r in (first, second, third)}) == 3


def test_a_worker_serves_the_pages_it_holds_and_never_a_stale_one(
    client, settings, django_assert_num_queries
):
    """With a shared cache (Redis, here one that never answers), a worker keeps
    its own copy of each page it served, keyed by the page's validator: the
    next request costs the validator query alone, and an edit or a story
    update is on the very next request all the same (issue 8)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "blog.cache_backends.DegradingRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"retry_after": 3600},
        }
    }
    post = make_post("Before")
    for url in (post.get_absolute_url(), "/"):
        first = client.get(url)
        with django_assert_num_queries(1):
            assert client.get(url).content == first.content
    post = Post.objects.get(pk=post.pk)
    post.title = "After"
    post.save()
    for url in (post.get_absolute_url(), "/"):
        body = client.get(url).content.decode()
        assert "After" in body and "Before" not in body
    make_update(post, body="Breaking.", age=timedelta(0))
    assert "Breaking." in client.get(post.get_absolute_url()).content.decode()


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
    """Renaming an author's profile changes every byline on the next request."""
    post = make_post()
    client.get(post.get_absolute_url())
    client.get("/")
    author = post.bylines.get().author
    author.display_name = "Grace Reporter"
    author.save()
    assert "Grace Reporter" in client.get(post.get_absolute_url()).content.decode()
    assert "Grace Reporter" in client.get("/").content.decode()


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


def test_a_made_up_session_cookie_does_not_bypass_the_cache(
    client, django_assert_max_num_queries
):
    """`sessionid=x` is not an editor: it gets the cached public page, not a
    fresh render (issue 9)."""
    post = make_post()
    first = client.get(post.get_absolute_url())
    client.cookies["sessionid"] = "x"
    with django_assert_max_num_queries(2):  # the session lookup, the validator
        again = client.get(post.get_absolute_url())
    assert again.content == first.content
    assert "public" in again["Cache-Control"] and again["ETag"] == first["ETag"]


def test_a_reader_session_gets_the_cached_page(client, django_assert_max_num_queries):
    """A logged-in reader who is not staff reads the same cached page."""
    from tests.factories import make_user

    make_post()
    first = client.get("/")
    client.force_login(make_user())
    with django_assert_max_num_queries(3):  # session, user, validator
        again = client.get("/")
    assert again.content == first.content and "public" in again["Cache-Control"]


def test_one_host_cannot_poison_pages_for_another(client, settings):
    """Without SITE_URL, pages for one allowed host never carry another's
    absolute URLs, whichever asked first (issue 9)."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["localhost", "[::1]"]
    post = make_post()
    for url in ("/", post.get_absolute_url(), "/feed/"):
        client.get(url, HTTP_HOST="[::1]")
        body = client.get(url, HTTP_HOST="localhost").content.decode()
        assert "[::1]" not in body and "http://localhost/" in body, url


def test_a_disallowed_host_is_refused_and_not_cached(client, settings):
    """A Host outside ALLOWED_HOSTS is a 400, never a cached page."""
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["localhost"]
    make_post()
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400
    assert "evil.example" not in client.get("/", HTTP_HOST="localhost").content.decode()


def test_site_url_makes_every_host_share_one_page(client, settings):
    """With SITE_URL set, links come from it whatever Host asked."""
    settings.SITE_URL = "https://news.example.org"
    settings.ALLOWED_HOSTS = ["localhost", "[::1]"]
    make_post()
    first = client.get("/", HTTP_HOST="[::1]")
    again = client.get("/", HTTP_HOST="localhost")
    assert again.content == first.content
    assert "https://news.example.org/" in again.content.decode()


def etags(client, urls):
    return {url: client.get(url)["ETag"] for url in urls}


def test_an_edit_invalidates_what_shows_it_and_not_other_articles(client, settings):
    """Editing a post changes its article, home, its section and tag pages and
    feeds; another article's validator does not move (issue 8)."""
    # Other articles catch up once per CDN max-age period; a period far longer
    # than the test keeps a period boundary from falling inside it.
    settings.DATELINE = {**settings.DATELINE, "CDN_MAX_AGE": 10**9}
    world, economy, iran = make_section("World"), make_section("Economy"), make_tag()
    post = make_post("Edited", section=world, tags=[iran], age=timedelta(days=1))
    other = make_post("Untouched", section=economy, age=timedelta(days=1))
    showing = [
        post.get_absolute_url(),
        "/",
        "/feed/",
        "/section/world/",
        "/section/world/feed/",
        iran.get_absolute_url(),
        iran.get_absolute_url() + "feed/atom/",
    ]
    not_showing = [other.get_absolute_url(), "/section/economy/"]
    before = etags(client, showing + not_showing)
    post = Post.objects.get(pk=post.pk)
    post.title = "Edited again"
    post.save()
    after = etags(client, showing + not_showing)
    assert [url for url in showing if before[url] == after[url]] == []
    assert [url for url in not_showing if before[url] != after[url]] == []
    assert "Edited again" in client.get(post.get_absolute_url()).content.decode()


def test_a_story_update_invalidates_its_story_not_other_articles(client, settings):
    """A story update reaches its article, its feeds and the home page at once;
    other articles keep their validators."""
    settings.DATELINE = {**settings.DATELINE, "CDN_MAX_AGE": 10**9}  # as above
    story = make_post("Story", age=timedelta(days=1))
    other = make_post("Other", age=timedelta(days=1))
    urls = [story.get_absolute_url(), story.get_absolute_url() + "feed/", "/"]
    before = etags(client, [*urls, other.get_absolute_url()])
    make_update(story, body="Breaking.", age=timedelta(0))
    after = etags(client, [*urls, other.get_absolute_url()])
    assert all(before[url] != after[url] for url in urls)
    assert before[other.get_absolute_url()] == after[other.get_absolute_url()]
    assert "Breaking." in client.get(story.get_absolute_url()).content.decode()


def test_other_articles_catch_up_within_the_cdn_max_age(client, settings):
    """Related posts and previous/next on other articles lag an edit by at
    most DATELINE_CDN_MAX_AGE seconds."""
    import time

    settings.DATELINE = {**settings.DATELINE, "CDN_MAX_AGE": 1}
    tag = make_tag()
    other = make_post("Other", tags=[tag], age=timedelta(days=1))
    post = make_post("Related", tags=[tag], age=timedelta(days=2))
    client.get(other.get_absolute_url())
    post = Post.objects.get(pk=post.pk)
    post.title = "Related, renamed"
    post.save()
    time.sleep(1.1)
    assert "Related, renamed" in client.get(other.get_absolute_url()).content.decode()


def _intersection_changed(*slugs):
    from blog.listings import TagListing

    return TagListing.changed(None, slugs=list(slugs))


def test_an_intersection_validator_follows_posts_carrying_every_tag():
    """/tag/a+b/ changes when a post carrying both tags changes or comes due,
    not when a post carrying only one of them does."""
    iran, russia = make_tag("Iran"), make_tag("Russia")
    both = make_post(tags=[iran, russia], age=timedelta(days=2))
    one = make_post(tags=[iran], age=timedelta(days=3))
    scheduled = make_post(tags=[iran, russia], age=timedelta(hours=-1))
    old = timezone.now() - timedelta(days=5)
    Post.objects.update(updated_at=old)
    SiteState.objects.filter(pk=1).update(changed_at=old)
    before = _intersection_changed("iran", "russia")
    assert before == Post.objects.get(pk=both.pk).published_at
    later = timezone.now() + timedelta(minutes=5)
    Post.objects.filter(pk=one.pk).update(updated_at=later)
    assert _intersection_changed("iran", "russia") == before
    Post.objects.filter(pk=both.pk).update(updated_at=later)
    assert _intersection_changed("iran", "russia") == later
    # A scheduled post carrying both counts once due, by the database clock.
    Post.objects.filter(pk=both.pk).update(updated_at=old)
    assert _intersection_changed("iran", "russia") == before
    due = (timezone.now() - timedelta(seconds=1)).replace(microsecond=0)
    Post.objects.filter(pk=scheduled.pk).update(published_at=due)
    assert _intersection_changed("iran", "russia") == due


@pytest.mark.parametrize(
    "slugs", [["no-such-tag"], ["no-such-tag", "iran"], ["iran", "no-such-tag"]]
)
def test_an_unknown_tag_validator_reads_no_post(slugs):
    """A tag page's validator runs before the view can answer 404, so an
    address naming a tag that does not exist must cost nothing (it walked
    every post looking for the tag: 400 ms at 100,000 posts on PostgreSQL).
    It reads the tags' own rows, never the posts: an unknown first tag has no
    id to walk, and the others' rows are read only if every slug names a tag
    (a condition checked once, before walking). The page still answers 404."""
    from django.db import connection
    from django.test import Client

    iran = make_tag("Iran")
    for _ in range(3):
        make_post(tags=[iran])
    assert _intersection_changed(*slugs) is not None
    assert Client().get(f"/tag/{'+'.join(slugs)}/").status_code == 404
    sql, params = caching._validator_sql(tag_changes(*slugs))
    assert "blog_post" not in sql
    if connection.vendor != "postgresql":
        return
    plan = plans.plan(sql, params, explain="EXPLAIN (ANALYZE, COSTS OFF)")
    walks = [line for line in plan.splitlines() if "using tagged_" in line]
    assert walks, plan
    for line in walks:  # never entered, or entered with no tag id to match
        assert "never executed" in line or "rows=0 " in line, plan


def test_an_editors_request_keys_nothing_on_a_leftover_site_state(rf, admin_user):
    """An editor's request, like a reader's, starts with no SiteState time (a
    time left by a validator run outside a request keys no memo of its) and
    leaves the caller's own time as it was."""
    from django.conf import settings
    from django.http import HttpResponse

    seen = []

    @caching.public_cache()
    def view(request):
        seen.append(caching.SITE_STATE.get())
        return HttpResponse("ok")

    request = rf.get("/")
    request.user = admin_user
    request.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    left = timezone.now() - timedelta(days=1)
    token = caching.SITE_STATE.set(left)
    try:
        assert caching.is_editor(request)
        assert view(request).status_code == 200
        assert seen == [None]
        assert caching.SITE_STATE.get() == left
    finally:
        caching.SITE_STATE.reset(token)
