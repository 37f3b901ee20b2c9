"""blog/metadata.py: titles, canonical URLs, link previews and JSON-LD."""

import json

import pytest
from lxml import html as lxml_html

from tests.factories import make_post, make_section, make_tag

pytestmark = pytest.mark.django_db


def head(client, url):
    return lxml_html.fromstring(client.get(url).content)


def json_ld(doc):
    return [
        json.loads(s.text) for s in doc.cssselect('script[type="application/ld+json"]')
    ]


def test_article_has_news_article_and_breadcrumbs(client):
    """An article page carries NewsArticle (headline, dates, author, section) and a BreadcrumbList."""
    post = make_post(
        "Talks resume", section=make_section("World"), tags=[make_tag("Iran")]
    )
    doc = head(client, post.get_absolute_url())
    article, crumbs = json_ld(doc)
    assert article["@type"] == "NewsArticle" and article["headline"] == "Talks resume"
    assert article["datePublished"] == post.published_at.isoformat()
    assert article["author"][0]["name"] == post.author.get_full_name()
    assert article["articleSection"] == "World" and article["keywords"] == ["Iran"]
    assert [i["name"] for i in crumbs["itemListElement"]] == [
        "Home",
        "World",
        "Talks resume",
    ]


def test_article_has_title_description_canonical_and_open_graph(client):
    """<title>, meta description, canonical and Open Graph describe the article."""
    post = make_post("Talks resume", summary="Delegations meet again.")
    doc = head(client, post.get_absolute_url())
    assert doc.findtext(".//title") == "Talks resume — Dateline"
    assert (
        doc.cssselect('meta[name="description"]')[0].get("content")
        == "Delegations meet again."
    )
    assert (
        doc.cssselect('link[rel="canonical"]')[0].get("href")
        == "http://testserver" + post.get_absolute_url()
    )
    og = {m.get("property"): m.get("content") for m in doc.cssselect("meta[property]")}
    assert og["og:type"] == "article" and og["og:title"] == "Talks resume"
    assert og["article:published_time"] == post.published_at.isoformat()
    assert doc.cssselect('meta[name="twitter:card"]')[0].get("content") == "summary"


def test_lead_image_reaches_previews_and_json_ld(client):
    """With a lead image: og:image with size and alt, a large Twitter card, JSON-LD image."""
    from django.core.files.base import ContentFile

    from tests.test_images import png_bytes

    post = make_post()
    post.lead_image.save("p.png", ContentFile(png_bytes(1600, 900)), save=False)
    post.lead_image_alt = "Harbour"
    post.save()
    doc = head(client, post.get_absolute_url())
    og = {m.get("property"): m.get("content") for m in doc.cssselect("meta[property]")}
    assert og["og:image"].startswith("http://testserver/media/renditions/")
    assert og["og:image:width"] == "1440" and og["og:image:alt"] == "Harbour"
    assert (
        doc.cssselect('meta[name="twitter:card"]')[0].get("content")
        == "summary_large_image"
    )
    assert json_ld(doc)[0]["image"] == [og["og:image"]]


def test_hostile_headline_cannot_break_out_of_json_ld(client):
    """A headline containing </script> stays inside the JSON-LD block."""
    post = make_post("</script><script>alert(1)</script>")
    body = client.get(post.get_absolute_url()).content.decode()
    assert "</script><script>alert(1)" not in body
    assert (
        json_ld(lxml_html.fromstring(body))[0]["headline"]
        == "</script><script>alert(1)</script>"
    )


def test_listing_titles_and_canonicals(client, settings):
    """Listing pages have their own titles; page 2 says so and is its own canonical."""
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 1}
    make_post(section=make_section("World"))
    make_post(section=make_section("World2", slug="world2"))
    assert head(client, "/section/world/").findtext(".//title") == "World — Dateline"
    doc = head(client, "/?page=2")
    assert doc.findtext(".//title") == "Dateline (page 2)"
    assert (
        doc.cssselect('link[rel="canonical"]')[0].get("href")
        == "http://testserver/?page=2"
    )


def test_search_is_not_indexed(client):
    """The search page asks robots not to index it."""
    doc = head(client, "/search/?q=x")
    assert doc.cssselect('meta[name="robots"]')[0].get("content") == "noindex"
