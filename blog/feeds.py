"""RSS 2.0, Atom 1.0 and JSON Feed 1.1 for every listing (DESIGN.md, Feeds).

Built on django.contrib.syndication. One base class, `PostFeed`, knows how a
post becomes an item; each listing is a subclass of a few lines naming its
object, its posts and its validator (blog/caching.py), so conditional GET
answers 304 before any item is fetched.
"""

from __future__ import annotations

import copy
import json

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils.feedgenerator import (
    Atom1Feed,
    Enclosure,
    Rss201rev2Feed,
    SyndicationFeed,
    rfc3339_date,
)
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext as _

from blog.caching import newest_change
from blog.markup import absolutize_urls
from blog.metadata import absolute_uri, public_request, site_description, site_name
from blog.models import Post, Section, StoryUpdate, Tag


class HubMixin:
    def hub_url(self):
        return settings.DATELINE["WEBSUB_HUB"] or None


class DatelineRssFeed(HubMixin, Rss201rev2Feed):
    """RSS 2.0 with content:encoded, media:content, a channel image and a hub."""

    def rss_attributes(self):
        return {
            **super().rss_attributes(),
            "xmlns:content": "http://purl.org/rss/1.0/modules/content/",
            "xmlns:media": "http://search.yahoo.com/mrss/",
            "xmlns:dc": "http://purl.org/dc/elements/1.1/",
        }

    def add_root_elements(self, handler):
        # Readers treat RSS channel text as HTML, as they do item titles: the
        # names of sections, tags and stories are escaped once more.
        for key in ("title", "description"):
            self.feed[key] = escape(self.feed[key])
        super().add_root_elements(handler)
        if self.hub_url():
            handler.addQuickElement(
                "atom:link", None, {"rel": "hub", "href": self.hub_url()}
            )
        handler.startElement("image", {})
        handler.addQuickElement("url", self.feed["logo"])
        handler.addQuickElement("title", self.feed["title"])
        handler.addQuickElement("link", self.feed["link"])
        handler.endElement("image")

    def add_item_elements(self, handler, item):
        # Django writes dc:creator with a namespace declaration on every item;
        # the root declares it once, so write the author ourselves.
        author = item.pop("author_name", None)
        super().add_item_elements(handler, {**item, "author_name": None})
        if author:
            handler.addQuickElement("dc:creator", author)
        handler.addQuickElement("content:encoded", item["content_html"])
        if item.get("image"):
            image = item["image"]
            handler.startElement(
                "media:content",
                {
                    "url": image["url"],
                    "medium": "image",
                    "type": image["type"],
                    "width": str(image["width"]),
                    "height": str(image["height"]),
                },
            )
            if image.get("alt"):
                handler.addQuickElement(
                    "media:description", image["alt"], {"type": "plain"}
                )
            handler.endElement("media:content")


class DatelineAtomFeed(HubMixin, Atom1Feed):
    """Atom 1.0: text titles and summaries, HTML content, icon, logo, hub."""

    def write(self, outfile, encoding):
        # Django 5.2 writes stylesheet instructions for RSS only.
        from django.utils.xmlutils import SimplerXMLGenerator

        handler = SimplerXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        for stylesheet in self.feed["stylesheets"] or []:
            handler.processingInstruction("xml-stylesheet", stylesheet)
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        if self.hub_url():
            handler.addQuickElement("link", "", {"rel": "hub", "href": self.hub_url()})
        handler.addQuickElement("icon", self.feed["icon"])
        handler.addQuickElement("logo", self.feed["logo"])
        handler.addQuickElement("generator", "Dateline")

    def add_item_elements(self, handler, item):
        handler.addQuickElement("title", item["title"], {"type": "text"})
        handler.addQuickElement("link", "", {"href": item["link"], "rel": "alternate"})
        handler.addQuickElement("id", item["unique_id"])
        handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"]))
        handler.startElement("author", {})
        handler.addQuickElement("name", item["author_name"])
        handler.endElement("author")
        handler.addQuickElement("summary", item["description"], {"type": "text"})
        handler.addQuickElement("content", item["content_html"], {"type": "html"})
        for enclosure in item["enclosures"]:
            handler.addQuickElement(
                "link",
                "",
                {
                    "rel": "enclosure",
                    "href": enclosure.url,
                    "length": enclosure.length,
                    "type": enclosure.mime_type,
                },
            )
        for term, label in item["category_terms"]:
            handler.addQuickElement("category", "", {"term": term, "label": label})


class JsonFeed(HubMixin, SyndicationFeed):
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""

    content_type = "application/feed+json; charset=utf-8"

    def write(self, outfile, encoding):
        feed = self.feed
        document = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "icon": feed["logo"],
            "favicon": feed["icon"],
            "language": feed["language"],
            "authors": [{"name": site_name(), "url": feed["site_url"]}],
            "items": [self.json_item(item) for item in self.items],
        }
        if self.hub_url():
            document["hubs"] = [{"type": "WebSub", "url": self.hub_url()}]
        outfile.write(json.dumps(document, ensure_ascii=False, indent=1))

    def json_item(self, item):
        entry = {
            "id": item["unique_id"],
            "url": item["link"],
            "title": item["title"],
            "content_html": item["content_html"],
            "summary": item["description"],
            "date_published": rfc3339_date(item["pubdate"]),
            "date_modified": rfc3339_date(item["updateddate"]),
            "authors": [{"name": item["author_name"]}],
            "tags": list(item["categories"]),
        }
        if item.get("image"):
            entry["image"] = item["image"]["url"]
        return entry


FORMATS = {"rss": DatelineRssFeed, "atom": DatelineAtomFeed, "json": JsonFeed}


class MovedPermanently(Exception):
    """Raised by get_object when the feed lives at another address."""

    def __init__(self, location: str):
        super().__init__(location)
        self.location = location


def feed_audience(request) -> str:
    """ "browser" when a person opened the feed in a browser (it asks for HTML),
    else "reader". Browsers show application/rss+xml as raw text but apply
    the XSL view to application/xml, so they get that type instead."""
    return "browser" if "text/html" in request.headers.get("Accept", "") else "reader"


class DatelineFeed(Feed):
    """What every Dateline feed shares: three formats, absolute URLs from
    SITE_URL when set, a logo, the XSL view for browsers, the item count."""

    def __init__(self, fmt: str = "rss"):
        self.fmt = fmt
        self.feed_type = FORMATS[fmt]

    def __call__(self, request, *args, **kwargs):
        # One instance serves every request to its URL (threads included), so
        # per-request state goes on a copy, never on self.
        feed = copy.copy(self)
        feed.request = public_request(request)
        try:
            response = Feed.__call__(feed, feed.request, *args, **kwargs)
        except MovedPermanently as moved:
            return HttpResponsePermanentRedirect(moved.location)
        if self.fmt != "json" and feed_audience(request) == "browser":
            response.headers["Content-Type"] = "application/xml; charset=utf-8"
        return response

    def stylesheets(self):
        if self.fmt == "json":
            return None
        return [absolute_uri(self.request, static("feeds/feed.xsl"))]

    def feed_extra_kwargs(self, obj):
        return {
            "logo": absolute_uri(self.request, static("img/logo.png")),
            "icon": absolute_uri(self.request, static("img/icon.png")),
            "site_url": absolute_uri(self.request, "/"),
        }

    def feed_url(self, obj):
        return self.request.path

    def text(self, value: str) -> str:
        """Plain text for a title or summary: RSS readers treat those as HTML,
        so escape once more there; Atom and JSON declare them text."""
        return escape(value) if self.fmt == "rss" else value

    def item_description(self, item):
        return self.text(item.summary)

    def item_title(self, item):
        return self.text(item.title)

    def limit(self) -> int:
        return settings.DATELINE["FEED_ITEMS"]


class PostFeed(DatelineFeed):
    """A listing of posts; subclasses name the listing."""

    listing = "latest"

    def posts(self, obj):
        return Post.objects.published()

    def items(self, obj):
        return self.posts(obj).for_listing()[: self.limit()]

    def item_guid(self, item):
        return item.guid()

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return max(item.updated_at, item.published_at)

    def item_author_name(self, item):
        return item.author.get_full_name() or item.author.get_username()

    def item_categories(self, item):
        return [item.section.name, *(tag.name for tag in item.tags.all())]

    def item_enclosures(self, item):
        image = item.lead_image_default
        if not image:
            return []
        return [
            Enclosure(
                absolute_uri(self.request, image["url"]),
                str(image["bytes"]),
                image["type"],
            )
        ]

    @staticmethod
    def category_terms(post):
        """(term, label) pairs for Atom: slugs are stable, names are for people."""
        return [
            (post.section.slug, post.section.name),
            *((tag.slug, tag.name) for tag in post.tags.all()),
        ]

    def item_extra_kwargs(self, item):
        link = absolute_uri(self.request, item.get_absolute_url())
        image = item.lead_image_default
        content = item.body_html
        extra = {"category_terms": self.category_terms(item)}
        if image:
            extra["image"] = {
                **image,
                "url": absolute_uri(self.request, image["url"]),
                "alt": item.lead_image_alt,
            }
            figure = (
                f'<figure><img src="{escape(image["url"])}" alt="{escape(item.lead_image_alt)}"'
                f' width="{image["width"]}" height="{image["height"]}">'
            )
            if item.lead_image_caption:
                figure += f"<figcaption>{escape(item.lead_image_caption)}</figcaption>"
            content = figure + "</figure>" + content
        extra["content_html"] = absolutize_urls(content, link)
        return extra


class LatestPostsFeed(PostFeed):
    def title(self):
        return site_name()

    def description(self):
        return site_description()

    def link(self):
        return reverse("blog:home")

    @staticmethod
    def validator(request, **kwargs):
        return newest_change(Post.objects.all())


class SectionFeed(PostFeed):
    def get_object(self, request, slug):
        return get_object_or_404(Section, slug=slug)

    def posts(self, obj):
        return super().posts(obj).in_section(obj)

    def title(self, obj):
        return f"{obj.name} — {site_name()}"

    def description(self, obj):
        return obj.description or _(
            "The latest from the %(section)s desk of %(site)s."
        ) % {"section": obj.name, "site": site_name()}

    def link(self, obj):
        return obj.get_absolute_url()

    @staticmethod
    def validator(request, slug, **kwargs):
        return newest_change(Post.objects.filter(section__slug=slug))


class TagFeed(PostFeed):
    """One tag or an intersection (`/tag/iran+russia/feed/`)."""

    def get_object(self, request, slugs):
        tags = Tag.every_one_of(slugs)
        if tags is None:
            raise Tag.DoesNotExist
        return tags

    def posts(self, obj):
        return super().posts(obj).tagged(*obj)

    def title(self, obj):
        return f"{' + '.join(tag.name for tag in obj)} — {site_name()}"

    def description(self, obj):
        if len(obj) == 1 and obj[0].description:
            return obj[0].description
        return _("Everything %(site)s publishes on %(tags)s.") % {
            "site": site_name(),
            "tags": " + ".join(t.name for t in obj),
        }

    def link(self, obj):
        return reverse("blog:tag", kwargs={"slugs": [tag.slug for tag in obj]})

    @staticmethod
    def validator(request, slugs, **kwargs):
        return newest_change(Post.objects.tagged(*slugs))


class StoryFeed(PostFeed):
    """One developing story: its updates, newest first, then the article."""

    SUFFIXES = {"rss": "feed/", "atom": "feed/atom/", "json": "feed/json/"}

    def get_object(self, request, slug, **kwargs):
        """The story by its slug or an old one; a wrong date or an old slug
        answers 301 to the feed's canonical address, as the article does."""
        stories = Post.objects.published().for_listing()
        post = (
            stories.filter(slug=slug).first()
            or stories.filter(old_slugs__slug=slug).first()
        )
        if post is None:
            raise Post.DoesNotExist
        canonical = post.get_absolute_url() + self.SUFFIXES[self.fmt]
        if request.path != canonical:
            raise MovedPermanently(canonical)
        return post

    def items(self, obj):
        updates = list(
            StoryUpdate.objects.published().filter(post=obj)[: self.limit() - 1]
        )
        for update in updates:
            update.story = obj
        return [*updates, obj]

    def title(self, obj):
        return _("Updates: %(title)s — %(site)s") % {
            "title": obj.title,
            "site": site_name(),
        }

    def description(self, obj):
        return obj.summary

    def link(self, obj):
        return obj.get_absolute_url()

    def _is_update(self, item):
        return isinstance(item, StoryUpdate)

    def item_title(self, item):
        if not self._is_update(item):
            return super().item_title(item)
        return self.text(
            _("Update, %(time)s: %(title)s")
            % {
                "time": date_format(item.published_at, "d M Y H:i T"),
                "title": item.story.title,
            }
        )

    def item_description(self, item):
        if not self._is_update(item):
            return super().item_description(item)
        return self.text(item.summary)

    def item_link(self, item):
        return item.get_absolute_url()

    def item_updateddate(self, item):
        if self._is_update(item):
            return max(item.updated_at, item.published_at)
        return super().item_updateddate(item)

    def item_author_name(self, item):
        return super().item_author_name(item.story if self._is_update(item) else item)

    def item_categories(self, item):
        return super().item_categories(item.story if self._is_update(item) else item)

    def item_enclosures(self, item):
        return [] if self._is_update(item) else super().item_enclosures(item)

    def item_extra_kwargs(self, item):
        if not self._is_update(item):
            return super().item_extra_kwargs(item)
        story = item.story
        return {
            "category_terms": self.category_terms(story),
            "content_html": absolutize_urls(
                item.body_html, absolute_uri(self.request, item.get_absolute_url())
            ),
        }

    @staticmethod
    def validator(request, slug, **kwargs):
        return newest_change(
            Post.objects.filter(slug=slug),
            StoryUpdate.objects.published().filter(post__slug=slug),
        )
