"""blog/pages.py (and blog/page_admin.py): static pages in Markdown, in the
footer and the sitemap, cached with a validator."""

import pytest
from lxml import html as lxml_html

from blog.pages import Page

pytestmark = pytest.mark.django_db


def make_page(title="About us", slug="about", **fields):
    body = fields.pop("body", "We report.\n\n## Who we are\n\nA newsroom.")
    return Page.objects.create(title=title, slug=slug, body=body, **fields)


def doc(response):
    assert response.status_code == 200, response.status_code
    return lxml_html.fromstring(response.content)


def test_a_page_renders_its_markdown_sanitised(client):
    """/page/<slug>/ shows the title and the body rendered and sanitised."""
    make_page(body="Hello *there*.\n\n<script>alert(1)</script>\n\n## Contact")
    page = doc(client.get("/page/about/"))
    assert page.cssselect("h1")[0].text == "About us"
    body = page.cssselect(".article-body")[0]
    assert body.cssselect("em")[0].text == "there"
    assert body.cssselect("h2")[0].get("id") == "contact"
    assert not page.cssselect(".article-body script")


def test_unpublished_and_unknown_pages_are_404(client):
    """A page taken down, or never made, is not found."""
    make_page(published=False)
    assert client.get("/page/about/").status_code == 404
    assert client.get("/page/nothing/").status_code == 404


def test_the_footer_lists_footer_pages_in_order_everywhere(client):
    """Every page's footer links the published footer pages, by position."""
    make_page("Ethics", slug="ethics", position=2)
    make_page("About us", slug="about", position=1)
    make_page("Hidden", slug="hidden", published=False)
    make_page("Not in footer", slug="elsewhere", in_footer=False)
    for url in ["/", "/page/ethics/", "/archive/"]:
        links = doc(client.get(url)).cssselect(".footer-links a")
        assert [a.get("href") for a in links][:2] == ["/page/about/", "/page/ethics/"]
        assert "/page/hidden/" not in [a.get("href") for a in links]
        assert "/page/elsewhere/" not in [a.get("href") for a in links]


def test_an_edit_reaches_cached_pages_and_footers(client):
    """A page's new title is in its own page and every footer at once."""
    page = make_page()
    client.get("/")
    client.get("/page/about/")
    page.title = "Who we are"
    page.save()
    assert "Who we are" in client.get("/page/about/").content.decode()
    assert "Who we are" in client.get("/").content.decode()


def test_a_page_answers_conditional_get(client, django_assert_num_queries):
    """A repeat request with its ETag is 304 after one query."""
    make_page()
    first = client.get("/page/about/")
    assert first.status_code == 200 and first["ETag"]
    with django_assert_num_queries(1):
        again = client.get("/page/about/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_pages_are_in_the_sitemap(client):
    """Published pages are listed in the sitemap; unpublished ones are not."""
    make_page()
    make_page("Draft", slug="draft", published=False)
    body = client.get("/sitemap-pages.xml").content.decode()
    assert "http://testserver/page/about/" in body
    assert "/page/draft/" not in body


def test_editor_adds_a_page_and_pathological_markdown_is_refused(staff_client):
    """The admin adds a page; a body over the rendering budget is a form error."""
    data = {
        "title": "Ethics",
        "slug": "ethics",
        "body": "We correct errors.",
        "published": "on",
        "in_footer": "on",
        "position": "1",
    }
    assert staff_client.post("/admin/blog/page/add/", data).status_code == 302
    assert Page.objects.get(slug="ethics").body_html == "<p>We correct errors.</p>"
    refused = staff_client.post(
        "/admin/blog/page/add/", {**data, "slug": "bad", "body": "[" * 50000}
    )
    assert refused.status_code == 200
    assert not Page.objects.filter(slug="bad").exists()
