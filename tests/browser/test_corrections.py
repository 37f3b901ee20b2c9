"""Corrections and retractions in a real browser (issue 7): an editor appends
a correction and retracts an article through the admin; a reader sees the
note at the foot of the article and, at the retracted article's address, the
410 notice. Screenshots: artifacts/correction.png, artifacts/retraction.png."""

import pytest
from playwright.sync_api import expect

from blog import roles
from blog.models import Post
from tests.browser.conftest import AXE, DESKTOP
from tests.browser.test_accessibility import STRUCTURE, WCAG, describe, run_axe
from tests.conftest import require_tool
from tests.factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def editors_group():
    """The Editors group as the migration makes it: a transactional test's
    flush (these browser tests) empties the groups table."""
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=roles.EDITORS.group)
    group.permissions.set(
        Permission.objects.get(
            content_type__app_label=app, content_type__model=model, codename=code
        )
        for app, model, code in roles.EDITORS.permissions
    )


def axe_violations(page, url):
    """WCAG 2.1 A/AA and structure violations of one page (as
    tests/browser/test_accessibility.py checks every page type)."""
    page.goto(url)
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    return run_axe(page, WCAG) + run_axe(page, STRUCTURE)


def test_editor_corrects_then_retracts_and_readers_see_both(
    open_page, live_server, newsroom, artifacts
):
    require_tool(AXE.exists(), f"{AXE} is missing: run `npm ci` to install axe-core")
    checker = open_page(bypass_csp=True, viewport=DESKTOP)  # axe is injected
    editors_group()
    editor = make_member(roles.EDITORS, username="desk-editor", password=PASSWORD)
    post = newsroom["election"]
    desk = open_page(viewport=DESKTOP)
    desk.goto(f"{live_server.url}/admin/login/?next=/admin/")
    desk.fill("#id_username", editor.username)
    desk.fill("#id_password", PASSWORD)
    desk.click("input[type=submit]")
    desk.wait_for_url(f"{live_server.url}/admin/")

    # The editor appends a correction in the post's change form.
    change = f"{live_server.url}/admin/blog/post/{post.pk}/change/"
    desk.goto(change)
    desk.locator("#corrections-group .add-row a").click()
    desk.fill(
        "#id_corrections-0-text",
        "An earlier version said observers arrive **a week** before polling "
        "day; most arrive two to three days before.",
    )
    desk.click("input[name=_save]")
    desk.wait_for_url(f"{live_server.url}/admin/blog/post/")

    # A reader sees it at the foot of the article.
    reader = open_page(viewport=DESKTOP)
    reader.goto(live_server.url + post.get_absolute_url())
    notes = reader.locator("section.corrections")
    expect(notes.locator("h2")).to_have_text("Correction")
    expect(notes.locator("h3")).to_contain_text("Correction, ")
    expect(notes.locator(".correction-body strong")).to_have_text("a week")
    notes.scroll_into_view_if_needed()
    reader.screenshot(path=str(artifacts / "correction.png"))
    found = axe_violations(checker, live_server.url + post.get_absolute_url())
    assert not found, describe({"corrected article": found})
    # …and in the story feed.
    feed = reader.request.get(live_server.url + post.get_absolute_url() + "feed/json/")
    assert feed.json()["items"][0]["title"].startswith("Correction, ")

    # The editor retracts it, giving the reason the action asks for.
    desk.goto(f"{live_server.url}/admin/blog/post/?q={post.slug}")
    desk.locator(f"input[name=_selected_action][value='{post.pk}']").check()
    desk.select_option("select[name=action]", "retract")
    desk.click("button[name=index]")
    desk.fill(
        "textarea[name=reason]",
        "The observer figures came from a report that was later withdrawn.",
    )
    desk.click("input[type=submit][value=Retract]")
    desk.wait_for_url(f"{live_server.url}/admin/blog/post/**")
    assert Post.objects.get(pk=post.pk).status == Post.Status.RETRACTED

    # The reader finds a 410 notice at the same address, never a 404.
    response = reader.goto(live_server.url + post.get_absolute_url())
    assert response.status == 410
    expect(reader.locator("h1")).to_have_text(post.title)
    expect(reader.locator(".retraction-reason")).to_contain_text("later withdrawn")
    assert reader.locator('meta[name="robots"]').get_attribute("content") == "noindex"
    reader.screenshot(path=str(artifacts / "retraction.png"), full_page=True)
    found = axe_violations(checker, live_server.url + post.get_absolute_url())
    assert not found, describe({"retraction notice": found})
    home = reader.goto(live_server.url + "/")
    assert home.status == 200 and post.title not in reader.content()
