"""Every public address. Listings (blog/listings.LISTINGS) and feed formats
(blog/feeds.FORMATS) generate their pages' feeds and the legacy feed
addresses; each view is served through blog/caching.public_cache with the
validator its listing declares."""

from django.shortcuts import redirect
from django.urls import path, register_converter, reverse
from django.views.decorators.http import require_safe

from blog import converters, views
from blog.caching import public_cache, site_changed, structure_changed_at
from blog.feeds import FORMATS, ListingFeed, feed_audience
from blog.listings import LISTINGS

register_converter(converters.FourDigitYear, "yyyy")
register_converter(converters.TwoDigits, "nn")
register_converter(converters.TagSlugs, "tags")

app_name = "blog"

# The HTML page of each listing kind.
PAGES = {
    "latest": views.HomeView,
    "section": views.SectionView,
    "tag": views.TagView,
    "post": views.PostDetailView,
    "author": views.AuthorView,
}


def legacy_feed(name):
    """A feed address other engines use: 301 to our canonical one."""

    @require_safe
    def moved(request, **kwargs):
        return redirect(reverse(name, kwargs=kwargs), permanent=True)

    return moved


def listing_paths(listing):
    page_name = "home" if listing.kind == "latest" else listing.kind
    patterns = [
        path(
            listing.route,
            public_cache(listing.changed)(PAGES[listing.kind].as_view()),
            name=page_name,
        )
    ]
    for fmt in FORMATS:
        name = f"{listing.kind}_feed_{fmt.name}"
        patterns.append(
            path(
                listing.route + fmt.path,
                public_cache(listing.changed, variant=feed_audience)(
                    ListingFeed(listing, fmt)
                ),
                name=name,
            )
        )
        patterns += [
            path(listing.route + legacy, legacy_feed(f"blog:{name}"))
            for legacy in fmt.legacy
        ]
    return patterns


def page(view_class, validator=site_changed):
    return public_cache(validator)(view_class.as_view())


urlpatterns = [
    path("archive/", page(views.ArchiveView), name="archive"),
    path("search/", page(views.SearchView), name="search"),
    path(
        "page/<slug:slug>/",
        page(views.PageView, structure_changed_at),
        name="page",
    ),
    path("<yyyy:year>/", page(views.YearView), name="year"),
    path("<yyyy:year>/<nn:month>/", page(views.MonthView), name="month"),
    *(pattern for listing in LISTINGS for pattern in listing_paths(listing)),
]
