from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max

from blog.models import Post, Section, Tag


class PublicSitemap(Sitemap):
    """Absolute URLs from SITE_URL when it is set (behind a proxy), else from
    the request, as Django does."""

    limit = 5000

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc or super().get_domain(site)

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or super().get_protocol(protocol)


class PostSitemap(PublicSitemap):
    changefreq = "daily"

    def items(self):
        return (
            Post.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at")
        )

    def lastmod(self, post):
        return max(post.updated_at, post.published_at)


class SectionSitemap(PublicSitemap):
    changefreq = "hourly"
    priority = 0.8

    def items(self):
        return (
            Section.objects.filter(posts__in=Post.objects.published())
            .annotate(newest=Max("posts__published_at"))
            .order_by("position", "name")
        )

    def lastmod(self, section):
        return section.newest


class TagSitemap(PublicSitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        return Tag.objects.filter(
            tagged_posts__content_object__in=Post.objects.published()
        ).distinct()


SITEMAPS = {"posts": PostSitemap, "sections": SectionSitemap, "tags": TagSitemap}
