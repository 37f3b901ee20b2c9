"""A Content-Security-Policy for every public page.

Markup is sanitised on save (blog/markup.py); this is the second wall: even if
something slipped through, the browser would run no inline or foreign script.
The admin is left out: its widgets rely on inline behaviour we do not own.
"""

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


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/admin/"):
            response.headers.setdefault("Content-Security-Policy", POLICY)
        return response
