"""Revisions in Chromium (issue 7): an editor compares two revisions of a post
and restores the older text with a click, under the admin's
Content-Security-Policy, with no script error or policy violation."""

import pytest
from playwright.sync_api import expect

from blog import roles
from blog.models import Post
from blog.revisions import recorded
from tests.browser.test_admin import PASSWORD
from tests.browser.test_live_preview import log_in, role_groups, watched_page  # noqa: F401
from tests.factories import make_member, make_post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_compares_and_restores(open_page, live_server, artifacts):
    """The list, the diff (<del>/<ins>) and the restore button all work."""
    editor = make_member(roles.EDITORS, username="desk", password=PASSWORD)
    post = make_post("Talks stall", body="Opening.\n\nThe talks stalled on Monday.")
    with recorded("First version.", user=editor):
        post.save()
    post.title = "Talks resume"
    post.body = "Opening.\n\nThe talks resumed on Tuesday."
    with recorded("Second version.", user=editor):
        post.save()

    page, problems, failed = watched_page(
        open_page, viewport={"width": 1280, "height": 900}
    )
    log_in(page, live_server, "desk")
    page.goto(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    page.click("a:has-text('Revisions')")
    expect(page.locator("#revision-list tbody tr")).to_have_count(2)
    page.click("input[type=submit][value='Compare the chosen revisions']")
    body_diff = page.locator(".dateline-diff").nth(2)
    expect(body_diff.locator("del").first).to_have_text("stalled")
    expect(body_diff.locator("ins").first).to_have_text("resumed")
    page.screenshot(path=str(artifacts / "revision-diff.png"), full_page=True)

    page.click("input[type=submit][value^='Restore the text of']")
    page.wait_for_url(f"{live_server.url}/admin/blog/post/{post.pk}/change/")
    expect(page.locator(".messagelist .success")).to_contain_text("Restored")
    assert page.input_value("#id_title") == "Talks stall"
    assert Post.objects.get(pk=post.pk).body.endswith("stalled on Monday.")

    assert page.evaluate("window.__violations") == []
    assert problems == []
    assert failed == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_revision_pages_pass_axe(open_page, live_server, scheme):
    """The revision list and the comparison have no WCAG 2.1 A/AA violation
    axe-core can find in their content, in either colour scheme."""
    from tests.browser.conftest import AXE
    from tests.browser.test_accessibility import WCAG, describe, run_axe_on
    from tests.conftest import require_tool

    require_tool(AXE.exists(), f"{AXE} is missing: run `npm ci` to install axe-core")
    editor = make_member(roles.EDITORS, username="desk", password=PASSWORD)
    post = make_post("Talks stall", body="The talks stalled on Monday.")
    for body in ("The talks resumed.", "The talks ended."):
        post.body = body
        with recorded("Edited.", user=editor):
            post.save()
    page = open_page(bypass_csp=True, color_scheme=scheme)
    log_in(page, live_server, "desk")
    axe = AXE.read_text(encoding="utf-8")
    found = {}
    page.goto(f"{live_server.url}/admin/blog/post/{post.pk}/revisions/")
    page.add_script_tag(content=axe)
    found["revisions"] = run_axe_on(page, "#content-main", WCAG)
    page.click("input[type=submit][value='Compare the chosen revisions']")
    page.wait_for_selector(".dateline-diff ins")
    page.add_script_tag(content=axe)
    found["compare"] = run_axe_on(page, "#content-main", WCAG)
    found = {name: violations for name, violations in found.items() if violations}
    assert not found, describe(found)
