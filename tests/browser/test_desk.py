"""The whole desk in Chromium (issue 7, "Done means"): an author writes a new
article with the live preview, uploads a picture into the media library and
inserts it at the cursor, submits for review; an editor reads the diff between
two revisions and publishes; a reader sees the figure; the feed carries it
with absolute image URLs; the editor's correction appears at the foot of the
article and in its own feed. No page of the admin or of the site logs a
script error, fails a request or violates the Content-Security-Policy.

Screenshots: artifacts/desk-post-form.png, desk-media-library.png,
desk-diff.png, desk-article.png.
"""

import re

import feedparser
import pytest
from playwright.sync_api import expect

from blog import roles
from blog.media import MediaImage
from blog.models import Post
from tests.browser.test_admin import PASSWORD
from tests.browser.test_live_preview import log_in, role_groups, watched_page  # noqa: F401
from tests.factories import make_member, make_section
from tests.test_media import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1400, "height": 1000}
TITLE = "Harbour reopens after the storm"
ALT = "Fishing boats back in the harbour at dawn"
CAPTION = "The harbour reopened on Monday."
CREDIT = "Dateline staff"
CORRECTION = "An earlier version said the harbour reopened on **Sunday**."


def clean(page, problems, failed, where):
    """No policy violation, script error or failed request on this page."""
    assert page.evaluate("window.__violations") == [], where
    assert problems == [], where
    assert failed == [], where


def loaded(page, img):
    """Wait until an <img> has really loaded (the site's CSP forbids the
    eval wait_for_function needs, so poll with evaluate)."""
    for _ in range(50):
        if img.evaluate("i => i.complete && i.naturalWidth > 0"):
            return True
        page.wait_for_timeout(100)
    return False


def test_author_writes_editor_publishes_reader_reads_and_sees_the_correction(
    open_page, live_server, artifacts, tmp_path
):
    """Author: live preview (heading, word count), upload with alt/caption/
    credit, insert at the cursor from the picker, two saves, Submit for review.
    Editor: revisions and their diff, Publish. Reader: the figure with caption,
    credit and srcset; the RSS item with an absolute image URL. Editor: a
    correction, which the reader sees at the article's foot and in its feed."""
    make_member(roles.AUTHORS, username="reporter", password=PASSWORD)
    make_member(roles.EDITORS, username="desk-editor", password=PASSWORD)
    make_section("World")
    picture = tmp_path / "boats.png"
    picture.write_bytes(image_bytes(1800, 1200, colour=(30, 110, 170)).getvalue())

    # --- The author writes with the live preview. ---
    author, author_problems, author_failed = watched_page(open_page, viewport=VIEWPORT)
    log_in(author, live_server, "reporter")
    author.goto(live_server.url + "/admin/blog/post/add/")
    author.locator("#id_title").press_sequentially(TITLE)
    assert author.input_value("#id_slug") == "harbour-reopens-after-the-storm"
    author.click("#id_section + .select2 .select2-selection")
    author.fill(".select2-search__field", "Wor")
    author.click(".select2-results__option:has-text('World')")
    author.fill("#id_summary", "Boats are back after a week of repairs.")
    author.locator("#id_body").press_sequentially(
        "The harbour reopened on Monday after a week of repairs.\n\n"
        "## What changed\n\nThe quay was rebuilt.",
        delay=5,
    )
    pane = author.locator("#dateline-live-preview")
    status = pane.locator("[role=status]")
    expect(pane.locator("h2#what-changed")).to_contain_text("What changed")
    expect(status).to_contain_text("words")
    assert "about 1 min" in status.inner_text()
    expect(pane.locator(".dateline-preview-toc li")).to_contain_text(["What changed"])
    # The preview sits beside the body, not over it.
    body_box = author.locator("#id_body").bounding_box()
    pane_box = pane.bounding_box()
    assert pane_box["x"] >= body_box["x"] + body_box["width"] - 1
    author.locator("#id_title").scroll_into_view_if_needed()
    author.screenshot(path=str(artifacts / "desk-post-form.png"))
    # First save: revision one.
    author.click(".submit-row >> nth=-1 >> input[name=_continue]")
    author.wait_for_url("**/admin/blog/post/*/change/")
    post = Post.objects.get(slug="harbour-reopens-after-the-storm")
    assert post.status == Post.Status.DRAFT
    assert post.author.username == "reporter"
    clean(author, author_problems, author_failed, "author's post form")

    # --- The author uploads a picture into the library. ---
    author.goto(live_server.url + "/admin/blog/mediaimage/add/")
    author.set_input_files("#id_file", str(picture))
    author.fill("#id_alt", ALT)
    author.fill("#id_caption", CAPTION)
    author.fill("#id_credit", CREDIT)
    author.click("input[name=_save]")
    author.wait_for_url(live_server.url + "/admin/blog/mediaimage/")
    image = MediaImage.objects.get(alt=ALT)
    assert len(image.renditions) >= 2  # the queue ran at once (tests)
    card = author.locator(".dateline-media-card")
    expect(card).to_have_count(1)
    author.wait_for_load_state("networkidle")
    assert loaded(author, card.locator("img").first)
    author.screenshot(path=str(artifacts / "desk-media-library.png"), full_page=True)
    clean(author, author_problems, author_failed, "media library")

    # --- …and inserts it at the cursor, after the first paragraph. ---
    author.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    first = "The harbour reopened on Monday after a week of repairs.\n"
    author.evaluate(
        "(n) => { const t = document.querySelector('#id_body');"
        " t.focus(); t.setSelectionRange(n, n); }",
        len(first),
    )
    picker_button = author.locator(".dateline-picker-open")
    # Under the body, in line with it (not under the label).
    button_x = picker_button.bounding_box()["x"]
    assert abs(button_x - author.locator("#id_body").bounding_box()["x"]) < 2
    picker_button.click()
    picker = author.locator("dialog.dateline-picker")
    picker.wait_for(state="visible")
    author.fill("dialog.dateline-picker input[type=search]", "fishing")
    expect(author.locator(".dateline-picker-item")).to_have_count(1)
    author.wait_for_load_state("networkidle")
    author.click(f".dateline-picker-item[data-media-id='{image.pk}']")
    expect(picker).to_be_hidden()
    body = author.input_value("#id_body")
    assert body.startswith(first + f"\n![{ALT}](media:{image.pk})\n\n## What changed")
    # The preview shows the figure too (resolved like a save).
    expect(pane.locator("figure figcaption")).to_contain_text(CAPTION)
    author.locator("#id_body").scroll_into_view_if_needed()
    author.screenshot(path=str(artifacts / "desk-post-figure.png"))
    # Second save, by the button: revision two, in review.
    author.click(".submit-row >> nth=-1 >> input[name=_submit_review]")
    author.wait_for_url(live_server.url + "/admin/blog/post/")
    expect(author.locator(".messagelist")).to_contain_text("Submitted for review")
    post.refresh_from_db()
    assert post.status == Post.Status.REVIEW
    assert f"media:{image.pk}" in post.body
    clean(author, author_problems, author_failed, "author after submitting")

    # --- The editor reviews the diff and publishes. ---
    editor, editor_problems, editor_failed = watched_page(open_page, viewport=VIEWPORT)
    log_in(editor, live_server, "desk-editor")
    editor.goto(live_server.url + "/admin/blog/post/")
    row = editor.locator("#result_list tbody tr", has_text=TITLE)
    expect(row).to_contain_text("In review")
    expect(row).to_contain_text("reporter")
    row.locator("th a").click()
    editor.wait_for_url(f"**/admin/blog/post/{post.pk}/change/")
    editor.click("a:has-text('Revisions')")
    expect(editor.locator("#revision-list tbody tr")).to_have_count(2)
    editor.click("input[type=submit][value='Compare the chosen revisions']")
    body_diff = editor.locator(".dateline-diff").nth(2)
    expect(body_diff.locator("ins").first).to_contain_text(f"media:{image.pk}")
    editor.screenshot(path=str(artifacts / "desk-diff.png"), full_page=True)
    clean(editor, editor_problems, editor_failed, "revisions and diff")
    editor.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    editor.click(".submit-row >> nth=-1 >> input[name=_publish]")
    editor.wait_for_url(live_server.url + "/admin/blog/post/")
    post.refresh_from_db()
    assert post.status == Post.Status.PUBLISHED and post.is_live
    clean(editor, editor_problems, editor_failed, "publishing")

    # --- A reader (a fresh, anonymous context) reads the article. ---
    reader, reader_problems, reader_failed = watched_page(open_page, viewport=VIEWPORT)
    article_url = live_server.url + post.get_absolute_url()
    response = reader.goto(article_url)
    assert response.status == 200
    expect(reader.locator("h1")).to_have_text(TITLE)
    figure = reader.locator(".article-body figure.media")
    expect(figure).to_have_count(1)
    img = figure.locator("img")
    assert img.get_attribute("alt") == ALT
    assert img.get_attribute("srcset").count(" ") >= 2
    assert img.get_attribute("width") and img.get_attribute("height")
    expect(figure.locator("figcaption")).to_contain_text(CAPTION)
    expect(figure.locator("figcaption .credit")).to_contain_text(CREDIT)
    figure.scroll_into_view_if_needed()
    assert loaded(reader, img)
    reader.screenshot(path=str(artifacts / "desk-article.png"), full_page=True)
    clean(reader, reader_problems, reader_failed, "reader's article")

    # --- The site's RSS feed carries the item, its picture at an absolute URL. ---
    feed = feedparser.parse(reader.request.get(live_server.url + "/feed/").body())
    assert not feed.bozo, feed.bozo_exception
    entry = next(e for e in feed.entries if e.link.endswith(post.get_absolute_url()))
    assert entry.title == TITLE
    html = "".join(part.value for part in entry.get("content", [])) or entry.summary
    assert 'src="' + live_server.url + "/media/" in html
    assert CAPTION in html

    # --- The editor appends a correction; the reader sees it, page and feed. ---
    editor.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    editor.locator("#corrections-group .add-row a").click()
    editor.fill("#id_corrections-0-text", CORRECTION)
    editor.click(".submit-row >> nth=-1 >> input[name=_save]")
    editor.wait_for_url(live_server.url + "/admin/blog/post/")
    clean(editor, editor_problems, editor_failed, "correction")
    # The saved note is labelled by its time in the form (not the post's ID).
    editor.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    expect(editor.locator("#corrections-group .inline_label").first).to_have_text(
        re.compile(r"^Noted \d{4}-\d\d-\d\d \d\d:\d\d\s*$")
    )

    reader.goto(article_url)
    notes = reader.locator("section.corrections")
    expect(notes.locator("h3")).to_contain_text("Correction, ")
    expect(notes.locator(".correction-body strong")).to_have_text("Sunday")
    clean(reader, reader_problems, reader_failed, "corrected article")
    story = feedparser.parse(reader.request.get(article_url + "feed/").body())
    assert not story.bozo, story.bozo_exception
    assert story.entries[0].title.startswith("Correction, ")
    assert "Sunday" in story.entries[0].summary
