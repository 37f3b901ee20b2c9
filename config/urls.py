from django.conf import settings
from django.contrib import admin
from django.core.exceptions import RequestDataTooBig
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from django.views.generic import RedirectView

from blog import admin_site, health, sitemaps, views
from blog.caching import public_cache
from blog.sitemaps import SITEMAPS

admin.site.site_header = _("Dateline newsroom")
admin.site.site_title = _("Dateline newsroom")
admin.site.index_title = _("Write and publish")


def bad_request(request, exception):
    """A POST too large to read is the only 400 an editor meets in practice:
    say so (413) instead of a bare "Bad Request" (issue 9)."""
    if isinstance(exception, RequestDataTooBig):
        return render(
            request,
            "413.html",
            {"limit_mb": settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)},
            status=413,
        )
    return defaults.bad_request(request, exception)


handler400 = bad_request

# The 404 page shows navigation from the database; with the database down it
# and any other failure of the database answer 503 (blog/degrade.py).
handler404 = "blog.degrade.page_not_found"
handler500 = "blog.degrade.server_error"

urlpatterns = [
    # Staff password reset from the admin login page (Django's auth views and
    # admin templates; issue 7). Before the admin's own URLs, which would 404.
    *admin_site.password_reset_urls(settings.ADMIN_PATH),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # Browsers and feed readers ask for /favicon.ico wherever a page names no
    # icon (the feed's XSL view, say); temporary, as the hashed name changes.
    path(
        "favicon.ico",
        RedirectView.as_view(url=lazy(static, str)("img/icon.png")),
        name="favicon",
    ),
    # An index of per-kind sitemaps (paginated past 5,000 URLs each), so a
    # large archive stays fully listed.
    path(
        "sitemap.xml",
        public_cache()(sitemaps.sitemap_index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    # Google News: the last two days' articles (blog/sitemaps.py NewsSitemap).
    path("sitemap-news.xml", sitemaps.news_sitemap, name="sitemap_news"),
    path(
        "sitemap-<section>.xml",
        public_cache()(sitemaps.sitemap_section),
        {"sitemaps": SITEMAPS},
        name="sitemap_section",
    ),
    path("", include("blog.urls")),
]

if settings.DATELINE["SERVE_MEDIA"]:
    # Uploaded images, served by Django when no object store or web server
    # does it (a single-machine newsroom); see README, Deploying.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", views.media, name="media"))
