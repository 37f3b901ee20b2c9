"""WordPress WXR exports → Dateline (issue 13): `manage.py import_wordpress`.

**Streaming.** The file is read with defusedxml's iterparse: each <item>
(and each channel-level <wp:author> / <wp:category>) is handled when it
closes, then dropped from the tree, so memory does not grow with the number
of posts. Only small per-site maps are kept: authors, categories and the
attachments (id → file, alt, caption) that featured images refer to, which
WordPress may list after the posts that use them (those lead images are set
at the end). A DTD, entity declarations or external references refuse the
whole file (entity expansion bombs, external entity reads).

**Bodies.** WordPress bodies are HTML (classic editor: HTML with blank lines
for paragraphs; block editor: HTML with <!-- wp: --> comments). They are
turned into Markdown where Markdown says the same thing — paragraphs,
headings, images (`![alt](media:ID "caption")`, a figure) — and what has no
Markdown form (tables, lists with attributes, quotes with citations) stays as
the HTML it was, which Markdown passes through. Before that, the HTML goes
through the site's own allowlist (blog/markup.ALLOWED_TAGS) with scripts and
styles removed with their content, and on every render the body goes through
the same sanitiser as any post. `[caption]` shortcodes and block-editor image
figures become figures; an <iframe> (YouTube and other embeds) becomes a link
to what it showed; gallery/audio/video/playlist shortcodes are dropped with a
note. Why not keep the HTML as it is: editors edit Markdown in the admin, the
table of contents needs Markdown headings, and the media library is
referenced by Markdown images; a conversion limited to those constructs
cannot lose anything the HTML said.

**Idempotent.** A post is found again by its old address `/?p=ID` (a page by
`/?page_id=ID`), stored as a LegacyAddress; re-importing updates it. Images
are found again by their uploads path (ImportedImage).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import bleach
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from blog import articles, legacy
from blog.importing import (
    ImportProblem,
    desk_author,
    keep_feed_id,
    record_revision,
    set_bylines,
    tags_named,
    within_budget,
)
from blog.markup import ALLOWED_TAGS
from blog.media import MediaImage
from blog.models import Page, Post, Section
from blog.tagging import MAX_TAG_LENGTH

NS = {
    "wp": "http://wordpress.org/export/1.2/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "excerpt": "http://wordpress.org/export/1.2/excerpt/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
# WXR 1.0 and 1.1 differ only in the version of the wp namespace.
WP_NAMESPACES = tuple(f"http://wordpress.org/export/1.{n}/" for n in range(3))
EXCERPT_NAMESPACES = tuple(
    f"http://wordpress.org/export/1.{n}/excerpt/" for n in range(3)
)
STATUSES = {
    "publish": Post.Status.PUBLISHED,
    "future": Post.Status.PUBLISHED,  # published with a future time: scheduled
    "draft": Post.Status.DRAFT,
    "pending": Post.Status.REVIEW,
}
SKIPPED_STATUSES = {
    "private": "private (readers of the old site could not see it)",
    "trash": "in the trash",
    "auto-draft": "an automatic draft",
    "inherit": "a revision",
}
DEFAULT_SECTION = "News"


def _local(tag: str) -> tuple[str, str]:
    """'{ns}name' → (ns, name)."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _wp(elem, name: str) -> str:
    """The text of a wp:<name> child, whatever the WXR version."""
    for child in elem:
        ns, local = _local(child.tag)
        if local == name and ns in WP_NAMESPACES:
            return (child.text or "").strip()
    return ""


def _child(elem, ns_name: str) -> str:
    prefix, _, name = ns_name.rpartition(":")
    namespaces = (
        EXCERPT_NAMESPACES
        if prefix == "excerpt"
        else (NS[prefix],)
        if prefix
        else ("",)
    )
    for child in elem:
        ns, local = _local(child.tag)
        if local == name and ns in namespaces:
            return child.text or ""
    return ""


# --- Bodies ----------------------------------------------------------------

_SCRIPT_RE = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_SCRIPT_OPEN_RE = re.compile(r"<(script|style)\b[^>]*>", re.I)
_ATTR_RE = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"')
_IFRAME_RE = re.compile(
    r"<iframe\b([^>]*)>.*?</iframe>|<iframe\b([^>]*)/?>", re.I | re.S
)
_CAPTION_RE = re.compile(r"\[caption\b([^\]]*)\](.*?)\[/caption\]", re.I | re.S)
_EMBED_RE = re.compile(r"\[embed\b[^\]]*\](.*?)\[/embed\]", re.I | re.S)
_DROPPED_SHORTCODE_RE = re.compile(
    r"\[(gallery|audio|video|playlist)\b[^\]]*\](?:.*?\[/\1\])?", re.I | re.S
)
_FIGURE_RE = re.compile(r"<figure\b[^>]*>(.*?)</figure>", re.I | re.S)
_FIGCAPTION_RE = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption>", re.I | re.S)
_LINKED_IMG_RE = re.compile(r"<a\b([^>]*)>\s*(<img\b[^>]*>)\s*</a>", re.I | re.S)
_IMG_RE = re.compile(r"<img\b([^>]*)>", re.I)
_HEADING_RE = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.I | re.S)
_P_RE = re.compile(r"</?p\b[^>]*>", re.I)
_BR_RE = re.compile(r"<br\s*/?>", re.I)
_DIV_RE = re.compile(r"</?div\b[^>]*>", re.I)
_TAG_RE = re.compile(r"<[^>]+>")
_BLANKS_RE = re.compile(r"\n{3,}")
_BARE_URL_RE = re.compile(r"^(https?://\S+)$", re.M)
_YOUTUBE_EMBED_RE = re.compile(
    r"https?://(?:www\.)?youtube(?:-nocookie)?\.com/embed/([\w-]{6,20})"
)
_EMBED_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "twitter.com", "x.com")

_PRE_ATTRIBUTES = {
    "a": ["href", "title"],
    "img": ["src", "alt", "title", "width", "height", "class"],
    "iframe": ["src", "title"],
    "figure": ["class"],
    "abbr": ["title"],
    "ol": ["start"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
    "q": ["cite"],
    "blockquote": ["cite"],
}


def _attrs(text: str) -> dict[str, str]:
    return {k.lower(): html.unescape(v) for k, v in _ATTR_RE.findall(text or "")}


_BLOCK_TAG_RE = re.compile(r"</?(p|br|div|li|h[1-6]|blockquote)\b[^>]*>", re.I)


def plain_text(fragment: str) -> str:
    """An excerpt's text: block tags are spaces, inline tags nothing."""
    text = _TAG_RE.sub("", _BLOCK_TAG_RE.sub(" ", fragment or ""))
    return " ".join(html.unescape(text).split())


def _md_text(text: str) -> str:
    """Alt text or a caption inside Markdown image syntax."""
    text = html.unescape(_TAG_RE.sub("", text or ""))
    return " ".join(text.replace("[", "(").replace("]", ")").split())


@dataclass
class BodyNotes:
    scripts: int = 0
    iframes: int = 0
    dropped_shortcodes: int = 0
    images: int = 0
    missing_images: list[str] = field(default_factory=list)


class BodyConverter:
    """One item's HTML → Markdown; images go through `place_image`, a
    callable (src, alt, caption) → Markdown target (`media:ID`, or a URL),
    or None to drop a picture whose file is missing."""

    def __init__(self, place_image, notes: BodyNotes):
        self.place_image = place_image
        self.notes = notes

    def convert(self, source: str) -> str:
        text = (source or "").replace("\r\n", "\n").replace("\r", "\n")
        text, n = _SCRIPT_RE.subn("", text)
        text, m = _SCRIPT_OPEN_RE.subn("", text)
        self.notes.scripts += n + m
        text, n = _DROPPED_SHORTCODE_RE.subn("", text)
        self.notes.dropped_shortcodes += n
        text = _EMBED_RE.sub(lambda match: self.link_to(match.group(1).strip()), text)
        # The site's allowlist, with iframes kept a moment longer (they become
        # links below); everything else not on it is dropped, its text kept.
        text = bleach.clean(
            text,
            tags=ALLOWED_TAGS | {"iframe"},
            attributes=_PRE_ATTRIBUTES,
            protocols=["http", "https", "mailto", "tel"],
            strip=True,
            strip_comments=True,
        )
        text = _IFRAME_RE.sub(self.iframe, text)
        text = _CAPTION_RE.sub(self.caption, text)
        text = _FIGURE_RE.sub(self.figure, text)
        text = _LINKED_IMG_RE.sub(self.linked_image, text)
        text = _IMG_RE.sub(lambda match: self.image(match.group(1), ""), text)
        text = _HEADING_RE.sub(
            lambda m: f"\n\n{'#' * int(m.group(1))} {' '.join(m.group(2).split())}\n\n",
            text,
        )
        text = _P_RE.sub("\n\n", text)
        text = _DIV_RE.sub("\n\n", text)
        text = _BR_RE.sub("  \n", text)
        # Block-editor embeds leave the bare URL on its own line.
        text = _BARE_URL_RE.sub(
            lambda m: (
                self.link_to(m.group(1))
                if any(host in m.group(1) for host in _EMBED_HOSTS)
                else m.group(1)
            ),
            text,
        )
        lines = [
            line.rstrip() if not line.endswith("  ") else line
            for line in text.split("\n")
        ]
        return _BLANKS_RE.sub("\n\n", "\n".join(lines)).strip() + "\n"

    def link_to(self, url: str) -> str:
        url = html.unescape(url)
        if not url.startswith(("http://", "https://")):
            return ""
        video = _YOUTUBE_EMBED_RE.match(url)
        if video:  # the player's address → the page a reader can open
            url = f"https://www.youtube.com/watch?v={video.group(1)}"
        host = urlsplit(url).hostname or url
        return f"\n\n[Embedded content from {host}]({url})\n\n"

    def iframe(self, match: re.Match) -> str:
        self.notes.iframes += 1
        return self.link_to(_attrs(match.group(1) or match.group(2)).get("src", ""))

    def caption(self, match: re.Match) -> str:
        inner = match.group(2)
        img = _IMG_RE.search(inner)
        if img is None:
            return inner
        caption = _IMG_RE.sub(
            "",
            _TAG_RE.sub(
                lambda t: t.group(0) if t.group(0).startswith("<img") else "", inner
            ),
        )
        return self.image(img.group(1), caption, block=True)

    def figure(self, match: re.Match) -> str:
        inner = match.group(1)
        img = _IMG_RE.search(inner)
        if img is None:
            return match.group(0)
        found = _FIGCAPTION_RE.search(inner)
        return self.image(img.group(1), found.group(1) if found else "", block=True)

    def linked_image(self, match: re.Match) -> str:
        """A picture linked to its own file (WordPress's default) loses the link."""
        href = _attrs(match.group(1)).get("href", "")
        if "/wp-content/uploads/" in href or href.lower().endswith(
            (".jpg", ".jpeg", ".png", ".gif", ".webp")
        ):
            return match.group(2)
        return match.group(0)

    def image(self, attributes: str, caption: str, block: bool = False) -> str:
        attrs = _attrs(attributes)
        src = attrs.get("src", "")
        alt, caption = _md_text(attrs.get("alt", "")), _md_text(caption)
        target = self.place_image(src, alt, caption)
        if target is None:
            self.notes.missing_images.append(src)
            return f"\n\n*{caption}*\n\n" if caption and block else ""
        self.notes.images += 1
        title = f' "{caption.replace(chr(34), chr(39))}"' if caption else ""
        markdown = f"![{alt}]({target}{title})"
        return f"\n\n{markdown}\n\n" if block else markdown


# --- The import --------------------------------------------------------------


@dataclass
class Summary:
    posts_created: int = 0
    posts_updated: int = 0
    pages_created: int = 0
    pages_updated: int = 0
    attachments: int = 0
    images_copied: int = 0
    images_reused: int = 0
    images_missing: list[str] = field(default_factory=list)
    lead_images: int = 0
    skipped: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: BodyNotes = field(default_factory=BodyNotes)
    items: int = 0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"Posts: {self.posts_created} imported, {self.posts_updated} updated.",
            f"Pages: {self.pages_created} imported, {self.pages_updated} updated.",
            f"Images: {self.images_copied} copied into the media library, "
            f"{self.images_reused} already there, {len(self.images_missing)} missing "
            f"(skipped); {self.lead_images} lead images.",
            f"Bodies: {self.notes.scripts} script/style elements removed, "
            f"{self.notes.iframes} embeds turned into links, "
            f"{self.notes.dropped_shortcodes} gallery/audio/video shortcodes dropped.",
        ]
        skipped = sum(self.skipped.values())
        out.append(f"Skipped: {skipped}.")
        out += [f"  {n}: {reason}" for reason, n in self.skipped.most_common()]
        missing = Counter(self.images_missing)
        for name, times in missing.most_common(20):
            out.append(f"  missing image file: {name} ({times} references)")
        if len(missing) > 20:
            out.append(f"  … and {len(missing) - 20} more missing image files")
        for problem in self.problems[:50]:
            out.append(f"  problem: {problem}")
        rate = self.items / self.seconds if self.seconds else 0
        out.append(f"{self.items} items in {self.seconds:.1f} s ({rate:.0f} items/s).")
        return out


class WordPressImport:
    def __init__(self, path: Path, uploads: Path | None = None, owner=None,
                 default_section: str = DEFAULT_SECTION, progress=None, every: int = 250):  # fmt: skip
        self.path = Path(path)
        self.uploads = Path(uploads).resolve() if uploads else None
        self.owner = owner
        self.default_section = default_section
        self.progress = progress
        self.every = every
        self.summary = Summary()
        self.authors: dict[str, dict] = {}
        self.categories: dict[str, str] = {}  # nicename → name
        self.attachments: dict[int, dict] = {}
        self.pending_leads: list[tuple[int, int]] = []  # (post pk, attachment id)
        self.sections: dict[str, Section] = {}
        self.base_url = ""
        self._owner = None

    # The stream ---------------------------------------------------------------

    def run(self) -> Summary:
        started = time.monotonic()
        channel = None
        try:
            events = iterparse(
                str(self.path),
                events=("start", "end"),
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            )
            for event, elem in events:
                ns, name = _local(elem.tag)
                if event == "start":
                    if name == "channel" and channel is None:
                        channel = elem
                    continue
                if name == "item":
                    self.item(elem)
                elif name == "author" and ns in WP_NAMESPACES:
                    self.author(elem)
                elif name == "category" and ns in WP_NAMESPACES:
                    self.category(elem)
                elif name == "base_site_url" and ns in WP_NAMESPACES:
                    self.base_url = (elem.text or "").strip().rstrip("/")
                else:
                    continue
                if channel is not None:
                    del channel[:]  # handled: bounded memory
        except DefusedXmlException as refusal:
            raise ImportProblem(
                f"{self.path}: refused: the file declares a DTD, entities or external "
                f"references ({type(refusal).__name__}); a WordPress export has none"
            ) from refusal
        except SyntaxError as error:  # ElementTree.ParseError
            raise ImportProblem(f"{self.path}: not well-formed XML: {error}") from error
        self.attach_pending_leads()
        self.summary.seconds = time.monotonic() - started
        return self.summary

    def tick(self) -> None:
        self.summary.items += 1
        if self.progress and self.summary.items % self.every == 0:
            s = self.summary
            self.progress(
                f"{s.items} items: {s.posts_created + s.posts_updated} posts, "
                f"{s.pages_created + s.pages_updated} pages, "
                f"{sum(s.skipped.values())} skipped"
            )

    def author(self, elem) -> None:
        login = _wp(elem, "author_login")
        if login:
            name = _wp(elem, "author_display_name") or " ".join(
                filter(
                    None,
                    [_wp(elem, "author_first_name"), _wp(elem, "author_last_name")],
                )
            )
            self.authors[login] = {"name": name or login, "slug": slugify(login)}

    def category(self, elem) -> None:
        nicename = unquote(_wp(elem, "category_nicename"))
        name = html.unescape(_wp(elem, "cat_name"))
        if nicename and name:
            self.categories[nicename] = name

    def item(self, elem) -> None:
        self.tick()
        kind = _wp(elem, "post_type")
        wp_id = _wp(elem, "post_id")
        if kind == "attachment":
            self.attachment(elem, wp_id)
            return
        if kind not in {"post", "page"}:
            self.summary.skipped[f"post type {kind or '(none)'}"] += 1
            return
        status = _wp(elem, "status")
        if status in SKIPPED_STATUSES or status not in STATUSES:
            reason = SKIPPED_STATUSES.get(status, f"status {status or '(none)'}")
            self.summary.skipped[f"{kind}: {reason}"] += 1
            return
        if not wp_id.isdigit():
            self.summary.skipped[f"{kind}: no post id"] += 1
            return
        try:
            if kind == "page":
                self.page(elem, int(wp_id), status)
            else:
                self.post(elem, int(wp_id), status)
        except (ImportProblem, ValidationError, ValueError) as problem:
            title = (_child(elem, "title") or "").strip()
            self.summary.skipped[f"{kind}: could not be imported"] += 1
            self.summary.problems.append(f"{kind} {wp_id} ({title!r}): {problem}")

    def attachment(self, elem, wp_id: str) -> None:
        meta = self.postmeta(elem)
        if not wp_id.isdigit():
            return
        self.summary.attachments += 1
        self.attachments[int(wp_id)] = {
            "url": _wp(elem, "attachment_url"),
            "file": meta.get("_wp_attached_file", ""),
            "alt": meta.get("_wp_attachment_image_alt", ""),
            "title": (_child(elem, "title") or "").strip(),
            "caption": (_child(elem, "excerpt:encoded") or "").strip(),
        }

    def postmeta(self, elem) -> dict[str, str]:
        meta = {}
        for child in elem:
            ns, name = _local(child.tag)
            if name == "postmeta" and ns in WP_NAMESPACES:
                meta[_wp(child, "meta_key")] = _wp(child, "meta_value")
        return meta

    # Items --------------------------------------------------------------------

    def when(self, elem, name: str):
        """wp:<name>_gmt (UTC), else the local time, else None."""
        for key, zone in ((f"{name}_gmt", dt.UTC), (name, None)):
            value = _wp(elem, key)
            if value and not value.startswith("0000"):
                moment = parse_datetime(value)
                if moment is None:
                    continue
                if zone is not None:
                    return moment.replace(tzinfo=zone)
                return (
                    timezone.make_aware(moment) if timezone.is_naive(moment) else moment
                )
        return None

    def body(self, elem, title: str) -> str:
        converter = BodyConverter(
            lambda src, alt, cap: self.place_image(src, alt, cap, title),
            self.summary.notes,
        )
        missing_before = len(self.summary.notes.missing_images)
        body = converter.convert(_child(elem, "content:encoded"))
        self.summary.images_missing += self.summary.notes.missing_images[
            missing_before:
        ]
        return within_budget(body, "the body")

    def terms(self, elem) -> tuple[list[str], list[str]]:
        categories, tags = [], []
        for child in elem:
            if child.tag != "category":
                continue
            name = html.unescape((child.text or "").strip())
            domain = child.get("domain")
            if not name:
                continue
            if domain == "category":
                nicename = unquote(child.get("nicename") or "")
                categories.append(self.categories.get(nicename, name))
            elif domain == "post_tag":
                tags.append(name[:MAX_TAG_LENGTH])
        return categories, tags

    def section(self, name: str) -> Section:
        if name not in self.sections:
            from blog.importing import section_named

            self.sections[name] = section_named(name)
        return self.sections[name]

    def owner_user(self):
        if self._owner is None:
            self._owner = self.owner or desk_author()
        return self._owner

    def post(self, elem, wp_id: int, status: str) -> None:
        title = (
            html.unescape((_child(elem, "title") or "").strip()) or f"Untitled {wp_id}"
        )
        body = self.body(elem, title)
        if not body.strip():
            raise ImportProblem("the article has no body")
        categories, tag_names = self.terms(elem)
        published = self.when(elem, "post_date") or timezone.now()
        modified = self.when(elem, "post_modified")
        summary = plain_text(_child(elem, "excerpt:encoded"))[:400]
        slug_source = unquote(_wp(elem, "post_name")) or title
        meta = self.postmeta(elem)
        creator = (_child(elem, "dc:creator") or "").strip()
        address = legacy.id_address("post", wp_id)
        with transaction.atomic():
            found = (
                legacy.LegacyAddress.objects.filter(path=address)
                .select_related("post")
                .first()
            )
            post = found.post if found and found.post_id else None
            created = post is None
            if created:
                post = Post(author=self.owner_user(), slug=self.free_slug(slug_source))
            post.title = title[:200]
            post.body = body
            post.summary = summary
            post.section = self.section(
                categories[0] if categories else self.default_section
            )
            post.status = STATUSES[status]
            post.published_at = published
            post.full_clean(exclude=["author", "lead_image"])
            post.save()
            author = self.authors.get(creator) or (
                {"name": creator, "slug": slugify(creator)} if creator else None
            )
            set_bylines(post, [author] if author else [])
            post.tags.set(tags_named(list(dict.fromkeys(tag_names))))
            legacy.remember(address, post)
            link = (_child(elem, "link") or "").strip()
            if link:
                legacy.remember(link, post)
            keep_feed_id(post, (_child(elem, "guid") or "").strip())
            thumbnail = meta.get("_thumbnail_id", "")
            if thumbnail.isdigit():
                if int(thumbnail) in self.attachments:
                    self.lead_image(post, int(thumbnail))
                else:
                    self.pending_leads.append((post.pk, int(thumbnail)))
            if modified and modified > published:
                Post.objects.filter(pk=post.pk).update(
                    updated_at=modified, created_at=published
                )
            else:
                Post.objects.filter(pk=post.pk).update(
                    updated_at=published, created_at=published
                )
        record_revision(post, "imported from WordPress")
        if created:
            self.summary.posts_created += 1
        else:
            self.summary.posts_updated += 1

    def free_slug(self, source: str, model=Post, length: int = 200) -> str:
        base = slugify(source)[: length - 6] or "post"
        slug, n = base, 1
        while model.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return slug

    def page(self, elem, wp_id: int, status: str) -> None:
        title = (
            html.unescape((_child(elem, "title") or "").strip()) or f"Untitled {wp_id}"
        )
        body = self.body(elem, title)
        address = legacy.id_address("page", wp_id)
        with transaction.atomic():
            found = (
                legacy.LegacyAddress.objects.filter(path=address)
                .select_related("page")
                .first()
            )
            page = found.page if found and found.page_id else None
            created = page is None
            if created:
                page = Page(
                    slug=self.free_slug(
                        unquote(_wp(elem, "post_name")) or title, Page, 80
                    )
                )
            page.title = title[:120]
            page.body = body or title
            page.published = status == "publish"
            page.in_footer = page.published and _wp(elem, "post_parent") in {"", "0"}
            order = _wp(elem, "menu_order")
            page.position = int(order) if order.isdigit() else 0
            page.full_clean(exclude=["slug"])
            page.save()
            legacy.remember(address, page)
            link = (_child(elem, "link") or "").strip()
            if link:
                legacy.remember(link, page)
        record_revision(page, "imported from WordPress")
        if created:
            self.summary.pages_created += 1
        else:
            self.summary.pages_updated += 1

    # Images -------------------------------------------------------------------

    def local_file(self, url: str) -> tuple[str, Path | None]:
        """(uploads-relative name, local file or None) for an uploads URL."""
        path = unquote(urlsplit(html.unescape(url)).path)
        marker = "/wp-content/uploads/"
        if marker in path:
            relative = path.split(marker, 1)[1]
        elif self.base_url and url.startswith(self.base_url):
            relative = path.lstrip("/")
        else:
            return "", None
        if self.uploads is None or not relative:
            return relative, None
        candidate = (self.uploads / relative).resolve()
        if self.uploads not in candidate.parents or not candidate.is_file():
            return relative, None
        return relative, candidate

    def place_image(self, src: str, alt: str, caption: str, title: str) -> str | None:
        relative, local = self.local_file(src)
        if not relative:
            return src if src.startswith(("http://", "https://")) else None
        if local is None:
            return None
        media_id = self.library_image(
            relative, local, alt or caption or f"Picture in “{title}”", caption
        )
        return f"media:{media_id}" if media_id else None

    def library_image(
        self, relative: str, local: Path, alt: str, caption: str
    ) -> int | None:
        known = legacy.ImportedImage.objects.filter(source=relative).first()
        if known is not None and MediaImage.objects.filter(pk=known.media_id).exists():
            self.summary.images_reused += 1
            return known.media_id
        try:
            with open(local, "rb") as handle:
                image = MediaImage.objects.add(
                    handle, name=local.name, alt=alt[:250], caption=caption[:300]
                )
        except (OSError, ValidationError) as problem:
            self.summary.problems.append(f"image {relative}: {problem}")
            return None
        legacy.ImportedImage.objects.update_or_create(
            source=relative, defaults={"media_id": image.pk}
        )
        self.summary.images_copied += 1
        return image.pk

    def lead_image(self, post: Post, attachment_id: int) -> None:
        """The featured image (_thumbnail_id) into the library, as the lead."""
        attachment = self.attachments[attachment_id]
        relative, local = "", None
        if attachment["url"]:
            relative, local = self.local_file(attachment["url"])
        if local is None and attachment["file"]:
            relative = relative or attachment["file"]
            if self.uploads is not None:
                candidate = (self.uploads / attachment["file"]).resolve()
                if self.uploads in candidate.parents and candidate.is_file():
                    local = candidate
        if local is None:
            self.summary.images_missing.append(
                relative or f"attachment {attachment_id}"
            )
            return
        alt = attachment["alt"] or attachment["title"] or post.title
        caption = _md_text(attachment["caption"])
        media_id = self.library_image(relative, local, alt, caption)
        if media_id is None:
            return
        updated_at = (
            Post.objects.filter(pk=post.pk).values_list("updated_at", flat=True).first()
        )
        post.lead_media_id = media_id
        post.save()
        Post.objects.filter(pk=post.pk).update(updated_at=updated_at)
        articles.refresh_later([post.pk])  # its time restored (blog/articles.py)
        self.summary.lead_images += 1

    def attach_pending_leads(self) -> None:
        for post_pk, attachment_id in self.pending_leads:
            if attachment_id not in self.attachments:
                self.summary.images_missing.append(f"attachment {attachment_id}")
                continue
            post = Post.objects.filter(pk=post_pk).first()
            if post is not None:
                with transaction.atomic():
                    self.lead_image(post, attachment_id)


def import_wordpress(
    path, uploads=None, owner=None, progress=None, every=250
) -> Summary:
    return WordPressImport(
        path, uploads=uploads, owner=owner, progress=progress, every=every
    ).run()
