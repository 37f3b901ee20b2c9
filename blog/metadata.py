"""What a page says about itself: title, canonical URL, link previews, JSON-LD
and feed links. Computed here in Python so templates only print it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def site_name() -> str:
    return settings.DATELINE["SITE_NAME"]


def site_description() -> str:
    """DATELINE_SITE_DESCRIPTION, or a default in the site's language."""
    return settings.DATELINE["SITE_DESCRIPTION"] or _(
        "News, analysis and living stories from the %(site)s desk."
    ) % {"site": site_name()}


def site_domain() -> str:
    """The authority of our tag: URIs. It must never change once feeds are out,
    so it comes from SITE_URL, not from whatever Host a request carried."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


class PublicRequest:
    """A request as the public sees it, when SITE_URL names the public address
    (behind a proxy the Host and scheme Django sees may be internal ones)."""

    def __init__(self, request):
        self._request = request
        self._site = urlsplit(settings.SITE_URL)

    def __getattr__(self, name):
        return getattr(self._request, name)

    def get_host(self):
        return self._site.netloc

    def is_secure(self):
        return self._site.scheme == "https"

    @property
    def scheme(self):
        return self._site.scheme

    def build_absolute_uri(self, location=None):
        return urljoin(
            settings.SITE_URL + "/", location or self._request.get_full_path()
        )


def public_request(request):
    return PublicRequest(request) if settings.SITE_URL else request


def absolute_uri(request, location: str) -> str:
    return public_request(request).build_absolute_uri(location)


@dataclass
class Page:
    """Everything base.html needs to describe a page to browsers, search
    engines, link previews and feed readers."""

    title: str
    description: str
    canonical: str
    feeds: list = field(default_factory=list)  # blog.listings.FeedLink
    og_type: str = "website"
    image: dict | None = None
    json_ld: list[dict] = field(default_factory=list)
    robots: str = ""
    published: str = ""
    modified: str = ""
    section: str = ""
    tags: list[str] = field(default_factory=list)
    # The section the navigation marks as current: the page itself
    # (aria-current="page") or the page's section ("true", an article's).
    nav_section: int | None = None
    nav_current: str = "page"

    @property
    def full_title(self) -> str:
        name = site_name()
        return self.title if self.title.startswith(name) else f"{self.title} — {name}"


def breadcrumbs_ld(request, crumbs: list[tuple[str, str]]) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": position,
                "name": name,
                "item": absolute_uri(request, url),
            }
            for position, (name, url) in enumerate(crumbs, start=1)
        ],
    }


def publisher_ld(request) -> dict:
    return {
        "@type": "Organization",
        "name": site_name(),
        "url": absolute_uri(request, "/"),
        "logo": {
            "@type": "ImageObject",
            "url": absolute_uri(request, static("img/logo.png")),
        },
    }


def post_image(request, post) -> dict | None:
    image = post.lead_image_default
    if not image:
        return None
    return {
        "url": absolute_uri(request, image["url"]),
        "width": image["width"],
        "height": image["height"],
        "type": image["type"],
        "alt": post.lead_image_alt,
    }


def article_page(request, post) -> Page:
    """Metadata of an article: NewsArticle and BreadcrumbList in JSON-LD."""
    url = absolute_uri(request, post.get_absolute_url())
    image = post_image(request, post)
    tags = [tag.name for tag in post.tags.all()]
    article = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": post.title,
        "description": post.summary,
        "datePublished": post.published_at.isoformat(),
        "dateModified": post.modified.isoformat(),
        "author": [
            {"@type": "Person", "name": credit.name}
            | ({"url": absolute_uri(request, credit.url)} if credit.url else {})
            for credit in post.byline
        ],
        "articleSection": post.section.name,
        "keywords": tags,
        "wordCount": post.word_count,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "inLanguage": get_language(),
        "publisher": publisher_ld(request),
    }
    if image:
        article["image"] = [image["url"]]
    if post.corrections_shown:
        article["correction"] = [
            {
                "@type": "CorrectionComment",
                "text": note.summary,
                "datePublished": note.noted_at.isoformat(),
                "url": absolute_uri(request, note.get_absolute_url()),
            }
            for note in post.corrections_shown
        ]
    crumbs = [
        (_("Home"), reverse("blog:home")),
        (post.section.name, post.section.get_absolute_url()),
        (post.title, post.get_absolute_url()),
    ]
    return Page(
        title=post.title,
        description=post.summary,
        canonical=url,
        og_type="article",
        image=image,
        json_ld=[article, breadcrumbs_ld(request, crumbs)],
        published=post.published_at.isoformat(),
        modified=post.modified.isoformat(),
        section=post.section.name,
        tags=tags,
        nav_section=post.section_id,
        nav_current="true",
    )


def retraction_page(request, post) -> Page:
    """Metadata of a retracted article's notice: not for search engines."""
    return Page(
        title=_("Retracted: %(title)s") % {"title": post.title},
        description=post.retraction_reason,
        canonical=absolute_uri(request, post.get_absolute_url()),
        robots="noindex",
        nav_section=post.section_id,
        nav_current="true",
    )


def listing_page(
    request, title: str, description: str, page_number: int = 1, crumbs=(), **extra
) -> Page:
    """Metadata of a list of posts. The canonical keeps `?page=N` (page 2 is its
    own page, not a copy of page 1) and drops every other parameter."""
    location = request.path + (f"?page={page_number}" if page_number > 1 else "")
    if page_number > 1:
        title = _("%(title)s (page %(number)d)") % {
            "title": title,
            "number": page_number,
        }
    page = Page(
        title=title,
        description=description,
        canonical=absolute_uri(request, location),
        **extra,
    )
    if crumbs:
        page.json_ld.append(
            breadcrumbs_ld(request, [(_("Home"), reverse("blog:home")), *crumbs])
        )
    return page
