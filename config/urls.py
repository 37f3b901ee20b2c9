from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from blog import health, sitemaps, views
from blog.caching import public_cache
from blog.sitemaps import SITEMAPS

admin.site.site_header = "Dateline newsroom"
admin.site.site_title = "Dateline newsroom"
admin.site.index_title = "Write and publish"

# The 404 page shows navigation from the database; with the database down it
# and any other failure of the database answer 503 (blog/degrade.py).
handler404 = "blog.degrade.page_not_found"
handler500 = "blog.degrade.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    # An index of per-kind sitemaps (paginated past 5,000 URLs each), so a
    # large archive stays fully listed.
    path(
        "sitemap.xml",
        public_cache()(sitemaps.sitemap_index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
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
