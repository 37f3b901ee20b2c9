"""blog/sitemaps.py: articles, sections and tags for search engines."""

import xml.etree.ElementTree as ET

import pytest

from blog.models import Post
from tests.factories import make_post, make_section, make_tag

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def locations(client):
    root = ET.fromstring(client.get("/sitemap.xml").content)
    return {url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
            for url in root.findall("s:url", NS)}  # fmt: skip


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
