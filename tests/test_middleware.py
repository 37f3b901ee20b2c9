"""blog/middleware.py: a strict Content-Security-Policy on public pages."""

import pytest

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


def test_admin_is_left_alone(staff_client):
    """The admin keeps Django's own behaviour (no CSP from us)."""
    assert "Content-Security-Policy" not in staff_client.get("/admin/")
