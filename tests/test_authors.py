"""blog/authors.py and its listing (blog/listings.AuthorListing): profiles,
ordered co-bylines, author pages and feeds, and what they cost."""

import importlib
import json
from datetime import timedelta

import feedparser
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from lxml import html as lxml_html

from blog.authors import Author, Byline, credit_owner
from blog.models import Post
from tests.factories import (
    make_author,
    make_post,
    make_section,
    make_tag,
    make_update,
    make_user,
)

pytestmark = pytest.mark.django_db


def page(response):
    assert response.status_code == 200, response.status_code
    return lxml_html.fromstring(response.content)


def byline_links(doc, selector):
    return [(a.text, a.get("href")) for a in doc.cssselect(f"{selector} a.author")]


@pytest.fixture
def pair():
    """Two writers sharing a story, one of them with a story of her own."""
    ada = make_author("Ada Lovelace", slug="ada-lovelace", bio="Writes on engines.")
    bob = make_author("Bob Byline", slug="bob-byline")
    shared = make_post("Shared story", authors=[bob, ada], age=timedelta(hours=2))
    own = make_post("Ada alone", authors=[ada], age=timedelta(hours=1))
    return ada, bob, shared, own


def test_article_byline_lists_every_author_in_order_with_links(client, pair):
    """An article's byline names each author in byline order, linking their page."""
    _, _, shared, _ = pair
    doc = page(client.get(shared.get_absolute_url()))
    assert byline_links(doc, ".byline") == [
        ("Bob Byline", "/author/bob-byline/"),
        ("Ada Lovelace", "/author/ada-lovelace/"),
    ]


def test_cards_carry_the_byline(client, pair):
    """Cards in lists link every author of the post."""
    doc = page(client.get("/"))
    cards = {
        card.cssselect(".card-title a")[0].text: byline_links(card, ".card-byline")
        for card in doc.cssselect(".card")
    }
    assert [name for name, _ in cards["Shared story"]] == ["Bob Byline", "Ada Lovelace"]
    assert cards["Ada alone"] == [("Ada Lovelace", "/author/ada-lovelace/")]


def test_author_page_lists_only_their_public_posts(client, pair):
    """/author/<slug>/ shows the author's live posts, with name and bio; not
    drafts, not scheduled posts, not other writers' posts."""
    ada = pair[0]
    make_post("Ada draft", authors=[ada], status=Post.Status.DRAFT)
    make_post("Ada tomorrow", authors=[ada], age=-timedelta(hours=3))
    make_post("Someone else")
    doc = page(client.get("/author/ada-lovelace/"))
    assert doc.cssselect("h1")[0].text == "Ada Lovelace"
    assert "Writes on engines." in doc.cssselect(".page-description")[0].text
    titles = [a.text for a in doc.cssselect(".card-title a")]
    assert titles == ["Ada alone", "Shared story"]


def test_author_page_paginates_and_refuses_unknowns(client, settings):
    """Author pages paginate like tag pages; unknown authors and pages are 404."""
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 2}
    ada = make_author(slug="ada")
    for i in range(3):
        make_post(f"Ada {i}", authors=[ada], age=timedelta(hours=i + 1))
    assert len(page(client.get("/author/ada/?page=2")).cssselect(".card")) == 1
    assert client.get("/author/ada/?page=3").status_code == 404
    assert client.get("/author/nobody/").status_code == 404
    assert client.get("/author/nobody/feed/").status_code == 404


def test_author_feeds_in_every_format_hold_their_posts(client, pair):
    """RSS, Atom and JSON Feed of an author carry exactly their live posts."""
    for suffix in ["feed/", "feed/atom/"]:
        parsed = feedparser.parse(client.get("/author/bob-byline/" + suffix).content)
        assert not parsed.bozo
        assert [e.title for e in parsed.entries] == ["Shared story"]
    document = json.loads(client.get("/author/ada-lovelace/feed/json/").content)
    assert [i["title"] for i in document["items"]] == ["Ada alone", "Shared story"]


def test_author_page_links_its_feeds(client, pair):
    """The author page announces its own three feeds for autodiscovery."""
    doc = page(client.get("/author/ada-lovelace/"))
    hrefs = [link.get("href") for link in doc.cssselect('link[rel="alternate"]')]
    for suffix in ["feed/", "feed/atom/", "feed/json/"]:
        assert "http://testserver/author/ada-lovelace/" + suffix in hrefs


def test_feeds_carry_every_author(client, pair):
    """RSS has one dc:creator per author, Atom one <author> with its page's URI,
    JSON Feed an authors list with URLs: in byline order."""
    from xml.etree import ElementTree as ET

    rss = ET.fromstring(client.get("/author/bob-byline/feed/").content)
    creators = rss.findall(".//item/{http://purl.org/dc/elements/1.1/}creator")
    assert [c.text for c in creators] == ["Bob Byline", "Ada Lovelace"]
    atom = ET.fromstring(client.get("/author/bob-byline/feed/atom/").content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    authors = atom.findall("a:entry/a:author", ns)
    assert [(a.findtext("a:name", namespaces=ns), a.findtext("a:uri", namespaces=ns))
            for a in authors] == [
        ("Bob Byline", "http://testserver/author/bob-byline/"),
        ("Ada Lovelace", "http://testserver/author/ada-lovelace/"),
    ]  # fmt: skip
    document = json.loads(client.get("/author/bob-byline/feed/json/").content)
    assert document["items"][0]["authors"] == [
        {"name": "Bob Byline", "url": "http://testserver/author/bob-byline/"},
        {"name": "Ada Lovelace", "url": "http://testserver/author/ada-lovelace/"},
    ]


def test_json_ld_authors_are_people_with_urls(client, pair):
    """JSON-LD `author` is a list of Person, each with their page's URL."""
    _, _, shared, _ = pair
    doc = page(client.get(shared.get_absolute_url()))
    article = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    assert article["author"] == [
        {"@type": "Person", "name": "Bob Byline", "url": "http://testserver/author/bob-byline/"},
        {"@type": "Person", "name": "Ada Lovelace", "url": "http://testserver/author/ada-lovelace/"},
    ]  # fmt: skip


def test_sitemap_lists_authors_with_public_posts(client, pair):
    """Authors credited on a live post are in the sitemap; others are not."""
    make_author(slug="silent")
    body = client.get("/sitemap-authors.xml").content.decode()
    assert "http://testserver/author/ada-lovelace/" in body
    assert "http://testserver/author/bob-byline/" in body
    assert "/author/silent/" not in body


@pytest.mark.parametrize("n_posts", [3, 30])
def test_author_page_and_feeds_cost_a_constant_number_of_queries(
    client, n_posts, django_assert_num_queries
):
    """An author page costs what a tag page costs (4 queries) and each of its
    feeds 3, however many posts and co-authors there are."""
    world = make_section("World")
    ada, bob = make_author(slug="ada"), make_author(slug="bob")
    for i in range(n_posts):
        post = make_post(
            f"Story {i}", section=world, authors=[ada, bob], tags=[make_tag()]
        )
        make_update(post)
    client.get("/")  # the navigation is read once per site change
    budgets = {"/author/ada/": 4, "/author/ada/feed/": 3, "/author/ada/feed/atom/": 3}
    budgets["/author/ada/feed/json/"] = 3
    for url, budget in budgets.items():
        with django_assert_num_queries(budget):
            assert client.get(url).status_code == 200, url


def test_a_new_byline_reaches_the_cached_author_page(client):
    """Crediting an author on a post shows it on their page at the next
    request; removing the credit takes it off again."""
    ada = make_author(slug="ada")
    make_post("First", authors=[ada])
    later = make_post("Later", age=timedelta(minutes=5))
    assert "Later" not in client.get("/author/ada/").content.decode()
    byline = Byline.objects.create(post=later, author=ada, position=1)
    assert "Later" in client.get("/author/ada/").content.decode()
    byline.delete()
    assert "Later" not in client.get("/author/ada/").content.decode()


def test_a_profile_edit_reaches_the_author_page(client):
    """A new bio is on the author page at the next request."""
    ada = make_author(slug="ada", bio="Old bio.")
    make_post(authors=[ada])
    client.get("/author/ada/")
    ada.bio = "New bio."
    ada.save()
    assert "New bio." in client.get("/author/ada/").content.decode()


def test_a_post_without_bylines_credits_its_owner():
    """credit_owner gives an uncredited post its owner's profile, made once."""
    owner = make_user(first_name="Grace", last_name="Hopper")
    first = make_post(author=owner)
    second = make_post(author=owner)
    assert first.bylines.get().author == second.bylines.get().author
    assert Author.objects.get(user=owner).slug == "grace-hopper"
    credit_owner(first)  # already credited: nothing added
    assert first.bylines.count() == 1


def test_profile_links_are_checked():
    """Links are http(s) URLs, one per line, at most five."""
    author = make_author(slug="ada", links="https://example.org\nhttp://a.example")
    author.full_clean()
    assert author.link_list == ["https://example.org", "http://a.example"]
    for links in ["javascript:alert(1)", "\n".join(["https://e.example"] * 6)]:
        author.links = links
        with pytest.raises(ValidationError):
            author.full_clean()


def test_migration_turns_each_owner_into_a_first_byline():
    """0007 gives every post a byline to its owner's new profile (one per user)."""
    owner = make_user(first_name="Ada", last_name="Writer")
    posts = [make_post(author=owner), make_post(author=owner)]
    Byline.objects.all().delete()
    Author.objects.all().delete()
    migration = importlib.import_module("blog.migrations.0007_authors_bylines")
    migration.credit_owners(apps, None)
    profile = Author.objects.get(user=owner)
    assert profile.display_name == "Ada Writer"
    for post in posts:
        assert [b.author for b in post.bylines.all()] == [profile]
