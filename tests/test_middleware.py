"""blog/middleware.py: a strict Content-Security-Policy on public pages."""

import pytest

from blog.middleware import POLICY, client_address
from tests.factories import make_post

pytestmark = pytest.mark.django_db


def test_public_pages_and_feeds_send_a_strict_csp(client):
    """Pages forbid inline and foreign scripts, plugins, framing and <base> tricks."""
    post = make_post()
    for url in ("/", post.get_absolute_url(), "/feed/", "/nowhere/"):
        policy = client.get(url)["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "base-uri 'none'" in policy


def test_admin_is_under_the_policy_too(staff_client):
    """The admin pages carry the same CSP as the public site (issue 9)."""
    for url in ["/admin/", "/admin/blog/post/add/", "/admin/login/"]:
        assert staff_client.get(url)["Content-Security-Policy"] == POLICY


def test_every_response_has_a_permissions_policy(client, staff_client):
    """Public pages, 404s, feeds and the admin all deny powerful browser features."""
    for response in [
        client.get("/"),
        client.get("/no-such-page/"),
        client.get("/feed/"),
        client.get("/admin/login/"),
        staff_client.get("/admin/"),
    ]:
        policy = response["Permissions-Policy"]
        assert "camera=()" in policy and "geolocation=()" in policy


@pytest.mark.parametrize(
    "proxies,forwarded,remote,expected",
    [
        (0, "203.0.113.9", "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "10.0.0.2", "203.0.113.9"),
        (2, "6.6.6.6, 203.0.113.9, 10.0.0.3", "10.0.0.2", "203.0.113.9"),
        (1, "", "10.0.0.2", "10.0.0.2"),
    ],
)
def test_client_address_trusts_only_configured_proxies(
    rf, settings, proxies, forwarded, remote, expected
):
    """X-Forwarded-For counts only for the hops our proxies added; a forged
    left-hand entry never becomes the client address."""
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_address(request) == expected
