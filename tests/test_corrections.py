"""blog/corrections.py: correction notes, retractions and the curated front,
as readers, feed readers and caches see them (issue 7)."""

import time
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from lxml import html as lxml_html

from blog.corrections import MAX_PINS, Correction, PinnedFront
from blog.models import OldSlug, Post
from tests.factories import make_post, make_section, make_tag, make_update, make_user
from tests.test_markup import CLASSIC_VECTORS
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db


def correct(post, text="We misstated the date of the talks.", **fields):
    return Correction.objects.create(post=post, text=text, editor=make_user(), **fields)


def doc(response):
    return lxml_html.fromstring(response.content)


def etags(client, urls):
    return {url: client.get(url)["ETag"] for url in urls}


def count_queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


# -- Corrections -----------------------------------------------------------


def test_correction_shows_at_the_foot_in_the_sites_zone(client, settings):
    """A note reads "Correction, 25 November" (the day in the site's time zone)
    in a labelled section after the body, with its text rendered."""
    settings.TIME_ZONE = "Europe/Paris"
    post = make_post(
        "Talks resume", published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    )
    # 23:30 UTC on the 24th is 00:30 on the 25th in Paris.
    note = correct(
        post,
        "The talks are in **Vienna**, not Geneva.",
        noted_at=datetime(2026, 11, 24, 23, 30, tzinfo=UTC),
    )
    page = doc(client.get(post.get_absolute_url()))
    (section,) = page.cssselect("section.corrections")
    heading = section.get("aria-labelledby")
    assert section.cssselect(f"h2#{heading}")[0].text_content() == "Correction"
    (item,) = section.cssselect(f"li#correction-{note.pk}")
    title = item.cssselect("h3")[0]
    assert title.text_content() == "Correction, 25 November"
    assert title.cssselect("time")[0].get("datetime").startswith("2026-11-2")
    assert item.cssselect("strong")[0].text == "Vienna"
    # After the body, before the footer.
    body = page.cssselect(".article-body")[0]
    assert body.getnext() is section


def test_correction_dates_speak_the_sites_language(client, settings):
    """With the site in French, the day and month are French too."""
    settings.LANGUAGE_CODE = "fr"
    post = make_post(published_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    correct(post, noted_at=datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    page = doc(client.get(post.get_absolute_url()))
    assert "25 novembre" in page.cssselect(".correction h3")[0].text_content()


def test_notes_are_oldest_first_and_a_later_year_is_spelled_out(client):
    post = make_post(published_at=datetime(2025, 12, 30, tzinfo=UTC))
    correct(post, "Second.", noted_at=datetime(2026, 1, 3, 12, tzinfo=UTC))
    correct(post, "First.", noted_at=datetime(2025, 12, 31, 12, tzinfo=UTC))
    page = doc(client.get(post.get_absolute_url()))
    titles = [h.text_content() for h in page.cssselect(".correction h3")]
    assert titles == ["Correction, 31 December", "Correction, 3 January 2026"]
    assert page.cssselect("section.corrections h2")[0].text == "Corrections"


def test_hostile_markdown_in_a_correction_is_neutralised(client):
    """A note's Markdown goes through the site's sanitiser on every path: the
    article and its story feed carry no script."""
    post = make_post()
    for vector in CLASSIC_VECTORS:
        correct(post, f"Fixed. {vector}")
    page = client.get(post.get_absolute_url()).content.decode()
    notes = page[page.index('<section class="corrections"') :]
    notes = notes[: notes.index("</section>")]
    assert script_vectors(notes) == []
    feed = client.get(post.get_absolute_url() + "feed/json/").json()
    for item in feed["items"]:
        assert script_vectors(item["content_html"]) == [], item["title"]


def test_a_correction_moves_modified_and_the_listing_feed_entry(client):
    """Post.modified follows the newest note: the post's entry in the site
    feed shows as updated, and so does its JSON-LD."""
    post = make_post(age=timedelta(days=2))
    before = Post.objects.get(pk=post.pk).modified
    correct(post)
    post = Post.objects.get(pk=post.pk)
    assert post.modified > before
    assert post.modified >= post.corrections_shown[0].noted_at
    feed = feedparser.parse(client.get("/feed/atom/").content)
    (entry,) = feed.entries
    assert entry.updated_parsed != entry.published_parsed
    assert entry.updated.startswith(post.modified.strftime("%Y-%m-%dT%H:%M"))
    page = client.get(post.get_absolute_url()).content.decode()
    assert '"correction": [{"@type": "CorrectionComment"' in page
    assert (
        "Updated"
        in doc(client.get(post.get_absolute_url()))
        .cssselect(".byline")[0]
        .text_content()
    )


def feed_entries(client, url) -> list[dict]:
    """(title, id, link, text) of each item, read by feedparser (RSS, Atom)
    or as JSON Feed 1.1 (which feedparser does not read)."""
    response = client.get(url)
    assert response.status_code == 200, url
    if url.endswith("json/"):
        return [
            {
                "title": i["title"],
                "id": i["id"],
                "link": i["url"],
                "text": i["content_html"] + i["summary"],
            }
            for i in response.json()["items"]
        ]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return [
        {
            "title": e.title,
            "id": e.id,
            "link": e.link,
            "text": e.summary + "".join(c.value for c in e.get("content", [])),
        }
        for e in feed.entries
    ]


@pytest.mark.parametrize("fmt", ["", "atom/", "json/"])
def test_corrections_are_items_of_the_story_feed(client, fmt):
    """The article's own feed lists each note (RSS, Atom, JSON Feed) with a
    GUID that survives a change of slug and an edit of the note."""
    post = make_post("Talks resume", age=timedelta(days=2))
    make_update(post, body="Delegations arrive.", age=timedelta(days=1))
    note = correct(post, "The talks are in Vienna.")
    entries = feed_entries(client, post.get_absolute_url() + "feed/" + fmt)
    titles = [e["title"] for e in entries]
    assert titles[0].startswith("Correction, ")
    assert titles[0].endswith(": Talks resume")
    assert titles[1].startswith("Update, ") and titles[2] == "Talks resume"
    first = entries[0]
    assert first["link"].endswith(f"{post.get_absolute_url()}#correction-{note.pk}")
    assert "Vienna" in first["text"]
    guid = first["id"]
    assert guid.startswith("tag:") and guid.endswith(f":correction:{note.pk}")
    note.text = "The talks are in Vienna, Austria."
    note.save()
    post = Post.objects.get(pk=post.pk)
    post.slug = "talks-resume-in-vienna"
    post.save()
    again = feed_entries(client, post.get_absolute_url() + "feed/" + fmt)
    assert again[0]["id"] == guid
    assert "Austria" in again[0]["text"]


def test_corrections_cost_the_article_and_its_feed_no_query(client):
    """Notes are read with the post: the article page and its story feed make
    as many queries with three notes as with none (tests/test_views.py and
    tests/test_feeds.py lock the counts)."""
    tag = make_tag()
    post = make_post(tags=[tag, make_tag()], age=timedelta(days=1))
    make_post(tags=[tag], section=post.section, age=timedelta(days=2))
    urls = [post.get_absolute_url(), post.get_absolute_url() + "feed/json/"]
    for url in urls:
        client.get(url)  # per-process memos (navigation, footer) warmed
    bare = {url: count_queries(client, url) for url in urls}
    for n in range(3):
        correct(post, f"Note {n}.")
    client.get("/")
    assert {url: count_queries(client, url) for url in urls} == bare


def test_a_correction_invalidates_its_story_not_other_articles(client, settings):
    """Adding a note changes the validators of its article, story feed, the
    home page and its section and their feeds; not another article's."""
    settings.DATELINE = {**settings.DATELINE, "CDN_MAX_AGE": 10**9}
    world, economy = make_section("World"), make_section("Economy")
    post = make_post(section=world, age=timedelta(days=1))
    other = make_post(section=economy, age=timedelta(days=1))
    showing = [
        post.get_absolute_url(),
        post.get_absolute_url() + "feed/",
        "/",
        "/feed/",
        "/section/world/",
    ]
    not_showing = [other.get_absolute_url(), "/section/economy/"]
    before = etags(client, showing + not_showing)
    note = correct(post, "Misspelt a name.")
    after = etags(client, showing + not_showing)
    assert [url for url in showing if before[url] == after[url]] == []
    assert [url for url in not_showing if before[url] != after[url]] == []
    assert "Misspelt" in client.get(post.get_absolute_url()).content.decode()
    note.delete()
    assert "Misspelt" not in client.get(post.get_absolute_url()).content.decode()
    assert Post.objects.get(pk=post.pk).correction_notes == []


# -- Retractions -----------------------------------------------------------


def retract(post, reason="The central claim could not be verified."):
    post = Post.objects.get(pk=post.pk)
    post.status = Post.Status.RETRACTED
    post.retracted_at = timezone.now()
    post.retraction_reason = reason
    post.save()
    return post


def test_a_retracted_article_answers_410_with_a_notice(client):
    """Title, original date, retraction date and reason, marked noindex; the
    same at its old slug (301 there first); its story feeds answer 410."""
    tag = make_tag("Iran")
    post = make_post("Secret deal signed", tags=[tag], age=timedelta(days=3))
    url = post.get_absolute_url()
    old_url = url
    post.slug = "secret-deal-signed-in-vienna"
    post.save()
    assert OldSlug.objects.filter(post=post).exists()
    post = retract(post)
    url = post.get_absolute_url()
    response = client.get(url)
    assert response.status_code == 410
    assert response["X-Robots-Tag"] == "noindex"
    page = doc(response)
    assert page.cssselect("h1")[0].text == "Secret deal signed"
    assert page.cssselect('meta[name="robots"]')[0].get("content") == "noindex"
    assert not page.cssselect('script[type="application/ld+json"]') or (
        "NewsArticle" not in response.content.decode()
    )
    times = [t.get("datetime") for t in page.cssselect(".retraction-notice time")]
    assert len(times) == 2
    assert "could not be verified" in page.cssselect(".retraction-reason")[0].text
    moved = client.get(old_url)
    assert moved.status_code == 301 and moved["Location"] == url
    for fmt in ["", "atom/", "json/"]:
        assert client.get(url + "feed/" + fmt).status_code == 410
    # Again, from the cache: still a 410 with the notice.
    again = client.get(url)
    assert again.status_code == 410 and b"could not be verified" in again.content


def test_a_retracted_article_leaves_every_listing_feed_and_sitemap(client):
    world, tag = make_section("World"), make_tag("Iran")
    post = make_post("Secret deal signed", section=world, tags=[tag])
    make_post("Still standing", section=world, tags=[tag])
    day = timezone.localdate(post.published_at)
    urls = [
        "/",
        "/feed/",
        "/feed/atom/",
        "/feed/json/",
        "/section/world/",
        "/section/world/feed/",
        tag.get_absolute_url(),
        tag.get_absolute_url() + "feed/",
        f"/{day.year}/",
        f"/{day:%Y/%m}/",
        "/search/?q=secret",
        "/sitemap-posts.xml",
        "/sitemap-news.xml",
    ]
    before = {url: client.get(url).content.decode() for url in urls}
    assert all(
        "Secret deal signed" in body or post.slug in body for body in before.values()
    )
    retract(post)
    for url in urls:
        body = client.get(url).content.decode()
        assert "Secret deal signed" not in body and post.slug not in body, url
    assert "Still standing" in client.get("/").content.decode()


def test_a_retraction_is_not_a_404_and_unknown_slugs_still_are(client):
    post = retract(make_post())
    assert client.get(post.get_absolute_url()).status_code == 410
    assert client.get("/2026/01/01/never-was/").status_code == 404


# -- The curated front -----------------------------------------------------


def pin(post, until=timedelta(hours=2), position=1, where="home"):
    field = "pinned_home_until" if where == "home" else "pinned_section_until"
    setattr(post, field, timezone.now() + until)
    post.pin_position = position
    post.save()
    return post


def card_titles(response):
    return [a.text for a in doc(response).cssselect(".card-title a")]


def test_pins_lead_the_home_page_in_order_then_newest_first(client, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 5}
    posts = [make_post(f"Story {i}", age=timedelta(hours=i + 1)) for i in range(8)]
    pin(posts[6], position=1)  # an old story as the lead
    pin(posts[2], position=2)
    response = client.get("/")
    assert card_titles(response) == [
        "Story 6",
        "Story 2",
        "Story 0",
        "Story 1",
        "Story 3",
    ]
    page = doc(response)
    lead = page.cssselect(".front-pins .card-lead .card-title a")[0]
    assert lead.text == "Story 6"
    # Page 2 continues where page 1 stopped: no pin, nothing skipped or repeated.
    assert card_titles(client.get("/?page=2")) == ["Story 4", "Story 5", "Story 7"]
    # Feeds stay chronological.
    feed = feedparser.parse(client.get("/feed/").content)
    assert [e.title for e in feed.entries][:3] == ["Story 0", "Story 1", "Story 2"]


def test_section_pins_lead_their_section_only(client):
    world, economy = make_section("World"), make_section("Economy")
    old = make_post("Old world story", section=world, age=timedelta(days=3))
    make_post("New world story", section=world)
    make_post("Economy story", section=economy)
    pin(old, where="section")
    assert card_titles(client.get("/section/world/"))[0] == "Old world story"
    assert card_titles(client.get("/"))[0] != "Old world story"


def test_a_pin_expires_on_time_without_a_job(client):
    """The home page's validator moves when a pin's time passes: the next
    request shows newest first again, no job or save needed."""
    old = make_post("Old lead", age=timedelta(days=2))
    make_post("Newest")
    pin(old, until=timedelta(seconds=1.5))
    first = client.get("/")
    assert card_titles(first)[0] == "Old lead"
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    time.sleep(2)
    later = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200
    assert card_titles(later)[0] == "Newest"


def test_only_the_first_pins_count(client):
    """However the rows were written, at most MAX_PINS posts lead."""
    posts = [make_post(f"Story {i}", age=timedelta(days=i + 1)) for i in range(7)]
    for i, post in enumerate(posts):
        pin(post, position=i + 1)
    window = PinnedFront(Post.objects.published().for_listing(), "pinned_home_until")
    rows = list(window.window(0, 10))
    assert [p.title for p in rows[:MAX_PINS]] == [f"Story {i}" for i in range(4)]
    assert len(rows) == 7 and len({p.pk for p in rows}) == 7


@pytest.mark.parametrize("n_posts", [3, 30])
def test_pins_keep_the_listing_query_count(client, n_posts, django_assert_num_queries):
    """Home and section pages with pins make the queries tests/test_views.py
    locks for them (home 6 on a first visit, section 3)."""
    world = make_section("World")
    iran = make_tag("Iran")
    posts = [
        make_post(f"Story {i}", section=world, tags=[iran, make_tag()])
        for i in range(n_posts)
    ]
    for post in posts[-2:]:
        make_update(post)
        pin(post, position=2)
        pin(post, where="section", position=1)
    for url, budget in [("/", 6), ("/section/world/", 3)]:
        with django_assert_num_queries(budget):
            response = client.get(url)
        assert response.status_code == 200
        assert card_titles(response)[0] in {posts[-1].title, posts[-2].title}
