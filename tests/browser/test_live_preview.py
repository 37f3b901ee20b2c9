"""The live preview in Chromium (issue 7): an author types in the post form's
body and the rendered article, its outline and reading time appear beside it
(below it on a phone), under the admin's Content-Security-Policy, with no
script error or policy violation."""

import pytest
from playwright.sync_api import expect

from blog import roles
from tests.browser.test_admin import PASSWORD, WATCH_VIOLATIONS
from tests.factories import make_member, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def role_groups():
    """A transactional test flushes the groups the data migration made: make
    them again from blog/roles.py (rows only; sync_groups is for migrations
    and would alter the global app registry)."""
    from django.contrib.auth.models import Group, Permission

    for role in roles.ROLES:
        group, _ = Group.objects.get_or_create(name=role.group)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename=codename,
            ).first()
            for app_label, model, codename in role.permissions
        )


def watched_page(open_page, **options):
    page = open_page(**options)
    page.add_init_script(WATCH_VIOLATIONS)
    problems = []
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    failed = []
    page.on(
        "response",
        lambda response: response.status >= 400 and failed.append(response.url),
    )
    return page, problems, failed


def log_in(page, live_server, username):
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")


def test_author_sees_the_preview_update_while_typing(open_page, live_server, artifacts):
    """Typing renders headings, emphasis and the outline beside the body; a
    hostile line stays inert; the status says words and reading time."""
    make_member(roles.AUTHORS, username="reporter", password=PASSWORD)
    make_section("World")
    page, problems, failed = watched_page(
        open_page, viewport={"width": 1400, "height": 1000}
    )
    log_in(page, live_server, "reporter")
    page.goto(live_server.url + "/admin/blog/post/add/")
    pane = page.locator("#dateline-live-preview")
    assert pane.get_attribute("aria-labelledby") == "dateline-live-preview-heading"
    status = pane.locator("[role=status]")
    assert status.get_attribute("aria-live") == "polite"
    page.fill("#id_title", "Talks resume in Vienna")
    page.screenshot(path=str(artifacts / "post-form.png"), full_page=False)

    requests = []
    page.on(
        "request",
        lambda request: request.url.endswith("/preview/") and requests.append(request),
    )
    page.locator("#id_body").press_sequentially(
        "Delegations *arrived* early.\n\n## What happened\n\n"
        "Talks went on late.\n\n### Detail\n\n<script>alert(1)</script>",
        delay=5,
    )
    page.wait_for_selector("#dateline-live-preview h2#what-happened")
    expect(status).to_contain_text("words")
    page.wait_for_selector("#dateline-live-preview h3#detail")
    # Debounced: far fewer requests than keystrokes.
    assert 1 <= len(requests) < 20
    assert pane.locator("em").inner_text() == "arrived"
    assert pane.locator(".dateline-preview-toc li").all_inner_texts() == [
        "What happened",
        "Detail",
    ]
    assert "about 1 min" in status.inner_text()
    assert pane.locator("script").count() == 0
    assert "<script>" in pane.locator(".dateline-preview-body").inner_text()

    # Side by side on a wide screen.
    body_box = page.locator("#id_body").bounding_box()
    pane_box = pane.bounding_box()
    assert pane_box["x"] > body_box["x"] + body_box["width"] - 1
    page.locator("#id_title").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "live-preview.png"), full_page=False)

    # Text the pipeline refuses: a clear message in the pane.
    page.fill("#id_body", "> " * 30 + "deep")
    expect(status).to_contain_text("nested")
    assert "dateline-preview-refused" in pane.get_attribute("class")

    assert page.evaluate("window.__violations") == []
    assert problems == []
    assert failed == []


def test_preview_sits_below_the_body_on_a_phone(open_page, live_server):
    """On a narrow screen the pane comes after the body, full width."""
    make_member(roles.EDITORS, username="editor", password=PASSWORD)
    page, problems, failed = watched_page(
        open_page, viewport={"width": 390, "height": 844}
    )
    log_in(page, live_server, "editor")
    page.goto(live_server.url + "/admin/blog/post/add/")
    page.fill("#id_body", "Short text.\n\n## Heading")
    page.locator("#id_body").press("End")
    page.locator("#id_body").type("!")
    page.wait_for_selector("#dateline-live-preview h2")
    body_box = page.locator("#id_body").bounding_box()
    pane_box = page.locator("#dateline-live-preview").bounding_box()
    assert pane_box["y"] >= body_box["y"] + body_box["height"]
    assert page.evaluate("window.__violations") == []
    assert problems == []
    assert failed == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_preview_pane_passes_axe(open_page, live_server, scheme):
    """The body and its preview pane (headings, outline, status line) have no
    WCAG 2.1 A/AA violation axe-core can find, in either colour scheme."""
    from tests.browser.conftest import AXE
    from tests.browser.test_accessibility import WCAG, describe, run_axe_on
    from tests.conftest import require_tool

    require_tool(AXE.exists(), f"{AXE} is missing: run `npm ci` to install axe-core")
    make_member(roles.AUTHORS, username="reporter", password=PASSWORD)
    page = open_page(
        bypass_csp=True, color_scheme=scheme, viewport={"width": 1400, "height": 1000}
    )
    log_in(page, live_server, "reporter")
    page.goto(live_server.url + "/admin/blog/post/add/")
    page.fill("#id_body", "Opening *words*.\n\n## Part one\n\n- a\n- b\n\n> Quote")
    page.locator("#id_body").type(".")
    page.wait_for_selector("#dateline-live-preview h2#part-one")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    violations = run_axe_on(page, ".dateline-live", WCAG)
    assert not violations, describe({"post form": violations})


def test_author_writes_with_the_preview_and_submits_for_review(open_page, live_server):
    """An author opens their draft, writes with the preview, and presses
    Submit for review: the piece is in review, the preview matched the page."""
    from blog.models import Post
    from tests.factories import make_post

    author = make_member(roles.AUTHORS, username="reporter", password=PASSWORD)
    draft = make_post(
        "Vienna talks", status=Post.Status.DRAFT, author=author, body="Draft."
    )
    page, problems, failed = watched_page(
        open_page, viewport={"width": 1400, "height": 1000}
    )
    log_in(page, live_server, "reporter")
    page.goto(f"{live_server.url}/admin/blog/post/{draft.pk}/change/")
    expect(page.locator("#dateline-live-preview .dateline-preview-body")).to_have_text(
        "Draft."
    )
    page.fill("#id_body", "")
    page.locator("#id_body").press_sequentially("Talks *resumed*.\n\n## Why", delay=5)
    page.wait_for_selector("#dateline-live-preview h2#why")
    preview_html = page.inner_html("#dateline-live-preview .dateline-preview-body")
    page.click(".submit-row >> nth=-1 >> input[name=_submit_review]")
    page.wait_for_url(f"{live_server.url}/admin/blog/post/")
    expect(page.locator(".messagelist")).to_contain_text("Submitted for review")
    draft.refresh_from_db()
    assert draft.status == Post.Status.REVIEW
    assert draft.body_html == preview_html
    assert page.evaluate("window.__violations") == []
    assert problems == []
    assert failed == []
