"""The rendering pipeline: Markdown text in, sanitised HTML and its outline out.

One pure function, `render_markdown`, runs once when a post or story update is
saved (never per request). Python-Markdown turns the text into HTML; bleach
then keeps only an explicit allowlist of tags, attributes and URL protocols, so
whatever an author (or an attacker with an author's password) types, the
stored HTML cannot run script. The sanitiser sits behind `sanitize_html` so it
can be swapped in one place.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field
from typing import TypedDict
from urllib.parse import urljoin

import bleach
import markdown
from bleach.html5lib_shim import Filter
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

WORDS_PER_MINUTE = 230

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd",
        "del", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4",
        "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p",
        "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
# Ids only where the Markdown extensions put them (headings, footnotes), so an
# author cannot clobber the page's own landmarks.
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "id", "class", "rel"],
    "abbr": ["title"],
    "code": ["class"],
    "div": ["class"],
    "h1": ["id"],
    "h2": ["id"],
    "h3": ["id"],
    "h4": ["id"],
    "h5": ["id"],
    "h6": ["id"],
    "img": ["src", "alt", "title", "width", "height", "loading"],
    "li": ["id"],
    "ol": ["start"],
    "sup": ["id"],
    "td": ["class", "colspan", "rowspan"],
    "th": ["class", "colspan", "rowspan", "scope"],
    "q": ["cite"],
    "blockquote": ["cite"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})
# Table cells may carry only the alignment classes TableAlignment writes.
TABLE_ALIGN_CLASSES = frozenset({"align-left", "align-center", "align-right"})


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag in {"td", "th"} and name == "class":
        return value in TABLE_ALIGN_CLASSES
    return name in ALLOWED_ATTRIBUTES.get(tag, ())


class _TableAlignClasses(Treeprocessor):
    def run(self, root):
        for cell in (*root.iter("th"), *root.iter("td")):
            style = cell.attrib.pop("style", "")
            align = style.removeprefix("text-align:").strip(" ;")
            if f"align-{align}" in TABLE_ALIGN_CLASSES:
                cell.set("class", f"align-{align}")


class TableAlignment(Extension):
    """Column alignment as classes (static/css/site.css), not the tables
    extension's style="text-align: …": the page's Content-Security-Policy
    (style-src 'self') refuses inline style, so the browser dropped it and
    logged a violation (issue 10)."""

    def extendMarkdown(self, md):
        # After every block parser (tables included), before serialisation.
        md.treeprocessors.register(_TableAlignClasses(md), "table_align_classes", 1)


MARKDOWN_EXTENSIONS = ["extra", "toc", "sane_lists", "smarty", TableAlignment()]
MARKDOWN_CONFIG = {
    "toc": {
        "permalink": "#",
        "permalink_class": "heading-link",
        "permalink_title": "Link to this section",
        "toc_depth": "2-3",
    },
}


class TocEntry(TypedDict):
    level: int
    id: str
    title: str


@dataclass(frozen=True)
class Rendered:
    html: str
    text: str
    toc: list[TocEntry] = field(default_factory=list)
    word_count: int = 0

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)


def reading_minutes(word_count: int) -> int:
    return max(1, math.ceil(word_count / WORDS_PER_MINUTE))


class ImageDefaults(Filter):
    """Every image gets an alt (empty marks it decorative when the author gave
    none, which HTML requires) and loads lazily: body images sit below the fold."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"} and token["name"] == "img":
                token["data"].setdefault((None, "alt"), "")
                token["data"][(None, "loading")] = "lazy"
            yield token


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=False,
    strip_comments=True,
    filters=[ImageDefaults],
)


def sanitize_html(fragment: str) -> str:
    """Keep only allowlisted tags, attributes and URL protocols; escape the rest."""
    return _CLEANER.clean(fragment)


class _AbsoluteUrls(Filter):
    base = ""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in {"StartTag", "EmptyTag"}:
                for key in ((None, "href"), (None, "src")):
                    if key in token["data"]:
                        token["data"][key] = urljoin(self.base, token["data"][key])
            yield token


def absolutize_urls(fragment: str, base: str) -> str:
    """Sanitised HTML with every href and src made absolute against `base`:
    a feed reader has no page to resolve `/2026/…` or `#section` against.
    Parsed, not pattern-matched, so `href="…"` inside code stays as written."""
    absolute = type("AbsoluteUrls", (_AbsoluteUrls,), {"base": base})
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=lambda tag, name, value: True,  # already sanitised on save
        protocols=ALLOWED_PROTOCOLS,
        strip_comments=True,
        filters=[absolute],
    )
    return cleaner.clean(fragment)


_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")


def html_to_text(fragment: str) -> str:
    """Plain text of sanitised HTML: for search, word counts and summaries."""
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub(" ", fragment))).strip()


def _flatten(tokens: list[dict], into: list[TocEntry]) -> list[TocEntry]:
    for token in tokens:
        into.append(
            {
                "level": int(token["level"]),
                "id": token["id"],
                "title": html.unescape(token["name"]),
            }
        )
        _flatten(token.get("children", []), into)
    return into


def render_markdown(source: str) -> Rendered:
    """Render Markdown to sanitised HTML with heading ids, an outline and a word count."""
    md = markdown.Markdown(
        extensions=MARKDOWN_EXTENSIONS,
        extension_configs=MARKDOWN_CONFIG,
        output_format="html",
    )
    body = _PERMALINK_RE.sub(_quiet_permalink, sanitize_html(md.convert(source or "")))
    text = html_to_text(_PERMALINK_RE.sub("", body))
    return Rendered(
        html=body,
        text=text,
        toc=_flatten(md.toc_tokens, []),
        word_count=len(text.split()),
    )


_PERMALINK_RE = re.compile(r'<a class="heading-link" href="(#[^"]*)"[^>]*>#</a>')


def _quiet_permalink(match: re.Match) -> str:
    """Heading permalinks are for pointer users copying a link; to screen
    readers and the Tab key they would only add "#" to every heading (the
    table of contents carries the same links)."""
    return f'<a class="heading-link" href="{match.group(1)}" aria-hidden="true" tabindex="-1">#</a>'
