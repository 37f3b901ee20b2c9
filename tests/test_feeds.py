"""blog/feeds.py: RSS 2.0, Atom 1.0 and JSON Feed 1.1 for every listing.

Feeds are read the way subscribers read them: with feedparser (a real feed
client), as XML, with the RFC 4287 schema through jing, and JSON Feed field
by field against the 1.1 spec.
"""

import html
import json
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import feedparser
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from lxml import etree as lxml_etree

from blog.models import Post
from tests.conftest import SHARED, require_tool, which
from tests.factories import make_post, make_section, make_tag, make_update
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "media": "http://search.yahoo.com/mrss/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
FORMATS = {"rss": "", "atom": "atom/", "json": "json/"}
CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}


@pytest.fixture
def newsroom():
    """A small newsroom: two sections, tags, a developing story, a draft and a
    scheduled post that must never show."""
    world, economy = make_section("World"), make_section("Economy")
    iran, russia, energy = make_tag("Iran"), make_tag("Russia"), make_tag("Energy")
    older = make_post("Older story", section=world, tags=[iran], age=timedelta(days=2))
    story = make_post(
        "Iran & Russia talk",
        section=world,
        tags=[iran, russia],
        body="See [the section](/section/world/) and [below](#details).\n\n## Details\n\n"
        "![Chart](/media/chart.png)",
        age=timedelta(hours=3),
    )
    make_update(story, body="First update.", age=timedelta(hours=2))
    make_update(story, body="Second update.", age=timedelta(hours=1))
    make_update(story, body="Future update.", age=-timedelta(hours=1))
    make_post(
        "Oil markets", section=economy, tags=[energy, russia], age=timedelta(hours=1)
    )
    make_post("Secret draft", section=world, tags=[iran], status=Post.Status.DRAFT)
    make_post("Future story", section=world, tags=[iran], age=-timedelta(hours=2))
    return {"story": story, "older": older}


def listing_feeds(story):
    """Every kind of listing, as the URL of its RSS feed."""
    return {
        "latest": "/feed/",
        "section": "/section/world/feed/",
        "tag": "/tag/iran/feed/",
        "intersection": "/tag/iran+russia/feed/",
        "story": story.get_absolute_url() + "feed/",
    }


def all_feed_urls(story):
    return [
        base + suffix
        for base in listing_feeds(story).values()
        for suffix in FORMATS.values()
    ]


def fetch(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response


def parse(client, url):
    parsed = feedparser.parse(fetch(client, url).content)
    assert not parsed.bozo, (url, parsed.get("bozo_exception"))
    return parsed


def test_every_listing_has_three_formats_with_the_right_content_type(client, newsroom):
    """RSS, Atom and JSON Feed exist for every listing, with charset."""
    for base in listing_feeds(newsroom["story"]).values():
        for fmt, suffix in FORMATS.items():
            response = fetch(client, base + suffix)
            assert response["Content-Type"] == CONTENT_TYPES[fmt], base + suffix


@pytest.mark.parametrize("suffix", ["", "atom/"])
def test_latest_feed_items_carry_everything(client, newsroom, suffix):
    """Items: permalink, stable id, title, author, dates, summary, full HTML,
    categories — newest first, drafts and scheduled posts absent."""
    feed = parse(client, "/feed/" + suffix)
    titles = [html.unescape(entry.title) for entry in feed.entries]
    assert titles == ["Oil markets", "Iran & Russia talk", "Older story"]
    story = newsroom["story"]
    entry = feed.entries[1]
    assert entry.link == "http://testserver" + story.get_absolute_url()
    assert entry.id == story.guid()
    assert entry.author == story.author.get_full_name()
    assert entry.summary == story.summary
    assert 'id="details"' in entry.content[0].value
    assert {tag.term for tag in entry.tags} >= {"World", "Iran", "Russia"} or {
        tag.label for tag in entry.tags
    } >= {"World", "Iran", "Russia"}
    published = datetime(
        *entry.published_parsed[:6],
        tzinfo=timezone.UTC if hasattr(timezone, "UTC") else None,
    )
    assert (
        abs(
            (
                published.replace(tzinfo=None) - story.published_at.replace(tzinfo=None)
            ).total_seconds()
        )
        < 1
    )


def test_rss_has_content_encoded_description_and_self_link(client, newsroom):
    """RSS: description is the summary, content:encoded the full sanitised HTML,
    atom:link rel=self, language and lastBuildDate on the channel."""
    root = ET.fromstring(fetch(client, "/feed/").content)
    channel = root.find("channel")
    assert (
        channel.find("atom:link[@rel='self']", NS).get("href")
        == "http://testserver/feed/"
    )
    assert channel.findtext("language") == "en"
    assert channel.find("image/url").text.startswith(
        "http://testserver/static/img/logo"
    )
    item = channel.findall("item")[1]
    assert html.unescape(item.findtext("description")) == newsroom["story"].summary
    content = item.findtext("content:encoded", namespaces=NS)
    assert '<h2 id="details">' in content
    assert item.find("guid").get("isPermaLink") == "false"
    assert (
        item.findtext("dc:creator", namespaces=NS)
        == newsroom["story"].author.get_full_name()
    )
    parsedate_to_datetime(channel.findtext("lastBuildDate"))


def test_atom_has_summary_and_html_content(client, newsroom):
    """Atom: <summary type=text> and <content type=html>, entry updated times,
    categories with term and label, icon and logo."""
    root = ET.fromstring(fetch(client, "/feed/atom/").content)
    entry = root.findall("atom:entry", NS)[1]
    assert entry.find("atom:summary", NS).get("type") == "text"
    assert entry.find("atom:content", NS).get("type") == "html"
    assert entry.findtext("atom:updated", namespaces=NS)
    labels = {c.get("label") for c in entry.findall("atom:category", NS)}
    assert {"World", "Iran", "Russia"} <= labels
    assert root.findtext("atom:icon", namespaces=NS).startswith(
        "http://testserver/static/"
    )
    assert (
        root.find("atom:link[@rel='self']", NS).get("href")
        == "http://testserver/feed/atom/"
    )


def test_atom_feeds_are_valid_against_rfc_4287(client, newsroom, tmp_path):
    """Every Atom feed validates against the RFC 4287 RELAX NG schema (jing)."""
    schema = SHARED / "schemas" / "atom.rnc"
    if not schema.exists():
        pytest.skip(f"{schema} is absent")
    require_tool(
        which("jing") is not None, "jing is not installed (Debian package jing)"
    )
    for base in listing_feeds(newsroom["story"]).values():
        path = tmp_path / "feed.xml"
        path.write_bytes(fetch(client, base + "atom/").content)
        result = subprocess.run(
            ["jing", "-c", str(schema), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, (base, result.stdout)


def test_json_feed_follows_the_1_1_spec(client, newsroom):
    """JSON Feed 1.1, field by field: version, title, URLs, items with id,
    url, title, content_html, summary, RFC 3339 dates, authors, tags."""
    document = json.loads(fetch(client, "/feed/json/").content)
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Dateline"
    assert document["home_page_url"] == "http://testserver/"
    assert document["feed_url"] == "http://testserver/feed/json/"
    assert document["language"] == "en"
    assert document["icon"].startswith("http://testserver/") and document["favicon"]
    assert isinstance(document["authors"], list) and document["authors"][0]["name"]
    assert "hubs" not in document
    items = document["items"]
    assert [item["title"] for item in items] == [
        "Oil markets",
        "Iran & Russia talk",
        "Older story",
    ]
    story = newsroom["story"]
    item = items[1]
    assert set(item) >= {"id", "url", "title", "content_html", "summary", "date_published",
                         "date_modified", "authors", "tags"}  # fmt: skip
    assert item["id"] == story.guid() and isinstance(item["id"], str)
    assert item["url"] == "http://testserver" + story.get_absolute_url()
    assert item["summary"] == story.summary
    assert '<h2 id="details">' in item["content_html"]
    author = story.bylines.get().author
    assert item["authors"] == [
        {"name": author.display_name, "url": f"http://testserver/author/{author.slug}/"}
    ]
    assert item["tags"] == ["World", "Iran", "Russia"]
    for key in ("date_published", "date_modified"):
        assert datetime.fromisoformat(item[key]).tzinfo is not None


def test_content_urls_are_absolute(client, newsroom):
    """Links and images inside content are absolute in all three formats."""
    story = newsroom["story"]
    base = "http://testserver" + story.get_absolute_url()
    expected = [
        'href="http://testserver/section/world/"',
        f'href="{base}#details"',
        'src="http://testserver/media/chart.png"',
    ]
    rss = ET.fromstring(fetch(client, "/feed/").content)
    atom = ET.fromstring(fetch(client, "/feed/atom/").content)
    contents = [
        rss.findall("channel/item")[1].findtext("content:encoded", namespaces=NS),
        atom.findall("atom:entry", NS)[1].findtext("atom:content", namespaces=NS),
        json.loads(fetch(client, "/feed/json/").content)["items"][1]["content_html"],
    ]
    for content in contents:
        for fragment in expected:
            assert fragment in content


def test_section_tag_and_intersection_feeds_hold_only_their_posts(client, newsroom):
    """Each listing's feed holds exactly that listing's live posts."""
    expect = {
        "/section/world/feed/": ["Iran & Russia talk", "Older story"],
        "/section/economy/feed/": ["Oil markets"],
        "/tag/iran/feed/": ["Iran & Russia talk", "Older story"],
        "/tag/russia/feed/": ["Oil markets", "Iran & Russia talk"],
        "/tag/iran+russia/feed/": ["Iran & Russia talk"],
        "/tag/energy+russia/feed/atom/": ["Oil markets"],
    }
    for url, titles in expect.items():
        feed = parse(client, url)
        assert [html.unescape(e.title) for e in feed.entries] == titles, url


def test_channel_titles_name_the_listing(client, newsroom):
    """A feed's title says which listing it is."""
    assert parse(client, "/section/world/feed/").feed.title == "World — Dateline"
    assert (
        parse(client, "/tag/iran+russia/feed/atom/").feed.title
        == "Iran + Russia — Dateline"
    )
    assert parse(client, "/feed/").feed.link == "http://testserver/"


def test_story_feed_carries_due_updates_then_the_article(client, newsroom):
    """An article's feed: its due updates newest first, then the article itself."""
    story = newsroom["story"]
    feed = parse(client, story.get_absolute_url() + "feed/atom/")
    assert [e.summary for e in feed.entries[:2]] == ["Second update.", "First update."]
    assert html.unescape(feed.entries[-1].title) == "Iran & Russia talk"
    assert len(feed.entries) == 3
    assert feed.entries[0].link.startswith(
        "http://testserver" + story.get_absolute_url() + "#update-"
    )
    assert len({e.id for e in feed.entries}) == 3


@pytest.mark.parametrize(
    "url",
    [
        "/section/nowhere/feed/",
        "/tag/nothing/feed/json/",
        "/tag/iran+nothing/feed/atom/",
        "/2026/01/01/no-such-story/feed/",
    ],
)
def test_unknown_listings_are_404(client, newsroom, url):
    """A feed of an unknown section, tag or article is a 404."""
    assert client.get(url).status_code == 404


def test_draft_story_feed_is_404(client, newsroom):
    """A draft has no public feed."""
    draft = Post.objects.get(title="Secret draft")
    assert client.get(draft.get_absolute_url() + "feed/").status_code == 404


def test_drafts_and_scheduled_never_in_any_feed_until_due(client, newsroom):
    """No feed of any kind mentions a draft or a scheduled post; once due, the
    scheduled post appears in every feed that lists it — with no edit."""
    urls = all_feed_urls(newsroom["story"])[:-3]
    for url in urls:
        body = fetch(client, url).content.decode()
        assert "Secret draft" not in body and "Future story" not in body, url
    scheduled = make_post(
        "Due soon",
        section=Post.objects.get(title="Older story").section,
        tags=[make_tag("Iran") if False else newsroom["older"].tags.first()],
        # Whole seconds once saved; room for a loaded machine to fetch 12 feeds.
        published_at=timezone.now() + timedelta(seconds=4),
    )
    for url in urls:
        assert "Due soon" not in fetch(client, url).content.decode(), url
    import time

    time.sleep(max(0, (scheduled.published_at - timezone.now()).total_seconds()) + 0.05)
    for url in urls:
        if "iran+russia" in url:
            continue
        assert "Due soon" in fetch(client, url).content.decode(), url


def test_guid_is_stable_across_slug_date_and_section_changes(client, newsroom):
    """Changing slug, date and section changes the link but never the id."""
    story = newsroom["story"]
    before = {e.title: e.id for e in parse(client, "/feed/atom/").entries}
    story = Post.objects.get(pk=story.pk)
    story.slug = "renamed-story"
    story.published_at -= timedelta(days=1)
    story.section = make_section("Middle East")
    story.save()
    after = parse(client, "/feed/atom/").entries
    moved = next(e for e in after if e.title == "Iran & Russia talk")
    assert moved.id == before["Iran & Russia talk"]
    assert moved.link.endswith("/renamed-story/")


def test_feed_validators_answer_304_before_any_work(
    client, newsroom, django_assert_num_queries
):
    """Every feed sends ETag and Last-Modified; If-None-Match or
    If-Modified-Since gets a bodyless 304 after one cheap query."""
    for url in all_feed_urls(newsroom["story"]):
        first = fetch(client, url)
        etag, modified = first["ETag"], first["Last-Modified"]
        assert (
            "public" in first["Cache-Control"] and "s-maxage" in first["Cache-Control"]
        )
        with django_assert_num_queries(1):
            again = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304 and again.content == b"", url
        with django_assert_num_queries(1):
            again = client.get(url, HTTP_IF_MODIFIED_SINCE=modified)
        assert again.status_code == 304, url
        assert client.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_head_works_on_feeds(client, newsroom):
    """HEAD answers like GET, without a body."""
    response = client.head("/feed/atom/")
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_feeds_are_sent_in_one_piece(client, newsroom, fmt):
    """A feed, rendered or from the cache, is one chunk for the WSGI server
    (written element by element it was ~1,000 chunks: one socket write each,
    issue 8)."""
    for _ in range(2):  # the render, then the cached copy
        response = fetch(client, "/feed/" + FORMATS[fmt])
        assert len(list(response)) == 1


def test_validators_follow_the_feeds_own_changes(client, newsroom):
    """Editing a post changes the ETag of the feeds listing it, not others;
    a new story update changes its story feed."""
    story = newsroom["story"]
    urls = [
        "/section/world/feed/",
        "/section/economy/feed/",
        story.get_absolute_url() + "feed/",
    ]
    before = {url: fetch(client, url)["ETag"] for url in urls}
    oil = Post.objects.get(title="Oil markets")
    oil.summary = "Changed."
    oil.save()
    after = {url: fetch(client, url)["ETag"] for url in urls}
    assert after["/section/economy/feed/"] != before["/section/economy/feed/"]
    assert after["/section/world/feed/"] == before["/section/world/feed/"]
    make_update(story, body="Third update.")
    assert fetch(client, urls[2])["ETag"] != after[urls[2]]
    assert "Third update." in fetch(client, urls[2]).content.decode()


def test_unpublishing_changes_the_validator(client, newsroom):
    """A post leaving a feed changes that feed's validators too."""
    before = fetch(client, "/section/world/feed/")
    story = Post.objects.get(pk=newsroom["story"].pk)
    story.status = Post.Status.DRAFT
    story.save()
    after = client.get("/section/world/feed/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert "Iran &amp; Russia talk" not in after.content.decode()


@pytest.mark.parametrize("n_posts", [2, 25])
def test_feed_query_counts_do_not_grow_with_items(
    client, n_posts, django_assert_num_queries
):
    """Each feed costs a constant number of queries, whatever its length."""
    world, iran, russia = make_section("World"), make_tag("Iran"), make_tag("Russia")
    for _ in range(n_posts):
        post = make_post(section=world, tags=[iran, russia, make_tag()])
        make_update(post)
    for _ in range(n_posts):  # the story feed's length grows too
        make_update(post)
    # The validator, the listing's own object (tags) and its items with their
    # tags in one query; a story: validator, post, its updates. A section's
    # comes from the navigation's sections, read once per SiteState change
    # (blog/caching.nav_sections): here by the home page, not counted.
    fetch(client, "/")
    budgets = {
        "/feed/": 2,
        "/section/world/feed/": 2,
        "/tag/iran/feed/": 3,
        "/tag/iran+russia/feed/": 3,
        post.get_absolute_url() + "feed/": 3,
    }
    for base, budget in budgets.items():
        for suffix in FORMATS.values():
            with django_assert_num_queries(budget):
                fetch(client, base + suffix)


def test_item_count_is_configurable(client, settings):
    """DATELINE_FEED_ITEMS sets the number of items (default 20)."""
    for _ in range(25):
        make_post()
    assert len(parse(client, "/feed/").entries) == 20
    settings.DATELINE = {**settings.DATELINE, "FEED_ITEMS": 5}
    assert len(parse(client, "/feed/atom/").entries) == 5


def test_lead_image_is_enclosure_media_content_and_json_image(client):
    """The lead image travels as enclosure (real length and type), media:content
    and JSON Feed image."""
    from tests.test_images import png_bytes

    post = make_post("With picture")
    post.lead_image.save("pic.png", ContentFile(png_bytes(1600, 900)), save=False)
    post.lead_image_alt = "A harbour at dawn"
    post.save()
    post.refresh_from_db()
    rendition = post.lead_image_renditions[-1]
    root = ET.fromstring(fetch(client, "/feed/").content)
    enclosure = root.find("channel/item/enclosure")
    assert enclosure.get("type") == "image/jpeg"
    assert int(enclosure.get("length")) == rendition["bytes"]
    image_response = client.get(enclosure.get("url").removeprefix("http://testserver"))
    assert int(image_response["Content-Length"]) == rendition["bytes"]
    media = root.find("channel/item/media:content", NS)
    assert media.get("width") == "1440" and media.get("medium") == "image"
    assert media.findtext("media:description", namespaces=NS) == "A harbour at dawn"
    item = json.loads(fetch(client, "/feed/json/").content)["items"][0]
    assert item["image"] == enclosure.get("url")
    atom = ET.fromstring(fetch(client, "/feed/atom/").content)
    assert atom.find("atom:entry/atom:link[@rel='enclosure']", NS).get("length") == str(
        rendition["bytes"]
    )


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'


def test_hostile_title_summary_and_tag_come_out_escaped(client):
    """A hostile title, summary and tag name are text in all three formats:
    never markup a reader would run."""
    post = make_post(HOSTILE, summary=HOSTILE, tags=[make_tag(HOSTILE)], body=HOSTILE)
    rss = parse(client, "/feed/")
    atom = parse(client, "/feed/atom/")
    for entry in (rss.entries[0], atom.entries[0]):
        assert html.unescape(entry.title) == HOSTILE or entry.title == HOSTILE
    root = ET.fromstring(fetch(client, "/feed/").content)
    item = root.find("channel/item")
    # Titles are plain text, read back exactly (issue 10); the description is
    # HTML in RSS, so the plain-text summary is escaped once more.
    assert item.findtext("title") == HOSTILE
    assert script_vectors(item.findtext("description")) == []
    assert script_vectors(item.findtext("content:encoded", namespaces=NS)) == []
    atom_root = ET.fromstring(fetch(client, "/feed/atom/").content)
    entry = atom_root.find("atom:entry", NS)
    assert entry.find("atom:title", NS).get("type") == "text"
    assert entry.findtext("atom:title", namespaces=NS) == HOSTILE
    assert script_vectors(entry.findtext("atom:content", namespaces=NS)) == []
    item = json.loads(fetch(client, "/feed/json/").content)["items"][0]
    assert item["title"] == HOSTILE and item["summary"] == HOSTILE
    assert HOSTILE in item["tags"]
    assert script_vectors(item["content_html"]) == []
    # The channel titles (a tag's name) are text too.
    tag_rss = ET.fromstring(
        fetch(client, post.tags.first().get_absolute_url() + "feed/").content
    )
    assert tag_rss.findtext("channel/title").startswith(HOSTILE)
    # The tag feed's own title is the hostile name, as text.
    tag_feed = ET.fromstring(
        fetch(client, post.tags.first().get_absolute_url() + "feed/atom/").content
    )
    assert tag_feed.findtext("atom:title", namespaces=NS).startswith(HOSTILE)


def test_feeds_offer_an_xsl_view_for_browsers(client, newsroom):
    """RSS and Atom link an XSL stylesheet that turns them into a readable page."""
    for url in ("/feed/", "/feed/atom/"):
        body = fetch(client, url).content
        assert b'<?xml-stylesheet href="http://testserver/static/feeds/feed.' in body
    from django.contrib.staticfiles import finders

    xslt = lxml_etree.XSLT(lxml_etree.parse(finders.find("feeds/feed.xsl")))
    for url in ("/feed/", "/feed/atom/"):
        page = str(xslt(lxml_etree.fromstring(fetch(client, url).content)))
        assert "Iran &amp; Russia talk" in page and "feed reader" in page


def test_websub_hub_is_advertised_when_configured(client, newsroom, settings):
    """With WEBSUB_HUB set, every format names the hub."""
    settings.DATELINE = {**settings.DATELINE, "WEBSUB_HUB": "https://hub.example/"}
    rss = ET.fromstring(fetch(client, "/feed/").content)
    assert (
        rss.find("channel/atom:link[@rel='hub']", NS).get("href")
        == "https://hub.example/"
    )
    atom = ET.fromstring(fetch(client, "/feed/atom/").content)
    assert atom.find("atom:link[@rel='hub']", NS).get("href") == "https://hub.example/"
    document = json.loads(fetch(client, "/feed/json/").content)
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]


def test_site_url_makes_feed_urls_absolute_behind_a_proxy(client, newsroom, settings):
    """With SITE_URL set, feed links use it whatever Host the proxy passed."""
    settings.SITE_URL = "https://news.example"
    document = json.loads(fetch(client, "/feed/json/").content)
    assert document["feed_url"] == "https://news.example/feed/json/"
    assert document["items"][0]["url"].startswith("https://news.example/")
    assert document["items"][0]["id"].startswith("tag:news.example,")


def test_browsers_get_the_xsl_view_readers_get_the_feed_type(client, newsroom):
    """A browser (asking for HTML) gets application/xml so the XSL view applies;
    a feed reader gets the feed's own type; caches keep them apart."""
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    reader = "application/rss+xml, application/atom+xml, */*;q=0.5"
    for url, own in (("/feed/", "rss"), ("/feed/atom/", "atom")):
        as_browser = client.get(url, HTTP_ACCEPT=browser)
        as_reader = client.get(url, HTTP_ACCEPT=reader)
        assert as_browser["Content-Type"] == "application/xml; charset=utf-8"
        assert as_reader["Content-Type"] == CONTENT_TYPES[own]
        assert as_browser["ETag"] != as_reader["ETag"]
        assert "Accept" in as_reader["Vary"]
        assert client.get(url)["Content-Type"] == CONTENT_TYPES[own]
    assert (
        client.get("/feed/json/", HTTP_ACCEPT=browser)["Content-Type"]
        == CONTENT_TYPES["json"]
    )


def test_xsl_view_of_hostile_feeds_stays_text(client):
    """In the browser view of RSS and Atom, hostile names and titles stay text."""
    from django.contrib.staticfiles import finders

    post = make_post(HOSTILE, summary=HOSTILE, tags=[make_tag("</title>" + HOSTILE)])
    xslt = lxml_etree.XSLT(lxml_etree.parse(finders.find("feeds/feed.xsl")))
    tag_url = post.tags.first().get_absolute_url()
    for url in ("/feed/", "/feed/atom/", tag_url + "feed/", tag_url + "feed/atom/"):
        page = str(xslt(lxml_etree.fromstring(fetch(client, url).content)))
        assert script_vectors(page.split("</head>", 1)[1]) == [], url
        assert "<script" not in page, url


PLAIN_TITLES = ["<script>", "AT&T", "A < B", 'Tom & Jerry\'s "show"']


def read_titles(client, url) -> tuple[str, str]:
    """(channel title, first item title) as a feed client reads them:
    feedparser for RSS and Atom, the JSON Feed fields for JSON."""
    content = fetch(client, url).content
    if url.endswith("json/"):
        document = json.loads(content)
        return document["title"], document["items"][0]["title"]
    parsed = feedparser.parse(content)
    return parsed.feed.title, parsed.entries[0].title


@pytest.mark.parametrize("title", PLAIN_TITLES)
def test_titles_round_trip_exactly_through_feedparser(client, title):
    """Item and channel titles come back from feedparser exactly as written,
    in RSS, Atom and JSON Feed: no &amp; shown to a reader (issue 10)."""
    section = make_section(title, slug="desk")
    post = make_post(title, tags=[make_tag(title)], section=section)
    listings = ["/feed/", post.section.get_absolute_url() + "feed/"]
    listings.append(post.tags.first().get_absolute_url() + "feed/")
    for base in listings:
        for suffix in FORMATS.values():
            channel, item = read_titles(client, base + suffix)
            assert item == title, base + suffix
            if base != "/feed/":
                assert channel == f"{title} — Dateline", base + suffix


def test_shared_article_title_round_trips(client, shared_article):
    """The shared article's title reads as written in every format."""
    from blog.importing import split_front_matter

    meta, _ = split_front_matter(shared_article)
    post = make_post(meta["title"])
    for suffix in FORMATS.values():
        _, item = read_titles(client, "/feed/" + suffix)
        assert item == post.title == "Iran & Russia: Latest News & Updates"


def test_story_update_titles_use_the_site_time_zone(client, settings):
    """An update's title gives its time in the site's zone, with the zone's
    name, as the article page prints it (issue 10)."""
    settings.TIME_ZONE = "Europe/Paris"
    post = make_post("Talks", age=timedelta(days=1))
    when = timezone.now().replace(month=1, day=15, hour=18, minute=26, second=0)
    when = when.replace(year=timezone.now().year - 1, microsecond=0)
    make_update(post, published_at=when)
    parsed = feedparser.parse(fetch(client, post.get_absolute_url() + "feed/").content)
    assert (
        parsed.entries[0].title == f"Update, 15 January {when.year}, 19:26 CET: Talks"
    )
    article = client.get(post.get_absolute_url()).content.decode()
    assert f"15 January {when.year}, 19:26 CET" in article


LEGACY = {
    "rss/": "feed/",
    "rss.xml": "feed/",
    "feed/rss2/": "feed/",
    "index.xml": "feed/",
    "atom.xml": "feed/atom/",
    "feed.json": "feed/json/",
}


def test_legacy_feed_addresses_redirect_to_the_canonical_feeds(client, newsroom):
    """Addresses WordPress, Ghost and Hugo readers use answer 301 to our feeds,
    for the site, sections, tags and stories (issue 10)."""
    story = newsroom["story"]
    for base in ("/", "/section/world/", "/tag/iran/", story.get_absolute_url()):
        for legacy, canonical in LEGACY.items():
            response = client.get(base + legacy)
            assert response.status_code == 301, base + legacy
            assert response["Location"] == base + canonical, base + legacy
            assert client.get(response["Location"]).status_code == 200


def test_story_feed_follows_its_article_to_a_new_address(client, newsroom):
    """A story feed at an old slug or a wrong date answers 301 to its canonical address."""
    story = Post.objects.get(pk=newsroom["story"].pk)
    old = story.get_absolute_url()
    story.slug = "talks-renamed"
    story.save()
    for suffix in FORMATS.values():
        response = client.get(old + "feed/" + suffix)
        assert response.status_code == 301
        assert response["Location"] == story.get_absolute_url() + "feed/" + suffix
    response = client.get("/1999/01/01/talks-renamed/feed/atom/")
    assert response.status_code == 301
    assert response["Location"] == story.get_absolute_url() + "feed/atom/"


# -- Speed without change (issue 8) -------------------------------------------


def generator_output(generator_class, steps) -> str:
    from io import StringIO

    out = StringIO()
    handler = generator_class(out, "utf-8", short_empty_elements=True)
    handler.startDocument()
    for method, *args in steps:
        getattr(handler, method)(*args)
    return out.getvalue()


AWKWARD_TEXT = "Tom & Jerry <b>“quoted”</b> 'single' \"double\"\n\ttabbed\r"


@pytest.mark.parametrize(
    "steps",
    [
        [("addQuickElement", "title", AWKWARD_TEXT)],
        [("addQuickElement", "link", "", {"href": AWKWARD_TEXT, "rel": "alternate"})],
        [("addQuickElement", "link", None, {"z": "1", "a": 'it\'s "both"'})],
        [("addQuickElement", "empty", "")],
        [("addQuickElement", "none")],
        [
            ("startElement", "item", {}),
            ("addQuickElement", "category", "", {"term": "a&b", "label": "<x>"}),
            ("startElement", "media:content", {"url": "http://x/?a=1&b=2"}),
            ("addQuickElement", "media:description", AWKWARD_TEXT, {"type": "plain"}),
            ("endElement", "media:content"),
            ("startElement", "image", {}),
            ("endElement", "image"),
            ("addQuickElement", "content:encoded", "<p>" + AWKWARD_TEXT * 500 + "</p>"),
            ("endElement", "item"),
        ],
        # A long text written again (as every request writes the same bodies)
        # comes from the escaped texts kept in the process.
        [
            ("addQuickElement", "content", "<p>" + AWKWARD_TEXT * 400 + "</p>"),
            ("addQuickElement", "content", "<p>" + AWKWARD_TEXT * 400 + "</p>"),
            ("addQuickElement", "summary", "x" * 5000, {"type": "text"}),
            ("addQuickElement", "summary", "x" * 5000, {"type": "text"}),
        ],
    ],
)
def test_feed_xml_generator_writes_what_djangos_writes(steps):
    """Our one-piece element writer gives the bytes Django's
    SimplerXMLGenerator gives: escaping, sorted and quoted attributes, empty
    elements, elements opened just before."""
    from django.utils.xmlutils import SimplerXMLGenerator

    from blog.feeds import FeedXMLGenerator

    assert generator_output(FeedXMLGenerator, steps) == generator_output(
        SimplerXMLGenerator, steps
    )


@pytest.mark.parametrize("character", ["\x00", "\x08", "\x0b", "\x0c", "\x1f"])
@pytest.mark.parametrize("length", [1, 20_000])
def test_control_characters_are_refused_as_django_refuses_them(character, length):
    """Text XML 1.0 cannot carry fails loudly, in a title or in a long body."""
    from django.utils.xmlutils import UnserializableContentError

    from blog.feeds import FeedXMLGenerator

    text = "a" * (length // 2) + character + "b\n" * (length // 4)
    with pytest.raises(UnserializableContentError):
        generator_output(FeedXMLGenerator, [("addQuickElement", "content", text)])


@pytest.mark.parametrize("character", ["\x00", "\x0b", "\x1f"])
def test_control_characters_are_refused_every_time(character):
    """A long text refused once is refused again: only texts that were written
    are kept escaped, never one that failed."""
    from django.utils.xmlutils import UnserializableContentError

    from blog.feeds import FeedXMLGenerator

    text = "<p>" + "b\n" * 5000 + character + "</p>"
    for _ in range(2):
        with pytest.raises(UnserializableContentError):
            generator_output(FeedXMLGenerator, [("addQuickElement", "content", text)])


def test_kept_escaped_texts_are_bounded(monkeypatch):
    """The long texts kept escaped in a process (a feed writes the same twenty
    bodies on every request) never hold more than their bound, however many
    distinct bodies pass, and what is written stays what Django writes."""
    from django.utils.xmlutils import SimplerXMLGenerator

    from blog import feeds

    monkeypatch.setattr(feeds, "MAX_ESCAPED_CHARS", 100_000)
    feeds.forget_escaped()
    for n in range(60):
        steps = [("addQuickElement", "c", f"<p>{n}</p>" + "x & y " * 2000)] * 2
        assert generator_output(feeds.FeedXMLGenerator, steps) == generator_output(
            SimplerXMLGenerator, steps
        )
        assert 0 < feeds.escaped_kept_chars() <= 100_000
    feeds.forget_escaped()


def test_feed_paths_follow_the_script_prefix():
    """Paths reversed once per process still follow the script prefix (a site
    mounted under /news/) and the URLconf."""
    from django.urls import reverse, set_script_prefix

    from blog.reversing import reverse as memo_reverse

    kwargs = {"year": 2026, "month": "01", "day": "02", "slug": "a-story"}
    try:
        for prefix in ["/", "/news/", "/"]:
            set_script_prefix(prefix)
            assert memo_reverse("blog:post", kwargs) == reverse(
                "blog:post", kwargs=kwargs
            )
            assert memo_reverse("blog:post", kwargs).startswith(prefix)
    finally:
        set_script_prefix("/")


def test_feed_links_are_the_posts_own_addresses(client, newsroom):
    """Every item links its post's canonical address (a story update: the
    article's address and its anchor), whatever the listing."""
    story = newsroom["story"]
    for url in all_feed_urls(story):
        if url.endswith("json/"):
            links = [i["url"] for i in json.loads(fetch(client, url).content)["items"]]
        else:
            links = [e.link for e in parse(client, url).entries]
        for link in links:
            path = link.removeprefix("http://testserver")
            post_url, _, anchor = path.partition("#")
            post = next(
                p for p in Post.objects.all() if p.get_absolute_url() == post_url
            )
            assert not anchor or (post == story and anchor.startswith("update-"))


def test_categories_are_the_section_then_the_tags_by_name(client):
    """A post's categories: its section, then its tags sorted by name, in
    every listing's feed (read from the row) and in its story feed."""
    section = make_section("World")
    tags = [make_tag(name) for name in ["zeta", "Alpha", "mu"]]
    post = make_post(section=section, tags=tags)
    expected = ["World", "Alpha", "mu", "zeta"]
    for url in ["/feed/", "/section/world/feed/", post.get_absolute_url() + "feed/"]:
        entry = parse(client, url).entries[-1]
        assert [t.term for t in entry.tags] == expected, url


def test_feed_items_read_no_body_and_no_account(client, newsroom, settings):
    """A feed item's query reads its feed HTML, not the Markdown, the page
    HTML or the search text, nor its owner's password or e-mail (issue 8)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in ["/feed/", "/section/world/feed/atom/", "/tag/iran+russia/feed/json/"]:
        with CaptureQueriesContext(connection) as queries:
            fetch(client, url)
        items = [q["sql"] for q in queries if '"feed_html"' in q["sql"]]
        assert len(items) == 1, url
        for column in ['"body"', '"body_html"', '"body_text"', '"password"', '"email"']:
            assert column not in items[0], (url, column)


def story_update_content(client, story) -> str:
    entries = parse(client, story.get_absolute_url() + "feed/atom/").entries
    return next(e for e in entries if "#update-" in e.link).content[0].value


def test_story_updates_carry_their_feed_html_from_the_save(client, newsroom):
    """A story update is made absolute once, when saved (`feed_html`): its
    feed item links the site and the story's own sections absolutely."""
    story = newsroom["story"]
    update = make_update(
        story, body="See [the desk](/section/world/) and [below](#details)."
    )
    assert update.feed_path == story.get_absolute_url()
    content = story_update_content(client, story)
    assert 'href="http://testserver/section/world/"' in content
    assert f'href="http://testserver{story.get_absolute_url()}#details"' in content


def test_story_update_links_follow_the_story_to_a_new_address(client, newsroom):
    """When the story moves (a new slug), its updates' relative links follow it
    at once, though the updates were made absolute against the old address."""
    story = newsroom["story"]
    make_update(story, body="More [below](#details).")
    old_path = story.get_absolute_url()
    story.slug = "iran-and-russia-talk-again"
    story.save()
    content = story_update_content(client, story)
    assert f'href="http://testserver{story.get_absolute_url()}#details"' in content
    assert old_path not in content
