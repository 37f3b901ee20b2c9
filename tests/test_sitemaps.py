"""blog/sitemaps.py: articles, sections and tags for search engines."""

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import pytest

from blog.models import Post
from tests.factories import make_post, make_section, make_tag

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locations(client):
    """Every URL listed, following the index to each sitemap it names."""
    index = ET.fromstring(client.get("/sitemap.xml").content)
    found = {}
    for sitemap in index.findall("s:sitemap", NS):
        location = sitemap.findtext("s:loc", namespaces=NS)
        path = "/" + location.split("/", 3)[3]
        root = ET.fromstring(client.get(path).content)
        for url in root.findall("s:url", NS):
            found[url.findtext("s:loc", namespaces=NS)] = url.findtext(
                "s:lastmod", namespaces=NS
            )
    return found


def test_sitemap_lists_live_articles_sections_and_tags(client):
    """Live articles (with lastmod), their sections and tags are listed; drafts are not."""
    post = make_post(section=make_section("World"), tags=[make_tag("Iran")])
    make_post(
        status=Post.Status.DRAFT,
        section=make_section("Hidden"),
        tags=[make_tag("Secret")],
    )
    urls = locations(client)
    assert urls["http://testserver" + post.get_absolute_url()]
    assert "http://testserver/section/world/" in urls
    assert "http://testserver/tag/iran/" in urls
    assert not any("hidden" in url or "secret" in url for url in urls)


def test_sitemap_uses_site_url_behind_a_proxy(client, settings):
    """With SITE_URL set, sitemap URLs use it."""
    settings.SITE_URL = "https://news.example"
    make_post()
    assert all(url.startswith("https://news.example/") for url in locations(client))


def test_index_pages_a_large_archive(client, monkeypatch):
    """Past a sitemap's limit, the index names every page, so nothing is left out."""
    from blog.sitemaps import PostSitemap

    monkeypatch.setattr(PostSitemap, "limit", 2)
    posts = [make_post() for _ in range(5)]
    urls = locations(client)
    assert all("http://testserver" + p.get_absolute_url() in urls for p in posts)


def test_index_uses_site_url(client, settings):
    """The index's own links use SITE_URL too."""
    settings.SITE_URL = "https://news.example"
    make_post()
    index = ET.fromstring(client.get("/sitemap.xml").content)
    assert all(
        s.findtext("s:loc", namespaces=NS).startswith("https://news.example/sitemap-")
        for s in index.findall("s:sitemap", NS)
    )


NEWS = {**NS, "n": "http://www.google.com/schemas/sitemap-news/0.9"}


def test_news_sitemap_lists_the_last_two_days_with_name_language_date_title(
    client, settings
):
    """/sitemap-news.xml holds live articles of the last two days (not older
    ones, not drafts), each with publication name and language, date and title."""
    settings.LANGUAGE_CODE = "fr-ca"
    fresh = make_post("Iran & Russia: <latest>", age=timedelta(hours=3))
    make_post("Last week", age=timedelta(days=3))
    make_post("Unfinished", status=Post.Status.DRAFT)
    response = client.get("/sitemap-news.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    (url,) = root.findall("s:url", NEWS)
    assert url.findtext("s:loc", namespaces=NEWS) == (
        "http://testserver" + fresh.get_absolute_url()
    )
    news = url.find("n:news", NEWS)
    assert news.findtext("n:publication/n:name", namespaces=NEWS) == "Dateline"
    assert news.findtext("n:publication/n:language", namespaces=NEWS) == "fr"
    assert news.findtext("n:title", namespaces=NEWS) == "Iran & Russia: <latest>"
    published = news.findtext("n:publication_date", namespaces=NEWS)
    assert datetime.fromisoformat(published) == fresh.published_at


def test_robots_txt_names_the_news_sitemap(client):
    """robots.txt lists the news sitemap beside the sitemap index."""
    lines = client.get("/robots.txt").content.decode().splitlines()
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert "Sitemap: http://testserver/sitemap-news.xml" in lines
