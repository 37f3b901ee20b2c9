"""An article page stays light: its HTML, CSS and JS together, and no scripts."""

from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from django.contrib.staticfiles import finders
from lxml import html as lxml_html

from blog.importing import import_markdown

pytestmark = pytest.mark.django_db

BUDGET = 60 * 1000  # bytes, uncompressed


def static_file_size(url: str) -> int:
    """Bytes of the file behind a /static/ URL, found where collectstatic would."""
    path = urlsplit(url).path
    assert path.startswith(django_settings.STATIC_URL), f"{url} is not a static file"
    found = finders.find(path.removeprefix(django_settings.STATIC_URL))
    assert found, f"{url} names no file under static/"
    with open(found, "rb") as file:
        return len(file.read())


def test_shared_article_page_weighs_under_budget(client, shared_article):
    """The 2,000-word article's HTML plus its CSS and JS stay under 60 KB, and
    it carries no script but its JSON-LD."""
    post = import_markdown(shared_article).post
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)

    scripts = doc.xpath("//script")
    not_data = [
        s.get("type") for s in scripts if s.get("type") != "application/ld+json"
    ]
    assert not not_data, f"the article should need no JavaScript, found {not_data}"
    assert doc.xpath("//*[@*[starts-with(name(), 'on')]]") == [], "inline handlers"

    stylesheets = [
        link.get("href")
        for link in doc.xpath("//link[@href]")
        if "stylesheet" in (link.get("rel") or "").split()
    ]
    script_files = [s.get("src") for s in scripts if s.get("src")]
    assert stylesheets, "the article should link the site stylesheet"
    sizes = {url: static_file_size(url) for url in stylesheets + script_files}

    html_bytes = len(response.content)
    css_bytes = sum(sizes[url] for url in stylesheets)
    js_bytes = sum(sizes[url] for url in script_files)
    total = html_bytes + css_bytes + js_bytes
    print(
        f"\narticle page weight ({post.word_count} words): HTML {html_bytes} B, "
        f"CSS {css_bytes} B ({', '.join(stylesheets)}), JS {js_bytes} B, "
        f"total {total} B of a {BUDGET} B budget"
    )
    assert total < BUDGET, (
        f"HTML {html_bytes} + CSS {css_bytes} + JS {js_bytes} = {total} B"
    )
