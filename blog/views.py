import logging
from datetime import date
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.generic import DetailView, ListView, MonthArchiveView, YearArchiveView
from django.views.static import serve

from blog import archive, cards, chrome, compiled, roles
from blog.articles import article_pieces, page_chrome
from blog.caching import nav_sections
from blog.corrections import UNPINNED
from blog.feeds import Gone
from blog.listings import (
    AuthorListing,
    LatestListing,
    MovedPermanently,
    SectionListing,
    StoryListing,
    TagListing,
)
from blog.metadata import (
    absolute_uri,
    listing_page,
    retraction_page,
    site_name,
)
from blog.models import Page, Post, Section
from blog.search import UncountedPage, UncountedPaginator, as_posts, search_posts

logger = logging.getLogger(__name__)


class BoundedPaginator(Paginator):
    """Counts at most MAX_PAGES pages: a COUNT over every public post costs
    what the archive costs (issue 8). Older posts are reached through the
    date archives, and every post through the sitemap."""

    MAX_PAGES = 100
    # Set by listing views: what the listing's query depends on (its kind and
    # ids), so its count and pages rerun SQL compiled once (blog/compiled.py).
    query_key = None
    # What is counted, if not the posts (a tag's rows in its own index): a
    # callable returning a queryset of as many rows as the listing has posts,
    # or None (Listing.count_rows). Called only when the count's compiled SQL
    # is not at hand: composing it through the ORM cost 16-20% of a page.
    count_rows = None

    def _count_rows(self, bounded):
        rows = None if self.count_rows is None else self.count_rows()
        if rows is None:  # in any order: the first N rows are as many
            rows = self.object_list.order_by().values("pk")
        # else in the order of the index the listing is counted on
        # (Listing.count_rows): in the posts' own order (-published_at, -id),
        # both engines walked the newest-first index of every post and
        # filtered it; in none, PostgreSQL read every row of a section.
        return rows[:bounded]

    @cached_property
    def count(self):
        """At most MAX_PAGES pages of posts. With a `query_key`, the count's
        rows are composed only once per key and process (compiled.memo_count)."""
        bounded = self.per_page * self.MAX_PAGES
        if self.query_key is None:
            return self._count_rows(bounded).count()
        return compiled.memo_count(
            ("count", *self.query_key, bounded), lambda: self._count_rows(bounded)
        )

    def page(self, number):
        if self.query_key is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        posts = compiled.memo_rows(
            ("page", *self.query_key, bottom, top),
            lambda: self.object_list[bottom:top],
        )
        return self._get_page(posts, number, self)


class UncountedListingPaginator(UncountedPaginator):
    """Pages of a listing that is not counted (`Listing.counted`: a tag
    intersection): "Page N" and a link to the next page, read as one row more
    than a page shows; the same MAX_PAGES as a counted listing."""

    MAX_PAGES = BoundedPaginator.MAX_PAGES
    query_key = None

    def page(self, number):
        number = self.validate_number(number)
        if number > self.MAX_PAGES:
            raise EmptyPage("That page is beyond the last one we count")
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page + (number < self.MAX_PAGES)
        if self.query_key is None:
            rows = list(self.object_list[bottom:top])
        else:
            rows = compiled.memo_rows(
                ("page", *self.query_key, bottom, top),
                lambda: self.object_list[bottom:top],
            )
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return UncountedPage(
            rows[: self.per_page], number, self, has_next=len(rows) > self.per_page
        )


class FrontPaginator(BoundedPaginator):
    """Pages of a listing with pins (blog/corrections.PinnedFront): counted as
    the listing is, each page read in the front's order, in one query."""

    def __init__(self, *args, front, **kwargs):
        super().__init__(*args, **kwargs)
        self.front = front

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        key = self.query_key
        if key is None:
            return self._get_page(self.front.window(bottom, top), number, self)
        posts = compiled.memo_rows(
            ("front", *key, bottom, top), lambda: self.front.window(bottom, top)
        )
        return self._get_page(posts, number, self)


class PublishedPostMixin:
    """Every public list of posts: published only, its joins declared once,
    paginated (bad page numbers are a 404, never a 500)."""

    date_field = "published_at"
    allow_empty = True
    paginator_class = BoundedPaginator

    def get_paginate_by(self, queryset):
        return settings.DATELINE["PAGE_SIZE"]

    def get_queryset(self):
        return Post.objects.published().for_listing()

    def listing_meta(self, context, title, description, crumbs=(), feeds=()):
        """The page's metadata; every page also links the site's own feeds."""
        return listing_page(
            self.request,
            title,
            description,
            page_number=context["page_obj"].number if context.get("page_obj") else 1,
            crumbs=crumbs,
            feeds=[*feeds, *chrome.site_feeds(self.request)],
        )


class CanonicalListingMixin:
    """Resolves `listing_class` from the URL; a non-canonical address answers 301."""

    listing_class = LatestListing

    def dispatch(self, request, *args, **kwargs):
        try:
            self.listing = self.get_listing(**kwargs)
            self.listing.check_canonical(request.path)
        except MovedPermanently as moved:
            return redirect(moved.location, permanent=True)
        return super().dispatch(request, *args, **kwargs)

    def get_listing(self, **kwargs):
        return self.listing_class.resolve(**kwargs)


class ListingView(CanonicalListingMixin, PublishedPostMixin, ListView):
    """A listing's page: its posts, title, description and feeds come from
    the listing (blog/listings.py); the view only paginates and presents."""

    def get_queryset(self):
        # Built only when its compiled SQL is not at hand (blog/compiled.py).
        return compiled.Lazy(self.listing.posts, Post)

    def get_paginator(self, queryset, per_page, *args, **kwargs):
        front = self.listing.front()
        if not self.listing.counted:
            paginator = UncountedListingPaginator(queryset, per_page, *args, **kwargs)
        elif front is None:
            paginator = super().get_paginator(queryset, per_page, *args, **kwargs)
        else:
            paginator = FrontPaginator(queryset, per_page, *args, front=front, **kwargs)
        paginator.query_key = self.listing.query_key()
        paginator.count_rows = self.listing.count_rows
        return paginator

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        posts = context["object_list"] = list(context["object_list"])
        # The pins in force lead the first page (blog/corrections.PinnedFront).
        pinned = [p for p in posts if getattr(p, "pin_rank", UNPINNED) < UNPINNED]
        context["pinned"], context["unpinned"] = pinned, posts[len(pinned) :]
        listing = context["listing"] = self.listing
        own = [] if listing.kind == "latest" else listing.feed_links(self.request)
        context["meta"] = self.listing_meta(
            context,
            listing.title,
            listing.description,
            crumbs=listing.crumbs(),
            feeds=own,
        )
        context["feeds"] = own or context["meta"].feeds
        return context


class HomeView(ListingView):
    template_name = "blog/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if context["page_obj"].number == 1:
            context["desks"] = [
                chrome.desk(section, lines) for section, lines in self.section_fronts()
            ]
        return context

    # What a desk line reads: its stored HTML and stamp, and what a live
    # render of a stale one needs (blog/cards.desk_item), no query.
    DESK_COLUMNS = ("id", "title", "slug", "section_id", "published_at")
    DESK_STORED = ("desk_html", "card_stamp")

    def section_fronts(self):
        """The desks ("From the desks"): each section, as the navigation holds
        it (remembered per SiteState time), and its newest posts' desk lines.
        The rows are read as tuples; a Post (with the same columns, so no
        query either) is made only for a line whose stored stamp is stale.
        A section too new for this request's list is read on its own."""
        columns = (*self.DESK_COLUMNS, *self.DESK_STORED)
        latest = compiled.memo_values(
            ("desk-rows", 3),
            lambda: Post.objects.latest_per_section(3).values_list(*columns),
        )
        sections = {section.pk: section for section in nav_sections()}
        stamp = cards.LISTING.stamp()
        fronts = []
        for section_id, rows in groupby(latest, itemgetter(3)):
            lines = []
            for row in rows:
                html, row_stamp = row[-2:]
                if not html or row_stamp != stamp:
                    post = Post.from_db(connection.alias, columns, row)
                    html = cards.desk_item(post, stamp)
                lines.append(html)
            section = sections.get(section_id)
            if section is None:
                section = Section.objects.get(pk=section_id)
            fronts.append((section, mark_safe("".join(lines))))  # noqa: S308
        return fronts


class SectionView(ListingView):
    listing_class = SectionListing
    template_name = "blog/section_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.listing.section
        context["meta"].nav_section = self.listing.section.pk
        return context


class TagView(ListingView):
    """One tag, or the posts carrying every one of up to three (`/tag/a+b/`)."""

    listing_class = TagListing
    template_name = "blog/tag_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tags"] = self.listing.tags
        return context


class AuthorView(ListingView):
    """One author's profile and posts (issue 13)."""

    listing_class = AuthorListing
    template_name = "blog/author_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["author"] = self.listing.author
        return context


class PageView(DetailView):
    """A static page (About, Ethics…): published ones only (blog/pages.py)."""

    model = Page
    context_object_name = "static_page"

    def get_queryset(self):
        return Page.objects.published()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["meta"] = listing_page(
            self.request,
            self.object.title,
            self.object.summary,
            crumbs=[(self.object.title, self.object.get_absolute_url())],
            feeds=list(chrome.site_feeds(self.request)),
        )
        return context


class PostDetailView(CanonicalListingMixin, DetailView):
    """An article at /yyyy/mm/dd/slug/: the page of its story listing. A wrong
    date or an old slug answers 301 to the canonical address; editors preview
    drafts at the real URL."""

    listing_class = StoryListing

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except Gone as gone:
            return self.retraction_notice(gone.post)

    def retraction_notice(self, post):
        """A retracted article answers 410 Gone with a notice: what it was,
        when it was published and retracted, and why. Never a silent 404."""
        response = TemplateResponse(
            self.request,
            "blog/post_retracted.html",
            {"post": post, "meta": retraction_page(self.request, post)},
            status=410,
        )
        response.headers["X-Robots-Tag"] = "noindex"
        return response

    def get_listing(self, **kwargs):
        user = self.request.user
        listing = StoryListing.resolve(preview=user.is_staff, **kwargs)
        if listing.gone:
            return listing
        if listing.preview and not roles.may_preview(user, listing.post):
            # Staff who may not edit this post read it as the public does.
            listing.preview = False
            if not listing.post.is_live:
                raise Http404("No such article.")
        return listing

    def get_object(self, queryset=None):
        return self.listing.post

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        post, story = self.object, self.listing
        context["article"] = article_pieces(post, self.request)
        context["meta"] = page_chrome(post)
        context["updates"] = list(story.updates())
        context["updated_at"] = post.last_updated(context["updates"])
        context["previous_post"], context["next_post"], context["related_posts"] = (
            Post.objects.around(post)
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
        # Counted by triggers as posts change, not per request (blog/archive.py).
        return [{"month": month, "posts": n} for month, n in archive.months()]

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


class DateArchiveMixin(PublishedPostMixin):
    """A year or a month: a 404 when nothing was published then. Emptiness is
    read from the date list the view fetches anyway (allow_empty=False would
    add an EXISTS query)."""

    allow_empty = True

    def get_dated_items(self):
        date_list, object_list, extra = super().get_dated_items()
        if not date_list:
            raise Http404("Nothing was published then.")
        return date_list, object_list, extra


class YearView(DateArchiveMixin, YearArchiveView):
    make_object_list = True

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        """The year's months with public posts, from the archive's counts
        (blog/archive.py): distinct months over the year's every post cost
        what a year of the archive costs (76 ms at 100,000 posts)."""
        year = int(self.get_year())
        months = [month for month, _ in archive.months() if month.year == year]
        return months if ordering == "DESC" else months[::-1]

    # The year page links its months, not other years: no queries for them.
    def get_next_year(self, date):
        return None

    def get_previous_year(self, date):
        return None

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


class MonthView(DateArchiveMixin, MonthArchiveView):
    """A month's posts, with links to the nearest months that have any. The
    months come from the archive's counts (blog/archive.py) in one query:
    asking the posts whether this month, the next and the previous one have
    any took four, one grouping the month's posts by day (4 ms at 100,000)."""

    month_format = "%m"

    def get_date_list(self, queryset, date_type=None, ordering="ASC"):
        # The template lists no days: the month itself, if it has posts.
        year, month = int(self.get_year()), int(self.get_month())
        self.months = [(m.year, m.month) for m, _ in archive.months()]
        return [date(year, month, 1)] if (year, month) in self.months else []

    def get_next_month(self, date_):
        return self._nearest_month(date_, later=True)

    def get_previous_month(self, date_):
        return self._nearest_month(date_, later=False)

    def _nearest_month(self, date_, later):
        key = (date_.year, date_.month)
        found = [m for m in self.months if (m > key if later else m < key)]
        if not found:
            return None
        year, month = min(found) if later else max(found)
        return date(year, month, 1)

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
    paginator_class = UncountedPaginator
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
