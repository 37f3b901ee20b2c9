"""The media library in Chromium (issue 7): an editor uploads a picture in the
library, opens a post, inserts the picture at the cursor from the picker,
saves, and readers see the figure; under the admin's Content-Security-Policy."""

import pytest
from playwright.sync_api import expect

from blog.media import MediaImage
from blog.models import Post
from tests.browser.test_admin import PASSWORD, WATCH_VIOLATIONS
from tests.factories import make_post, make_staff
from tests.test_media import add_image, image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_insert_at_cursor_and_read_the_figure(
    open_page, live_server, artifacts, tmp_path
):
    """Upload through the library form, insert into a post's body at the
    cursor through the picker, save; the article shows the figure."""
    make_staff(username="editor", password=PASSWORD)
    post = make_post(
        title="Harbour reopens",
        body="First paragraph.\n\nSecond paragraph.",
    )
    for i, colour in enumerate([(200, 80, 40), (60, 160, 90), (90, 90, 200)]):
        add_image(alt=f"Older picture {i}", credit="Agency", colour=colour)
    picture = tmp_path / "boats.png"
    picture.write_bytes(image_bytes(1800, 1200, colour=(30, 110, 170)).getvalue())

    page = open_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(WATCH_VIOLATIONS)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")

    # Upload: alt text required.
    page.goto(live_server.url + "/admin/blog/mediaimage/add/")
    page.set_input_files("#id_file", str(picture))
    page.click("input[name=_save]")
    page.wait_for_selector(".field-alt .errorlist")
    assert not MediaImage.objects.filter(alt="").exists()
    page.set_input_files("#id_file", str(picture))
    page.fill("#id_alt", "Fishing boats in the harbour at dawn")
    page.fill("#id_caption", "The harbour reopened on Monday.")
    page.fill("#id_credit", "Dateline staff")
    page.click("input[name=_save]")
    page.wait_for_url(live_server.url + "/admin/blog/mediaimage/")
    image = MediaImage.objects.get(alt__startswith="Fishing boats")
    assert page.locator(".dateline-media-card").count() == 4
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "media-library.png"), full_page=True)

    # Insert at the cursor: between the two paragraphs.
    page.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    body = page.locator("#id_body")
    body.click()
    cursor = len("First paragraph.\n")
    page.evaluate(
        "(n) => { const t = document.querySelector('#id_body');"
        " t.focus(); t.setSelectionRange(n, n); }",
        cursor,
    )
    page.click(".dateline-picker-open")
    picker = page.locator("dialog.dateline-picker")
    picker.wait_for(state="visible")
    page.locator(".dateline-picker-item").first.wait_for()
    assert page.locator(".dateline-picker-item").count() == 4
    page.fill("dialog.dateline-picker input[type=search]", "fishing")
    expect(page.locator(".dateline-picker-item")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(artifacts / "media-picker.png"))
    page.click(f".dateline-picker-item[data-media-id='{image.pk}']")
    assert not picker.is_visible()
    expected = (
        f"First paragraph.\n\n![Fishing boats in the harbour at dawn](media:{image.pk})"
        "\n\nSecond paragraph."
    )
    assert page.input_value("#id_body") == expected
    page.click("input[name=_save]")
    page.wait_for_url(live_server.url + "/admin/blog/post/")
    post = Post.objects.get(pk=post.pk)
    assert post.body == expected

    # The reader's article.
    page.goto(live_server.url + post.get_absolute_url())
    figure = page.locator(".article-body figure.media")
    assert figure.count() == 1
    img = figure.locator("img")
    assert img.get_attribute("alt") == "Fishing boats in the harbour at dawn"
    assert img.get_attribute("loading") == "lazy"
    assert img.get_attribute("srcset").count("w,") == 2
    figure.scroll_into_view_if_needed()
    # The page's CSP forbids eval, so poll with evaluate, not wait_for_function.
    for _ in range(50):
        if img.evaluate("i => i.complete && i.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    assert img.evaluate("i => i.naturalWidth") > 0
    assert "The harbour reopened on Monday." in figure.inner_text()
    assert "Dateline staff" in figure.text_content()
    page.screenshot(path=str(artifacts / "media-article.png"), full_page=True)
    assert page.evaluate("window.__violations") == []
    assert problems == []


def library_pages():
    """An article with a library lead image, a figure and an inline picture,
    and an author page with a library photo: (name, path) pairs."""
    from datetime import timedelta

    from django.utils import timezone

    from blog.authors import Author

    lead = add_image(alt="Boats in the harbour", caption="Dawn", credit="AP")
    figure = add_image(alt="The quay", caption="Reopened quay", credit="Staff")
    icon = add_image(alt="Map pin", size={"width": 600, "height": 600})
    author = Author.objects.create(
        display_name="Ada Lovelace", slug="ada", photo_media=icon
    )
    post = make_post(
        title="Harbour reopens",
        body=(
            "The harbour reopened today.\n\n## The quay\n\n"
            f"![](media:{figure.pk})\n\nFerries docked at the pin "
            f"![Map pin](media:{icon.pk}) by noon.\n\n## Next\n\nMore to come."
        ),
        lead_media=lead,
        authors=[author],
        published_at=timezone.now().replace(microsecond=0) - timedelta(hours=1),
    )
    return [("article", post.get_absolute_url()), ("author", author.get_absolute_url())]


def test_library_pictures_pass_axe(open_page, live_server, artifacts):
    """An article with library figures and an author page with a library
    photo have no axe-core WCAG or structure violation."""
    from tests.browser.conftest import AXE
    from tests.browser.test_accessibility import STRUCTURE, WCAG, describe, run_axe
    from tests.conftest import require_tool

    require_tool(AXE.exists(), f"{AXE} is missing: run `npm ci` to install axe-core")
    page = open_page(bypass_csp=True)
    found = {}
    for name, path in library_pages():
        assert page.goto(live_server.url + path).status == 200
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        violations = run_axe(page, WCAG) + run_axe(page, STRUCTURE)
        if violations:
            found[name] = violations
    assert not found, describe(found)


def test_library_pictures_are_valid_html(client, tmp_path):
    """The Nu HTML Checker finds no error in figures, inline library pictures,
    library lead images or author photos."""
    from tests.browser.test_html_validity import describe, require_vnu, vnu

    require_vnu()
    files = []
    for name, path in library_pages():
        response = client.get(path)
        assert response.status_code == 200
        file = tmp_path / f"{name}.html"
        file.write_bytes(response.content)
        files.append(str(file))
    messages = vnu(*files)
    assert not messages, describe(messages)
