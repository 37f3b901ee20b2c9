"""Headers every response carries, and the client address behind proxies.

Markup is sanitised on save (blog/markup.py); the Content-Security-Policy is
the second wall: even if something slipped through, the browser would run no
inline or foreign script. The admin is under the same policy: Django's admin
runs no inline script, and our own admin styles live in a stylesheet
(tests/browser checks its widgets under the policy, issue 9).
"""

from django.conf import settings

POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: https:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# A news site needs none of these powerful features; saying so means a script
# that got in anyway could not ask for them either.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in [
        "accelerometer", "camera", "display-capture", "geolocation", "gyroscope",
        "magnetometer", "microphone", "midi", "payment", "usb",
    ]
)  # fmt: skip


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def client_address(request) -> str:
    """The address a request came from, for login throttling (django-axes).

    X-Forwarded-For is believed only for the hops our own proxies added
    (settings.TRUSTED_PROXY_COUNT): each appends the address it saw, so the
    client is the entry just before theirs. Anything further left was written
    by the client and could name anyone."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    chain = [address.strip() for address in forwarded if address.strip()] + [remote]
    return chain[-(hops + 1)] if len(chain) > hops else chain[0]
