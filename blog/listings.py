"""Listings: every list of posts a reader can open or subscribe to, defined once.

A listing kind (latest, section, tag or tag intersection, story; an author's
listing is one more subclass) owns, in one class:

- the URL that names it (`kind`, `route`) and its canonical address;
- which posts it shows (`posts()`, public only, newest first) and, for feeds,
  which items (`feed_items()`);
- what it is called (`title`, `description`, `crumbs`);
- when it changes (`changed()`, its validator: one indexed query read before
  the view runs; blog/caching.py turns it into ETag, Last-Modified and the
  page-cache key);
- its feeds (`feed_links()`, one per format in blog/feeds.FORMATS).

The HTML view (blog/views.py) and the RSS, Atom and JSON feeds
(blog/feeds.ListingFeed) take a listing and add nothing but presentation;
blog/urls.py builds every page, feed and legacy feed address from LISTINGS,
and WebSub pings (blog/services.py) ask `feed_urls_for(post)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import unquote

from django.conf import settings
from django.db.models.expressions import RawSQL
from django.db.models.functions import Now
from django.http import Http404
from django.utils.translation import gettext as _

from blog import caching, compiled, reversing
from blog.articles import article_rows
from blog.caching import changed_for, story_changed
from blog.corrections import PinnedFront
from blog.feeds import FORMATS, Gone, MovedPermanently
from blog.metadata import absolute_uri, site_description, site_name
from blog.models import Author, Post, Section, StoryUpdate, Tag
from blog.tag_dates import public_rows, tag_changes, tagged_newest_first
from blog.tag_moves import surviving_slugs


@dataclass(frozen=True)
class FeedLink:
    """One feed of one listing, as autodiscovery and the feed menu show it."""

    title: str
    href: str
    type: str
    label: str


class Listing:
    kind: ClassVar[str]  # names its URLs: blog:<kind>, blog:<kind>_feed_<format>
    route: ClassVar[str]  # the page's path pattern; its feeds live under it

    @classmethod
    def resolve(cls, **url_kwargs) -> Listing:
        """The listing a URL names; Http404 if unknown, MovedPermanently if
        the address is not the canonical one."""
        return cls()

    # -- what it shows --------------------------------------------------------
    def posts(self):
        """Its public posts, newest first, with the joins a list needs."""
        return Post.objects.published().for_listing()

    def feed_items(self, limit: int) -> list:
        key = self.query_key()
        if key is None:
            return list(self.posts().for_feed()[:limit])
        # Feeds read each post's tags from its row (`tag_list`), not as Tags.
        return compiled.memo_rows(
            ("feed", *key, limit), lambda: self.posts().for_feed()[:limit]
        )

    def count_rows(self):
        """What its pages count (bounded): as many rows as it has posts, in
        the order and columns of the index they are counted on, so that both
        databases walk that index and stop at the bound (an index-only walk
        on PostgreSQL). None: its posts, in no order."""
        return None

    def query_key(self) -> tuple | None:
        """Everything `posts()` depends on besides the database's rows and
        clock (ids, not slugs: a renamed tag keeps its id), so its compiled
        SQL can be rerun (blog/compiled.py); None: compile per request."""
        return None

    # Whether its pages say "Page 1 of N" (a bounded count, one query) or
    # only link the next page (blog/views.UncountedListingPaginator).
    counted: ClassVar[bool] = True

    # The Post field that pins a post on this listing's page (None: none can).
    pin_field: ClassVar[str | None] = None

    def front(self):
        """Its posts as its HTML pages show them: with pins first, if pinnable
        (blog/corrections.py); feeds stay newest first (`posts()`)."""
        if self.pin_field is None:
            return None
        return PinnedFront(compiled.Lazy(self.posts, Post), self.pin_field)

    # -- what it is called ----------------------------------------------------
    title: str
    description: str

    @property
    def feed_title(self) -> str:
        return f"{self.title} — {site_name()}"

    def crumbs(self) -> list[tuple[str, str]]:
        return [(self.title, self.get_absolute_url())]

    # -- where it lives -------------------------------------------------------
    def url_kwargs(self) -> dict:
        return {}

    # Remembered (blog/reversing.py): every page links the site's feeds.
    def get_absolute_url(self) -> str:
        return reversing.reverse(f"blog:{self.kind}", kwargs=self.url_kwargs())

    def feed_url(self, fmt) -> str:
        return reversing.reverse(
            f"blog:{self.kind}_feed_{fmt.name}", kwargs=self.url_kwargs()
        )

    def check_canonical(self, path: str, fmt=None) -> None:
        """A page or feed asked for at another address than its own (a wrong
        date, an old slug, tags out of order) answers 301 to its own."""
        url = self.get_absolute_url() if fmt is None else self.feed_url(fmt)
        if unquote(url) != path:
            raise MovedPermanently(url)

    def feed_links(self, request) -> list[FeedLink]:
        return [
            FeedLink(
                f"{self.feed_title} ({fmt.label})",
                absolute_uri(request, self.feed_url(fmt)),
                fmt.media_type,
                fmt.label,
            )
            for fmt in FORMATS
        ]

    # -- when it changes ------------------------------------------------------
    @staticmethod
    def changed(request, **url_kwargs) -> datetime:
        """The validator: the newest change among what the listing shows, from
        its URL alone, in one indexed query (blog/caching.py)."""
        raise NotImplementedError


class LatestListing(Listing):
    """Everything, newest first: the home page and the site feeds."""

    kind = "latest"
    route = ""
    pin_field = "pinned_home_until"

    @property
    def title(self):
        return site_name()

    @property
    def description(self):
        return site_description()

    @property
    def feed_title(self):
        return site_name()

    def crumbs(self):
        return []

    def get_absolute_url(self):
        return reversing.reverse("blog:home")

    def query_key(self):
        return ("latest",)

    def count_rows(self):
        return _newest_first(Post.objects.published())  # post_public_idx

    @staticmethod
    def changed(request, **url_kwargs):
        return changed_for(
            "latest", lambda: (Post.objects.all(), None), pin_field="pinned_home_until"
        )


class SectionListing(Listing):
    """One desk's posts."""

    kind = "section"
    route = "section/<slug:slug>/"
    pin_field = "pinned_section_until"

    def __init__(self, section: Section):
        self.section = section

    @classmethod
    def resolve(cls, slug):
        """The section by its slug, from the navigation's sections when this
        request's validator read the SiteState time (caching.nav_sections,
        remembered per that time: no query); read from the database when it
        did not, or when the list does not hold the slug (a section newer than
        the list, or none: then 404)."""
        section = None
        if caching.SITE_STATE.get() is not None:
            section = next((s for s in caching.nav_sections() if s.slug == slug), None)
        if section is None:
            section = compiled.first_row("section", _section, slug)
        if section is None:
            raise Http404("No such section.")
        return cls(section)

    def posts(self):
        return super().posts().in_section(self.section)

    def front(self):
        return PinnedFront(
            compiled.Lazy(self.posts, Post), self.pin_field, {"section": self.section}
        )

    def query_key(self):
        return ("section", self.section.pk)

    def count_rows(self):
        # post_section_idx. In no order, PostgreSQL at 100,000 posts read all
        # 91,445 rows of the biggest section (a bitmap heap scan, 18 ms).
        return _newest_first(Post.objects.published().in_section(self.section))

    @property
    def title(self):
        return self.section.name

    @property
    def description(self):
        return self.section.description or _(
            "The latest from the %(section)s desk."
        ) % {"section": self.title}

    def url_kwargs(self):
        return {"slug": self.section.slug}

    @staticmethod
    def changed(request, slug, **url_kwargs):
        return changed_for(
            "section",
            lambda slug: (Post.objects.filter(section__slug=slug), None),
            slug,
            pin_field="pinned_section_until",
        )


class TagListing(Listing):
    """One tag, or the posts carrying every one of up to three (`/tag/a+b/`,
    slugs in alphabetical order: another order answers 301)."""

    kind = "tag"
    route = "tag/<tags:slugs>/"

    def __init__(self, tags: list[Tag]):
        self.tags = tags

    @classmethod
    def resolve(cls, slugs):
        """By current slugs or by those of renamed or merged tags (then
        check_canonical answers 301 to the surviving tags' address)."""
        tags = _every_tag(slugs)
        if tags is None:
            surviving = surviving_slugs(slugs)
            tags = Tag.every_one_of(surviving) if surviving else None
        if tags is None:
            raise Http404("No such tag.")
        return cls(tags)

    def posts(self):
        if len(self.tags) == 1:  # from the tag's own index (blog/tag_dates.py)
            return tagged_newest_first(super().posts(), self.tags[0])
        # The tags' ids are written into the SQL, not passed as parameters:
        # on PostgreSQL each set of tags is then its own prepared statement,
        # planned for those tags. Planned once for any tags (a generic plan),
        # it joined every row of both tags: 15.9 ms at 100,000 posts where
        # the plan for the tags took 1.2 ms.
        posts = super().posts()
        for tag in self.tags:
            posts = posts.filter(tags__id=RawSQL(str(int(tag.pk)), ()))  # noqa: S611 - an int
        return posts

    def count_rows(self):
        return public_rows(self.tags[0]) if len(self.tags) == 1 else None

    def query_key(self):
        return ("tag", *(tag.pk for tag in self.tags))

    @property
    def title(self):
        return " + ".join(tag.name for tag in self.tags)

    @property
    def description(self):
        if len(self.tags) == 1 and self.tags[0].description:
            return self.tags[0].description
        return _("Everything we have published on %(tags)s.") % {"tags": self.title}

    def url_kwargs(self):
        return {"slugs": [tag.slug for tag in self.tags]}

    @property
    def counted(self):
        """An intersection's pages carry no total: its bounded count walks the
        newest posts until 1,200 carry every tag, which at 100,000 posts is
        most of the archive (30 ms, issue 8). One tag is counted as before."""
        return len(self.tags) == 1

    @staticmethod
    def changed(request, slugs, **url_kwargs):
        """From the tags' own rows (blog/tag_dates.tag_changes): one tag, or
        the first tag's rows probed for the others."""
        shape = "tag" if len(slugs) == 1 else "tags"
        return changed_for(shape, lambda *slugs: (tag_changes(*slugs), None), *slugs)


def _newest_first(posts):
    """`posts` as counted: their dates, newest first, as the (…, status,
    published_at) indexes hold them."""
    return posts.order_by("-published_at").values("published_at")


def _section(slug):
    return Section.objects.filter(slug=slug)


def _tags(*slugs):
    return Tag.objects.filter(slug__in=slugs)


def _every_tag(slugs) -> list[Tag] | None:
    """Tag.every_one_of, its SQL compiled once per number of slugs (and so
    prepared on PostgreSQL, blog/compiled.py): a tag page's first query."""
    tags = sorted(compiled.rows("tags", _tags, *slugs), key=lambda tag: tag.slug)
    return tags if len(tags) == len(set(slugs)) else None


def _public_posts():
    """Public posts for an article page: due by the database clock (no time
    of its own in the SQL, so `compiled` can reuse it), with the joins and
    annotations the page and the story feed read."""
    return (
        article_rows().filter(published_at__lte=Now()).order_by("-published_at", "-id")
    )


def _public_article(slug):
    return _public_posts().filter(slug=slug)


def _public_old_article(slug):
    return _public_posts().filter(old_slugs__slug=slug)


def _due_updates(post_id):
    """A public post's due story updates, newest first (its own rows are
    checked by the article query): by the database clock, as `_public_posts`."""
    return StoryUpdate.objects.filter(
        post_id=post_id,
        published_at__lte=Now(),
        post__status=Post.Status.PUBLISHED,
        post__published_at__lte=Now(),
    )


class StoryListing(Listing):
    """One developing story: its article page, and feeds of its due updates
    and correction notes, newest first, then the article itself. A retracted
    article's listing is `gone`: its page and feeds answer 410."""

    kind = "post"
    route = "<yyyy:year>/<nn:month>/<nn:day>/<slug:slug>/"

    def __init__(self, post: Post, preview: bool = False):
        self.post = post
        self.preview = preview

    @classmethod
    def resolve(cls, slug, preview=False, **url_kwargs):
        """By its slug or an old one; editors (`preview`) see drafts too."""
        if preview:
            posts = Post.objects.all().select_related("section", "author")
            posts = posts.with_tags().with_bylines()
            post = (
                posts.filter(slug=slug).first()
                or posts.filter(old_slugs__slug=slug).first()
            )
        else:  # the render path: compiled once, not per request (issue 8)
            post = compiled.first_row("article", _public_article, slug)
            if post is None:
                post = compiled.first_row("old article", _public_old_article, slug)
            if post is not None:
                post.attach_tags(post.tag_list or [])
        if post is None:
            # Only a miss pays for this: a retracted article is never a 404.
            retracted = Post.objects.retracted().select_related("section")
            post = (
                retracted.filter(slug=slug).first()
                or retracted.filter(old_slugs__slug=slug).first()
            )
            if post is None:
                raise Http404("No such article.")
        return cls(post, preview)

    @property
    def gone(self) -> bool:
        return self.post.is_retracted

    def check_canonical(self, path, fmt=None):
        """Old slugs and wrong dates answer 301 to the canonical address, even
        retracted; there (or at any of its feeds) a retraction answers 410."""
        super().check_canonical(path, fmt)
        if self.gone:
            raise Gone(self.post)

    def updates(self):
        """Its story updates, newest first: the due ones (all, in a preview)."""
        if self.preview:
            return list(StoryUpdate.objects.filter(post=self.post))
        updates = compiled.rows("updates", _due_updates, self.post.pk)
        for update in updates:
            update.post = self.post
        return updates

    def posts(self):
        return Post.objects.filter(pk=self.post.pk)

    def feed_items(self, limit):
        updates = self.updates()[: limit - 1]
        for update in updates:
            update.post = update.story = self.post
        notes = self.post.corrections_shown
        for note in notes:
            note.story = self.post
        news = sorted(
            [*updates, *notes], key=lambda item: item.published_at, reverse=True
        )
        return [*news[: limit - 1], self.post]

    @property
    def title(self):
        return self.post.title

    @property
    def description(self):
        return self.post.summary

    @property
    def feed_title(self):
        return _("Updates: %(title)s — %(site)s") % {
            "title": self.post.title,
            "site": site_name(),
        }

    def url_kwargs(self):
        return self.post.url_kwargs()

    def get_absolute_url(self):
        return self.post.get_absolute_url()

    @staticmethod
    def changed(request, slug, **url_kwargs):
        return story_changed(slug)


class AuthorListing(Listing):
    """One author's posts, every post whose byline credits them (issue 13)."""

    kind = "author"
    route = "author/<str:slug>/"

    def __init__(self, author: Author):
        self.author = author

    @classmethod
    def resolve(cls, slug):
        author = Author.objects.filter(slug=slug).first()
        if author is None:
            raise Http404("No such author.")
        return cls(author)

    def posts(self):
        return super().posts().filter(bylines__author=self.author)

    def query_key(self):
        return ("author", self.author.pk)

    @property
    def title(self):
        return self.author.display_name

    @property
    def description(self):
        return self.author.bio or _("Everything %(author)s has written for us.") % {
            "author": self.title
        }

    def url_kwargs(self):
        return {"slug": self.author.slug}

    @staticmethod
    def changed(request, slug, **url_kwargs):
        return changed_for(
            "author",
            lambda slug: (Post.objects.filter(bylines__author__slug=slug), None),
            slug,
        )


# Every listing kind with a page and feeds.
LISTINGS = (LatestListing, SectionListing, TagListing, StoryListing, AuthorListing)


def listings_of(post: Post) -> list[Listing]:
    """The listings `post` appears in that have announceable feeds: the site,
    its section, each of its tags, and its own story. (Tag intersections are
    unbounded in number; hubs learn them from their subscribers' fetches.)"""
    return [
        LatestListing(),
        SectionListing(post.section),
        *(TagListing([tag]) for tag in post.tags.all()),
        *(AuthorListing(b.author) for b in post.bylines.select_related("author")),
        StoryListing(post),
    ]


def feed_urls_for(post: Post) -> list[str]:
    """Absolute URLs of every feed, in every format, that `post` appears in:
    what a WebSub hub is told when the post changes."""
    return [
        settings.SITE_URL + listing.feed_url(fmt)
        for listing in listings_of(post)
        for fmt in FORMATS
    ]
