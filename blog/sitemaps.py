from datetime import timedelta

from django.conf import settings
from django.contrib.sitemaps import Sitemap, views
from django.db.models import Max
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

from blog.metadata import public_request, site_name
from blog.models import Author, Page, Post, Section, Tag


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


class AuthorSitemap(PublicSitemap):
    """Authors credited on at least one public post."""

    changefreq = "daily"
    priority = 0.5

    def items(self):
        return (
            Author.objects.filter(bylines__post__in=Post.objects.published())
            .annotate(newest=Max("bylines__post__published_at"))
            .order_by("slug")
        )

    def lastmod(self, author):
        return max(author.newest, author.updated_at)


class PageSitemap(PublicSitemap):
    """Static pages (About, Ethics…)."""

    changefreq = "monthly"
    priority = 0.3

    def items(self):
        return Page.objects.published().only("slug", "updated_at").order_by("slug")

    def lastmod(self, page):
        return page.updated_at


SITEMAPS = {
    "posts": PostSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
    "pages": PageSitemap,
}


def sitemap_index(request, **kwargs):
    """/sitemap.xml: the index, with absolute URLs from SITE_URL when set."""
    return views.index(public_request(request), **kwargs)


def sitemap_section(request, **kwargs):
    return views.sitemap(public_request(request), **kwargs)


class NewsSitemap(PublicSitemap):
    """Google News: the articles of the last two days, at most 1,000, each
    with the publication's name and language, its date and its title.
    https://developers.google.com/search/docs/crawling-indexing/sitemaps/news-sitemap
    """

    limit = 1000
    window = timedelta(days=2)

    def items(self):
        return (
            Post.objects.published()
            .filter(published_at__gte=timezone.now() - self.window)
            .only("title", "slug", "published_at", "updated_at")
            .order_by("-published_at")
        )

    def lastmod(self, post):
        return max(post.updated_at, post.published_at)

    def get_urls(self, *args, **kwargs):
        publication = {"name": site_name(), "language": news_language()}
        urls = super().get_urls(*args, **kwargs)
        for url in urls:
            url["news"] = {
                "publication": publication,
                "publication_date": url["item"].published_at.isoformat(),
                "title": url["item"].title,
            }
        return urls


def news_language(code: str | None = None) -> str:
    """The ISO 639 code Google News expects: "fr" for fr-ca, but zh-cn and
    zh-tw as they are."""
    code = (code or get_language() or settings.LANGUAGE_CODE).lower()
    return code if code in {"zh-cn", "zh-tw"} else code.split("-")[0]


def news_sitemap(request):
    """/sitemap-news.xml: not cached by version key, as an article leaves it
    by age alone, with nothing edited."""
    response = views.sitemap(
        public_request(request),
        sitemaps={"news": NewsSitemap},
        template_name="sitemap_news.xml",
    )
    patch_cache_control(response, public=True, max_age=settings.DATELINE["CDN_MAX_AGE"])
    return response
