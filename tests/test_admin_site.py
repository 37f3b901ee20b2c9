"""blog/admin_site.py and the doors around it: throttled logins, optional
TOTP, NUL-safe admin views, a configurable admin address (issue 9)."""

import importlib

import pytest
from axes.models import AccessAttempt
from django.urls import clear_url_caches, reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from lxml import html as lxml_html

from tests.factories import make_staff

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/?next=/admin/"


def log_in(client, username, password, address="203.0.113.5", **extra):
    return client.post(
        LOGIN,
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=address,
    )


def current_token(device: TOTPDevice) -> str:
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def test_wrong_passwords_lock_that_username_from_that_address(client, settings):
    """After the failure limit even the right password is refused, with a clear 429 page."""
    editor = make_staff(username="editor")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "editor", "wrong").status_code == 200
    assert log_in(client, "editor", "wrong").status_code == 429
    response = log_in(client, "editor", PASSWORD)
    assert response.status_code == 429
    assert b"Too many wrong passwords" in response.content
    assert "_auth_user_id" not in client.session
    assert editor.username == "editor"


def test_a_guesser_elsewhere_cannot_lock_an_editor_out(client, settings):
    """The lockout is keyed by username and address together."""
    make_staff(username="editor")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        log_in(client, "editor", "wrong", address="198.51.100.66")
    response = log_in(client, "editor", PASSWORD, address="203.0.113.5")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_forged_forwarded_for_does_not_escape_the_lockout(client, settings):
    """Without trusted proxies, a new X-Forwarded-For per guess changes nothing."""
    make_staff(username="editor")
    for n in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "editor", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = client.post(
        LOGIN,
        {"username": "editor", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert response.status_code == 429


def test_deleting_the_access_attempt_in_the_admin_unlocks(client, settings):
    """An editor-in-chief lifts a lockout from the admin's Access attempts list."""
    make_staff(username="editor")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "editor", "wrong")
    chief = make_staff(username="chief")
    chief_client = type(client)()
    chief_client.force_login(chief)
    attempt = AccessAttempt.objects.get(username="editor")
    listing = chief_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and b"editor" in listing.content
    chief_client.post(
        f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}
    )
    assert not AccessAttempt.objects.exists()
    assert log_in(client, "editor", PASSWORD).status_code == 302


def test_staff_with_a_device_must_give_its_code(client):
    """Once a TOTP device is set up, the password alone does not log in."""
    editor = make_staff(username="editor")
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    assert log_in(client, "editor", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session
    response = log_in(client, "editor", PASSWORD, otp_token=current_token(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_required_two_factor_refuses_staff_without_a_verified_session(client, settings):
    """With REQUIRE_2FA on, staff without a code cannot log in or use the admin."""
    settings.DATELINE = {**settings.DATELINE, "REQUIRE_2FA": True}
    editor = make_staff(username="editor")
    page = client.get(LOGIN)
    assert b"Required: the six digits" in page.content
    refused = log_in(client, "editor", PASSWORD)
    assert refused.status_code == 200
    assert b"none is set up for your account" in refused.content
    client.force_login(editor)  # a password-only session, as before the switch
    assert client.get("/admin/").status_code == 302
    device = TOTPDevice.objects.create(user=editor, name="phone", confirmed=True)
    client.logout()
    response = log_in(client, "editor", PASSWORD, otp_token=current_token(device))
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_views_refuse_nul_in_the_query_string(staff_client):
    """A NUL in any admin query parameter is a 400, never a database error."""
    for url in [
        "/admin/blog/post/?status__exact=%00",
        "/admin/blog/post/?slug__startswith=%00",
        "/admin/autocomplete/?app_label=blog&model_name=post&field_name=section&term=%00",
        "/admin/blog/post/add/?section=%00",
    ]:
        assert staff_client.get(url).status_code == 400, url


def test_known_500s_from_the_issue_now_answer_4xx_or_a_page(staff_client):
    """The five admin URLs that answered 500 in issue 9 answer below 500."""
    staff_client.raise_request_exception = False
    for url in [
        "/admin/blog/post/?status__exact=%00",
        "/admin/blog/post/?slug__startswith=%00",
        "/admin/autocomplete/?app_label=blog&model_name=post&field_name=section&term=%00",
        "/admin/blog/post/add/?section=%00",
        "/admin/blog/post/add/?published_at=abc",
    ]:
        assert staff_client.get(url).status_code < 500, url


@pytest.fixture
def admin_path(settings):
    def move(path):
        settings.ADMIN_PATH = path
        importlib.reload(importlib.import_module("config.urls"))
        clear_url_caches()

    yield move
    move("admin/")


def test_admin_address_comes_from_the_environment(admin_path, staff_client):
    """DJANGO_ADMIN_PATH moves the admin; the old address is a 404."""
    admin_path("newsroom-7f3a/")
    assert reverse("admin:index") == "/newsroom-7f3a/"
    assert staff_client.get("/newsroom-7f3a/").status_code == 200
    assert staff_client.get("/admin/").status_code == 404


def test_staff_reset_their_password_from_the_login_page(client, mailoutbox):
    """The login page links a reset; a staff address gets a working link, a
    reader's or unknown address gets nothing, with the same answer."""
    import re

    from django.contrib.auth import get_user_model

    from tests.factories import make_user

    make_staff(username="editor", email="editor@example.org")
    make_user(email="reader@example.org")
    login = client.get("/admin/login/")
    doc = lxml_html.fromstring(login.content)
    reset = doc.cssselect(".password-reset-link a")[0].get("href")
    answers = [
        client.post(reset, {"email": email})
        for email in ("nobody@example.org", "reader@example.org", "editor@example.org")
    ]
    assert {answer.status_code for answer in answers} == {302}
    assert {answer["Location"] for answer in answers} == {"/admin/password_reset/done/"}
    assert [message.to for message in mailoutbox] == [["editor@example.org"]]
    link = re.search(r"http://testserver(/admin/reset/\S+/)", mailoutbox[0].body)[1]
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "a new long passphrase",
            "new_password2": "a new long passphrase",
        },
    )
    assert done.status_code == 302
    user = get_user_model().objects.get(username="editor")
    assert user.check_password("a new long passphrase")


def test_password_reset_requests_are_rate_limited(client, mailoutbox):
    """Past 3 requests an hour for one address, or 10 from one client address,
    the form answers 429 with a message and sends nothing; the answer is the
    same for a staff address and an unknown one (nothing is revealed)."""
    from blog.admin_site import RESET_LIMITS

    make_staff(username="editor", email="editor@example.org")
    url = "/admin/password_reset/"
    for address in ("editor@example.org", "nobody@example.org"):
        answers = [
            client.post(url, {"email": address})
            for _ in range(RESET_LIMITS["address"] + 1)
        ]
        assert [a.status_code for a in answers] == [302] * RESET_LIMITS["address"] + [
            429
        ]
        doc = lxml_html.fromstring(answers[-1].content)
        assert "Too many password reset requests" in (
            doc.cssselect(".errorlist")[0].text_content()
        )
    assert len(mailoutbox) == RESET_LIMITS["address"]

    # Other addresses from the same client: refused once the client's own
    # limit is reached (8 requests so far, 2 of them refused).
    statuses = [
        client.post(url, {"email": f"someone{n}@example.org"}).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 429, 429]
    # Another client is not held back by this one.
    other = client_class_from(client)
    answer = other.post(url, {"email": "fresh@example.org"}, REMOTE_ADDR="10.0.0.9")
    assert answer.status_code == 302


def client_class_from(client):
    return type(client)()
