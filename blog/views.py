import logging
from itertools import groupby

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView, MonthArchiveView, YearArchiveView
from django.views.static import serve

from blog.metadata import (
    absolute_uri,
    article_page,
    feed_links,
    listing_page,
    site_description,
    site_name,
)
from blog.models import Post, Section, StoryUpdate, Tag
from blog.search import as_posts, search_posts

logger = logging.getLogger(__name__)


class PublishedPostMixin:
    """Every public list of posts: published only, its joins declared once,
    paginated (bad page numbers are a 404, never a 500)."""

    date_field = "published_at"
    allow_empty = True

    def get_paginate_by(self, queryset):
        return settings.DATELINE["PAGE_SIZE"]

    def get_queryset(self):
        return Post.objects.published().for_listing()

    def listing_meta(self, context, title, description, crumbs=(), feeds=None):
        return listing_page(
            self.request,
            title,
            description,
            page_number=context["page_obj"].number if context.get("page_obj") else 1,
            crumbs=crumbs,
            feeds=(feeds or []) + feed_links(self.request, "latest", site_name()),
        )


class HomeView(PublishedPostMixin, ListView):
    template_name = "blog/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["page_obj"].number == 1:
            context["section_fronts"] = self.section_fronts()
        context["meta"] = self.listing_meta(context, site_name(), site_description())
        return context

    def section_fronts(self):
        latest = Post.objects.latest_per_section(3)
        return [
            (section, list(posts))
            for section, posts in groupby(latest, lambda p: p.section)
        ]


class SectionView(PublishedPostMixin, ListView):
    template_name = "blog/section_detail.html"

    def get_queryset(self):
        self.section = get_object_or_404(Section, slug=self.kwargs["slug"])
        return super().get_queryset().in_section(self.section)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        section = context["section"] = self.section
        context["meta"] = self.listing_meta(
            context,
            section.name,
            section.description
            or _("The latest from the %(section)s desk.") % {"section": section.name},
            crumbs=[(section.name, section.get_absolute_url())],
            feeds=feed_links(self.request, "section", section.name, slug=section.slug),
        )
        return context


MAX_TAGS = 3


class TagView(PublishedPostMixin, ListView):
    """One tag, or the posts carrying every one of up to three (`/tag/a+b/`)."""

    template_name = "blog/tag_detail.html"

    def get(self, request, *args, **kwargs):
        slugs = kwargs["slugs"]
        canonical = sorted(set(slugs))
        if slugs != canonical:
            return redirect("blog:tag", slugs=canonical, permanent=True)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.tags = Tag.every_one_of(self.kwargs["slugs"])
        if self.tags is None:
            raise Http404("No such tag.")
        return super().get_queryset().tagged(*self.tags)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tags = context["tags"] = self.tags
        names = " + ".join(tag.name for tag in tags)
        description = (
            tags[0].description
            if len(tags) == 1 and tags[0].description
            else _("Everything we have published on %(tags)s.") % {"tags": names}
        )
        context["meta"] = self.listing_meta(
            context,
            names,
            description,
            crumbs=[(names, self.request.path)],
            feeds=feed_links(self.request, "tag", names, slugs=[t.slug for t in tags]),
        )
        return context


class PostDetailView(DetailView):
    """An article at /yyyy/mm/dd/slug/. A wrong date or an old slug answers 301
    to the canonical address; editors preview drafts at the real URL."""

    def get_queryset(self):
        if self.request.user.is_staff:
            posts = Post.objects.all()
        else:
            posts = Post.objects.published()
        return posts.select_related("section", "author").prefetch_related("tags")

    def get(self, request, *args, **kwargs):
        posts = self.get_queryset()
        slug = kwargs["slug"]
        self.object = (
            posts.filter(slug=slug).first()
            or posts.filter(old_slugs__slug=slug).first()
        )
        if self.object is None:
            raise Http404("No such article.")
        if request.path != self.object.get_absolute_url():
            return redirect(self.object, permanent=True)
        return self.render_to_response(self.get_context_data(object=self.object))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        post = self.object
        updates = StoryUpdate.objects.filter(post=post)
        if not self.request.user.is_staff:
            updates = updates.published()
        context["updates"] = list(updates)
        context["updated_at"] = post.last_updated(context["updates"])
        context["previous_post"], context["next_post"] = post.neighbours_in_section()
        context["related_posts"] = Post.objects.published().related_to(post)
        meta = context["meta"] = article_page(self.request, post)
        meta.feeds = (
            feed_links(
                self.request,
                "post",
                _("Updates to “%(title)s”") % {"title": post.title},
                **self.kwargs,
            )
            + feed_links(
                self.request, "section", post.section.name, slug=post.section.slug
            )
            + feed_links(self.request, "latest", site_name())
        )
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        if not self.object.is_live:
            add_never_cache_headers(response)
            response.headers["X-Robots-Tag"] = "noindex"
        return response


class ArchiveView(PublishedPostMixin, ListView):
    """/archive/: every month with its number of posts, in one query."""

    template_name = "blog/archive.html"
    paginate_by = None

    def get_paginate_by(self, queryset):
        return None

    def get_queryset(self):
        return (
            Post.objects.published()
            .annotate(month=TruncMonth("published_at"))
            .order_by()
            .values("month")
            .annotate(posts=Count("id"))
            .order_by("-month")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["years"] = [
            (year, list(months))
            for year, months in groupby(
                context["object_list"], lambda m: m["month"].year
            )
        ]
        context["meta"] = self.listing_meta(
            context,
            _("Archive"),
            _("Every month of %(site)s, with its number of articles.")
            % {"site": site_name()},
        )
        return context


class YearView(PublishedPostMixin, YearArchiveView):
    make_object_list = True
    allow_empty = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        year = context["year"].year
        context["meta"] = self.listing_meta(
            context,
            f"{year}",
            _("Everything %(site)s published in %(period)s.")
            % {"site": site_name(), "period": year},
            crumbs=[
                (_("Archive"), reverse("blog:archive")),
                (f"{year}", self.request.path),
            ],
        )
        return context


class MonthView(PublishedPostMixin, MonthArchiveView):
    month_format = "%m"
    allow_empty = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = context["month"]
        label = date_format(month, "F Y")  # in the site's language
        context["meta"] = self.listing_meta(
            context,
            label,
            _("Everything %(site)s published in %(period)s.")
            % {"site": site_name(), "period": label},
            crumbs=[
                (_("Archive"), reverse("blog:archive")),
                (f"{month.year}", reverse("blog:year", kwargs={"year": month.year})),
                (label, self.request.path),
            ],
        )
        return context


class SearchView(PublishedPostMixin, ListView):
    template_name = "blog/search.html"
    MAX_QUERY = 200

    def get_queryset(self):
        # Control characters (NUL above all, which PostgreSQL refuses) carry
        # no meaning in a search.
        raw = self.request.GET.get("q", "")
        text = "".join(c if c.isprintable() else " " for c in raw)
        self.query = text.strip()[: self.MAX_QUERY]
        return search_posts(self.query)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object_list"] = as_posts(context["object_list"])
        context["query"] = self.query
        title = (
            _("Search: %(query)s") % {"query": self.query}
            if self.query
            else _("Search")
        )
        context["meta"] = self.listing_meta(
            context,
            title,
            _("Search every article %(site)s has published.") % {"site": site_name()},
        )
        context["meta"].robots = "noindex"
        return context

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response.headers["X-Robots-Tag"] = "noindex"
        return response


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /search/",
        f"Sitemap: {absolute_uri(request, reverse('sitemap'))}",
        f"Sitemap: {absolute_uri(request, reverse('sitemap_news'))}",
    ]
    return HttpResponse(
        "\n".join(lines) + "\n", content_type="text/plain; charset=utf-8"
    )


@require_safe
def media(request, path):
    """Uploaded images, when no object store or web server serves them.

    Readers get renditions only: resized, stripped of camera metadata, named by
    a content hash (so cacheable for a year) and so not guessable for drafts.
    Originals, at their upload names, are for editors.
    """
    if not path.startswith("renditions/") and not request.user.is_staff:
        raise Http404("No such file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    patch_cache_control(
        response, public=True, max_age=60 * 60 * 24 * 365, immutable=True
    )
    return response


@require_safe
def healthz(request):
    """200 when the app and its database answer; 503 (never a 500 page) otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means unhealthy
        # The details go to the log, not to whoever asked.
        logger.exception("Health check: the database does not answer")
        response = JsonResponse({"status": "unavailable"}, status=503)
    else:
        response = JsonResponse({"status": "ok", "database": connection.vendor})
    add_never_cache_headers(response)
    return response
