from django.contrib.sitemaps import Sitemap, views
from django.db.models import Max

from blog.metadata import public_request
from blog.models import Post, Section, Tag


class PublicSitemap(Sitemap):
    # Sitemaps hold at most 50,000 URLs; smaller pages keep each response light.
    limit = 5000


class PostSitemap(PublicSitemap):
    changefreq = "daily"

    def items(self):
        return (
            Post.objects.published()
            .only("slug", "published_at", "updated_at")
            .order_by("-published_at")
        )

    def lastmod(self, post):
        return post.modified


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


def sitemap_index(request, **kwargs):
    """/sitemap.xml: the index, with absolute URLs from SITE_URL when set."""
    return views.index(public_request(request), **kwargs)


def sitemap_section(request, **kwargs):
    return views.sitemap(public_request(request), **kwargs)
