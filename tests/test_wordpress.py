"""blog/wordpress.py and `manage.py import_wordpress`: a WordPress export
(tests/data/wordpress-small.xml) becomes posts, pages, sections, tags,
bylines, library images and redirects from the old addresses."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from blog.authors import Author
from blog.media import MediaImage
from blog.models import LegacyAddress, Page, Post, Section
from blog.wordpress import BodyConverter, BodyNotes

pytestmark = pytest.mark.django_db

WXR = Path(__file__).parent / "data" / "wordpress-small.xml"


@pytest.fixture
def uploads(tmp_path):
    """A local copy of the old site's uploads folder (missing.jpg is absent)."""
    folder = tmp_path / "uploads"
    (folder / "2019" / "05").mkdir(parents=True)
    for name, colour in (
        ("harbour.png", (20, 60, 120)),
        ("harbour-lead.png", (120, 60, 20)),
        ("crane.png", (60, 120, 20)),
    ):
        Image.new("RGB", (640, 400), colour).save(folder / "2019" / "05" / name)
    return folder


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_wordpress", *map(str, args), stdout=out)
    return out.getvalue()


def test_posts_come_in_with_their_fields_and_cleaned_bodies(uploads):
    """The published post keeps its title, slug, first category as section,
    tags, author as byline (no login), GMT times, excerpt, GUID; its body is
    Markdown with the caption as a library figure, the iframe as a link, the
    script and the event handler gone; the featured image is its lead."""
    output = run(WXR, "--uploads", uploads)
    post = Post.objects.get(slug="tankers-pay-more")
    assert post.title == "Tankers pay more for insurance"
    assert post.section.name == "Shipping & Ports"
    assert sorted(t.name for t in post.tags.all()) == ["Insurance", "Oil"]
    assert [c.name for c in post.byline] == ["Jane Doe"]
    assert Author.objects.get(display_name="Jane Doe").user is None
    assert post.published_at == datetime(2019, 5, 14, 8, 30, tzinfo=UTC)
    assert post.updated_at == datetime(2019, 5, 15, 10, 0, tzinfo=UTC)
    assert post.status == Post.Status.PUBLISHED and post.is_live
    assert post.summary == "Premiums have tripled."
    assert post.guid() == "http://old.example.com/?p=10"

    harbour = MediaImage.objects.get(original_name="harbour.png")
    crane = MediaImage.objects.get(original_name="crane.png")
    assert (
        f'![Tankers at anchor](media:{harbour.pk} "Tankers waiting outside the '
        'harbour in May.")' in post.body
    )
    assert f"![A crane](media:{crane.pk})" in post.body
    assert "## What the brokers say" in post.body
    assert (
        "[Embedded content from www.youtube.com](https://www.youtube.com/watch?v=abc123XYZ)"
        in post.body
    )
    for hostile in ("script", "onclick", "onerror", "alert", "<iframe"):
        assert hostile not in post.body
        assert hostile not in post.body_html
    assert "<figure" in post.body_html and "<h2" in post.body_html
    assert post.lead_media.original_name == "harbour-lead.png"
    assert post.lead_image_alt == "The harbour from the lighthouse"
    assert post.lead_image_caption == "The harbour at dawn."
    assert "1 missing" in output and "2019/05/missing.jpg" in output


def test_statuses_sections_and_what_is_skipped(uploads):
    """draft → draft, pending → in review, future → scheduled; a post without
    a category goes to the default section; private and trashed posts and
    menu items are skipped, each with its reason in the summary."""
    output = run(WXR, "--uploads", uploads)
    draft = Post.objects.get(slug="draft-about-cranes")
    assert draft.status == Post.Status.DRAFT
    assert draft.section.name == "News"
    assert [c.name for c in draft.byline] == ["Kim Smith"]
    assert "![Gone]" not in draft.body  # its file is missing: skipped, not fatal
    assert Post.objects.get(slug="pending-piece").status == Post.Status.REVIEW
    assert Post.objects.get(slug="later").state == "scheduled"
    assert not Post.objects.filter(title__in=["Members only", "Deleted thing"]).exists()
    assert Post.objects.count() == 4
    assert "Posts: 4 imported, 0 updated." in output
    assert "Skipped: 3." in output
    assert "post: private (readers of the old site could not see it)" in output
    assert "post: in the trash" in output
    assert "post type nav_menu_item" in output
    assert "2 script/style elements removed" in output  # the post's and the page's
    assert "1 embeds turned into links" in output


def test_pages_become_static_pages(uploads):
    """A WordPress page is a static page in the footer, its script removed."""
    run(WXR, "--uploads", uploads)
    page = Page.objects.get(slug="about-us")
    assert page.title == "About us" and page.published and page.in_footer
    assert page.position == 3
    assert "We report on the harbour." in page.body and "script" not in page.body


def test_old_addresses_answer_301(client, uploads):
    """/?p=ID, /?page_id=ID and the old permalink paths lead to the new
    addresses; a draft's old address does not reveal it."""
    run(WXR, "--uploads", uploads)
    post = Post.objects.get(slug="tankers-pay-more")
    response = client.get("/?p=10")
    assert (
        response.status_code == 301 and response["Location"] == post.get_absolute_url()
    )
    response = client.get("/?page_id=2")
    assert response.status_code == 301 and response["Location"] == "/page/about-us/"
    response = client.get("/about-us/")
    assert response.status_code == 301 and response["Location"] == "/page/about-us/"
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/?p=11").status_code == 200  # the draft: home page, no redirect
    assert client.get("/?p=999").status_code == 200
    assert LegacyAddress.objects.filter(post=post).count() >= 1


def test_home_page_reads_no_old_addresses_without_the_parameter(client, uploads):
    """The home page's queries are unchanged: the old-address table is read
    only when `p` or `page_id` is in the query string, or for a 404."""
    run(WXR, "--uploads", uploads)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not any("blog_legacyaddress" in q["sql"] for q in queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/?p=10").status_code == 301
    assert len(queries.captured_queries) == 1


def test_importing_again_updates_without_duplicates(uploads):
    """A second run updates the same posts, pages and library images."""
    run(WXR, "--uploads", uploads)
    counts = (
        Post.objects.count(),
        Page.objects.count(),
        MediaImage.objects.count(),
        Section.objects.count(),
        Author.objects.count(),
    )
    output = run(WXR, "--uploads", uploads)
    assert "Posts: 0 imported, 4 updated." in output
    assert "Pages: 0 imported, 1 updated." in output
    assert (
        Post.objects.count(),
        Page.objects.count(),
        MediaImage.objects.count(),
        Section.objects.count(),
        Author.objects.count(),
    ) == counts


def test_without_uploads_images_are_reported_missing_not_fatal():
    """No uploads folder: every picture is reported missing, posts still import."""
    output = run(WXR)
    assert Post.objects.filter(slug="tankers-pay-more").exists()
    assert "0 copied into the media library" in output
    assert not MediaImage.objects.exists()


def test_progress_lines_on_large_files(uploads):
    """A progress line every N items."""
    output = run(WXR, "--uploads", uploads, "--progress-every", "3")
    assert output.count(" items: ") == 3  # 9 items


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss><channel><item><title>&lol3;</title></item></channel></rss>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&x;</title></item></channel></rss>"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_hostile_xml_is_refused(tmp_path, xml):
    """Entity expansion and external entities refuse the whole file."""
    path = tmp_path / "hostile.xml"
    path.write_text(xml)
    with pytest.raises(CommandError, match="refused"):
        run(path)
    assert not Post.objects.exists()


def test_broken_xml_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text("<rss><channel><item><title>x</title></channel>")
    with pytest.raises(CommandError, match="not well-formed"):
        run(path)


def test_caption_without_a_stored_image_keeps_the_picture_as_a_figure():
    """A [caption] whose picture is elsewhere becomes a Markdown figure with
    its caption; a block-editor image figure does too."""
    notes = BodyNotes()
    converter = BodyConverter(lambda src, alt, caption: src, notes)
    body = converter.convert(
        '[caption id="x"]<img src="https://cdn.example/a.jpg" alt="A" /> The caption[/caption]'
        '\n\n<figure class="wp-block-image"><img src="https://cdn.example/b.jpg" alt="B"/>'
        "<figcaption>Second</figcaption></figure>"
    )
    assert '![A](https://cdn.example/a.jpg "The caption")' in body
    assert '![B](https://cdn.example/b.jpg "Second")' in body
    assert notes.images == 2


def test_hostile_html_in_a_body_is_neutralised():
    """javascript: links, event handlers, SVG, forms and styles from an
    export never reach the stored body or the page."""
    from blog.markup import render_markdown

    notes = BodyNotes()
    body = BodyConverter(lambda src, alt, caption: None, notes).convert(
        '<a href="javascript:alert(1)">click</a> <svg onload="alert(2)"><circle/></svg>'
        '<form action="https://evil.example/"><input name="x"></form>'
        '<style>body{display:none}</style><p style="color:red" onmouseover="alert(3)">Hi</p>'
        '<img src="x" onerror="alert(4)">'
    )
    html = render_markdown(body).html
    for hostile in (
        "javascript:",
        "onload",
        "onerror",
        "onmouseover",
        "<svg",
        "<form",
        "<style",
        "style=",
    ):
        assert hostile not in body, hostile
        assert hostile not in html, hostile
    assert "click" in html and "Hi" in html
