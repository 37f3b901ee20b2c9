"""The admin under the Content-Security-Policy (issue 9): Django's own widgets
still work in Chromium and no policy violation or script error is reported."""

import pytest
from django.conf import settings
from django.utils import timezone

from blog.models import Post
from tests.factories import make_section, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_admin_widgets_work_under_the_csp(open_page, live_server):
    """Log in, then use the prepopulated slug, the section autocomplete, an
    inline story update, the date shortcuts and a collapsed fieldset, and save."""
    make_staff(username="editor", password=PASSWORD)
    make_section("World")
    page = open_page()
    page.add_init_script(WATCH_VIOLATIONS)
    problems = []
    # Failed loads are checked by URL below (`missing`); the console line
    # would also count Chromium's own /favicon.ico probe, which pages do not ask for.
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and problems.append(message.text)
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    missing = []
    page.on(
        "response",
        lambda response: response.status >= 400 and missing.append(response.url),
    )

    response = page.goto(live_server.url + "/admin/login/?next=/admin/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")

    page.goto(live_server.url + "/admin/blog/post/add/")
    page.locator("#id_title").press_sequentially("Talks resume in Vienna")
    assert page.input_value("#id_slug") == "talks-resume-in-vienna"

    page.click("#id_section + .select2 .select2-selection")
    page.fill(".select2-search__field", "Wor")
    page.click(".select2-results__option:has-text('World')")
    assert page.input_value("#id_section") != ""

    page.fill("#id_body", "Opening.\n\n## What happened\n\nText.")
    page.click("#updates-group .add-row a")
    page.fill("#id_updates-0-body", "Delegations arrive.")
    page.click("#id_updates-0-published_at_0 ~ .datetimeshortcuts a:has-text('Today')")
    page.click("#id_updates-0-published_at_1 ~ .datetimeshortcuts a:has-text('Now')")
    assert page.input_value("#id_updates-0-published_at_0") == (
        timezone.localdate().isoformat()
    )

    page.click("summary:has-text('Lead image')")
    assert page.is_visible("#id_lead_image_alt")

    page.select_option("#id_status", "published")
    page.click("input[name=_save]")
    page.wait_for_url(live_server.url + "/admin/blog/post/")
    post = Post.objects.get(slug="talks-resume-in-vienna")
    assert post.updates.get().body == "Delegations arrive."

    assert page.evaluate("window.__violations") == []
    assert missing == []
    assert problems == []


def test_text_typed_when_the_session_expired_is_offered_back(open_page, live_server):
    """An editor types, the session expires, the save bounces to the login page;
    after logging in again the form offers the typed text back, and a
    successful save clears the browser's copy."""
    from tests.factories import make_post

    make_staff(username="editor", password=PASSWORD)
    post = make_post(title="Talks resume", body="Old body.")
    change = f"{live_server.url}/admin/blog/post/{post.pk}/change/"
    page = open_page()
    page.add_init_script(WATCH_VIOLATIONS)

    def log_in():
        page.fill("#id_username", "editor")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")

    page.goto(change)
    log_in()
    page.wait_for_url(change)
    page.fill("#id_title", "Talks resume in Vienna")
    page.locator("#id_body").press_sequentially("Two hours of careful writing.")
    page.wait_for_timeout(600)  # past the keeper's debounce
    # The session is gone, as after expiry (the CSRF cookie stays).
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/login/**")
    log_in()
    page.wait_for_url(change)
    assert page.input_value("#id_body") == "Old body."
    page.click(".dateline-draft-restore")
    assert page.input_value("#id_title") == "Talks resume in Vienna"
    assert "Two hours of careful writing." in page.input_value("#id_body")
    page.click("input[name=_save]")
    page.wait_for_url(live_server.url + "/admin/blog/post/")
    post.refresh_from_db()
    assert "Two hours of careful writing." in post.body
    kept = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('dateline:draft:'))"
    )
    assert kept == []
    page.goto(change)
    assert page.locator(".dateline-draft-offer").count() == 0
    assert page.evaluate("window.__violations") == []
