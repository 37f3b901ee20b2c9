from django.conf import settings
from django.utils.functional import SimpleLazyObject

from blog.caching import page_params
from blog.models import Section


def site(request):
    """Site name and the sections for the navigation, queried only if a
    template shows them (the 500 page must not touch the database)."""
    return {
        "site_name": settings.DATELINE["SITE_NAME"],
        "page_params": SimpleLazyObject(lambda: page_params(request)),
        "nav_sections": SimpleLazyObject(lambda: list(Section.objects.all())),
    }
