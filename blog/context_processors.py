from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, to_locale

from blog.caching import page_params
from blog.models import Section


def site(request):
    """Site name and the sections for the navigation, queried only if a
    template shows them (the 500 page must not touch the database)."""
    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        # Open Graph spells the site's language as a locale: fr, en_GB.
        "og_locale": to_locale(get_language()),
        "page_params": SimpleLazyObject(lambda: page_params(request)),
        "nav_sections": SimpleLazyObject(lambda: list(Section.objects.all())),
    }
