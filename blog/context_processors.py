from django.conf import settings
from django.utils.functional import SimpleLazyObject

from blog.caching import nav_sections, page_params


def site(request):
    """Site name, the sections for the navigation and the site's feeds,
    worked out only if a template shows them (the 500 page must not touch the
    database)."""
    from blog.listings import LatestListing

    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        "page_params": SimpleLazyObject(lambda: page_params(request)),
        "nav_sections": SimpleLazyObject(nav_sections),
        "site_feeds": SimpleLazyObject(lambda: LatestListing().feed_links(request)),
    }
