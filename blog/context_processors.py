from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, to_locale

from blog.caching import page_params


def site(request):
    """Site name, the locale Open Graph names and the query parameters pages
    link with (worked out only if a template shows them). The navigation,
    footer pages and site feeds are the chrome's own (blog/chrome.py)."""
    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        # Open Graph spells the site's language as a locale: fr, en_GB.
        "og_locale": to_locale(get_language()),
        "page_params": SimpleLazyObject(lambda: page_params(request)),
    }
