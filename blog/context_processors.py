from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, to_locale

from blog.caching import nav_sections, page_params
from blog.pages import footer_pages


def site(request):
    """Site name, the sections for the navigation and the site's feeds,
    worked out only if a template shows them (the 500 page must not touch the
    database)."""
    from blog.listings import LatestListing

    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        # Open Graph spells the site's language as a locale: fr, en_GB.
        "og_locale": to_locale(get_language()),
        "page_params": SimpleLazyObject(lambda: page_params(request)),
        "nav_sections": SimpleLazyObject(nav_sections),
        "footer_pages": SimpleLazyObject(footer_pages),
        "site_feeds": SimpleLazyObject(lambda: LatestListing().feed_links(request)),
    }
