from django.urls import path, register_converter

from blog import converters, feeds, views
from blog.caching import public_cache, site_changed

register_converter(converters.FourDigitYear, "yyyy")
register_converter(converters.TwoDigits, "nn")
register_converter(converters.TagSlugs, "tags")

app_name = "blog"


def page(view_class, validator=site_changed):
    return public_cache(validator)(view_class.as_view())


def feed_paths(prefix, feed_class, listing):
    """RSS, Atom and JSON Feed of one listing: <prefix>feed/, feed/atom/, feed/json/."""
    return [
        path(
            f"{prefix}feed/{suffix}",
            public_cache(feed_class.validator, variant=feeds.feed_audience)(
                feed_class(fmt)
            ),
            name=f"{listing}_feed_{fmt}",
        )
        for fmt, suffix in (("rss", ""), ("atom", "atom/"), ("json", "json/"))
    ]


ARTICLE = "<yyyy:year>/<nn:month>/<nn:day>/<slug:slug>/"

urlpatterns = [
    path("", page(views.HomeView), name="home"),
    path("section/<slug:slug>/", page(views.SectionView), name="section"),
    path("tag/<tags:slugs>/", page(views.TagView), name="tag"),
    path("archive/", page(views.ArchiveView), name="archive"),
    path("search/", page(views.SearchView), name="search"),
    path("<yyyy:year>/", page(views.YearView), name="year"),
    path("<yyyy:year>/<nn:month>/", page(views.MonthView), name="month"),
    path(ARTICLE, page(views.PostDetailView), name="post"),
    *feed_paths("", feeds.LatestPostsFeed, "latest"),
    *feed_paths("section/<slug:slug>/", feeds.SectionFeed, "section"),
    *feed_paths("tag/<tags:slugs>/", feeds.TagFeed, "tag"),
    *feed_paths(ARTICLE, feeds.StoryFeed, "post"),
]
