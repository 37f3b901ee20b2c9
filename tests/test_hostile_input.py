"""Hostile text in any field an author controls is inert on every path: pages,
search, feeds (RSS, Atom, JSON) and the admin preview. Each path is compared
with the same page built from harmless text: nothing that can run script may
appear beyond what the page has anyway (its search form, its JSON-LD)."""

import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from blog.models import Post, Section
from tests.conftest import SHARED
from tests.factories import make_post, make_section, make_tag
from tests.test_markup import CLASSIC_VECTORS
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db


def vectors():
    chosen = list(CLASSIC_VECTORS)
    corpus = SHARED / "security" / "xss-corpus.jsonl"
    if corpus.exists():
        lines = corpus.read_text(encoding="utf-8").splitlines()
        chosen += [json.loads(line)["payload"] for line in lines[::40]]
    return chosen


def problems(html: str) -> Counter:
    return Counter(script_vectors(html))


def build(texts, settings):
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 1000, "FEED_ITEMS": 1000}
    section = Section.objects.filter(slug="world").first() or make_section("World")
    posts = []
    for n, text in enumerate(texts):
        tag = make_tag(f"{text[:80]} {n}")
        posts.append(
            make_post(
                text[:200] or "x",
                summary=text[:400],
                body=text,
                section=section,
                tags=[tag],
            )
        )
    return posts


PATHS = ["/", "/section/world/"]
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
}


def render_all(client, posts):
    pages = {path: client.get(path).content.decode() for path in PATHS}
    for post in posts[:: max(1, len(posts) // 25)]:
        pages[post.get_absolute_url()] = client.get(
            post.get_absolute_url()
        ).content.decode()
        tag = post.tags.first()
        pages[tag.get_absolute_url()] = client.get(
            tag.get_absolute_url()
        ).content.decode()
    return pages


def test_hostile_titles_summaries_tags_and_bodies_are_inert_everywhere(
    client, settings
):
    """No page or feed gains a script vector from hostile author text."""
    hostile = vectors()
    baseline_posts = build([f"Harmless text {i}" for i in range(3)], settings)
    baseline = {
        path: problems(html)
        for path, html in render_all(client, baseline_posts).items()
    }
    base_page = baseline[baseline_posts[0].get_absolute_url()]
    base_tag = baseline[baseline_posts[0].tags.first().get_absolute_url()]
    Post.objects.all().delete()
    posts = build(hostile, settings)
    for path, html in render_all(client, posts).items():
        if path in PATHS:
            allowed = baseline[path]
        elif path.startswith("/tag/"):
            allowed = base_tag
        else:
            allowed = base_page
        assert problems(html) - allowed == Counter(), path
    # Feeds: every field a reader renders as HTML, taken out of its XML/JSON.
    # RSS descriptions are HTML by convention; titles are plain text in every
    # format (issue 10: feed readers show them as text), so an RSS title reads
    # back as exactly the hostile text, and only content and descriptions are
    # HTML.
    rss = ET.fromstring(client.get("/feed/").content).findall("channel/item")
    atom = ET.fromstring(client.get("/feed/atom/").content).findall("atom:entry", NS)
    items = json.loads(client.get("/feed/json/").content)["items"]
    assert len(rss) == len(atom) == len(items) == len(hostile)
    # (XML reads every line break as \n.)
    assert sorted(item.findtext("title") for item in rss) == sorted(
        post.title.replace("\r\n", "\n").replace("\r", "\n") for post in posts
    )
    for item in rss:
        for field in ("description", "content:encoded"):
            assert script_vectors(item.findtext(field, namespaces=NS)) == [], field
    for entry in atom:
        assert entry.find("atom:title", NS).get("type") == "text"
        assert script_vectors(entry.findtext("atom:content", namespaces=NS)) == []
    for item in items:
        assert script_vectors(item["content_html"]) == []


def test_hostile_search_queries_are_inert(client):
    """Search reflects the query only as text."""
    make_post("Pipeline")
    for vector in CLASSIC_VECTORS:
        html = client.get("/search/", {"q": vector}).content.decode()
        baseline = client.get("/search/", {"q": "harmless"}).content.decode()
        assert problems(html) - problems(baseline) == Counter(), vector
