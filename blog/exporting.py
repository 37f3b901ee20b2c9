"""The way out (issue 13): every post, static page and the images they use,
as Markdown files with YAML front matter that `manage.py import_markdown`
reads back into the same site.

Layout of an export directory:

    site.yaml            sections, tags (with their old slugs) and authors
    posts/<slug>.md      one post: front matter (every field) + Markdown body
    pages/<slug>.md      one static page (`kind: page`)
    images/<name>        the files the posts use (lead images, author photos),
                         referenced from the front matter by a path relative
                         to the Markdown file

Library images (blog/media.py) travel as entries {id, file, sha256, alt,
caption, credit, name}: every library image in site.yaml (`media:`), and on
each post the ones its body references as `media:ID` (`images:`) and its
lead (`lead_media:`), so a single post file imports on its own too. The
importer finds or recreates each by content and rewrites `media:OLD` to the
new id.

Corrections and retractions (blog/corrections.py, branch corrections) are
written by `corrections_of` and read back by importing.restore_corrections;
both do nothing while that module is absent, and work once it is merged.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.files.storage import default_storage

from blog.authors import Author
from blog.legacy import LegacyAddress
from blog.media import MediaImage, media_ids_in
from blog.models import OldTagSlug, Page, Post, Section, Tag

FORMAT_VERSION = 1
BATCH = 200


@dataclass
class ExportSummary:
    posts: int = 0
    pages: int = 0
    images: int = 0
    missing_images: list[str] = field(default_factory=list)


def _time(value) -> str | None:
    return value.isoformat() if value else None


def _dump(meta: dict, body: str) -> str:
    header = yaml.safe_dump(
        meta, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )
    # The body exactly as stored: the importer reads back what follows the
    # blank line after the front matter.
    return f"---\n{header}---\n\n{body}"


class Exporter:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.summary = ExportSummary()
        self._copied: set[str] = set()
        self._media: dict[int, dict] = {}

    def copy_image(self, name: str, relative_to: Path) -> str | None:
        """Copies a stored file to images/<name>; its path from `relative_to`."""
        if not name:
            return None
        target = self.root / "images" / name
        if name not in self._copied:
            try:
                with default_storage.open(name, "rb") as source:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with open(target, "wb") as out:
                        shutil.copyfileobj(source, out)
            except OSError:
                self.summary.missing_images.append(name)
                return None
            self._copied.add(name)
            self.summary.images += 1
        return Path("..", "images", name).as_posix() if relative_to else name

    def run(self) -> ExportSummary:
        for folder in ("posts", "pages", "images"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.write_site()
        self.write_posts()
        self.write_pages()
        return self.summary

    def write_site(self) -> None:
        old_tag_slugs: dict[int, list[str]] = {}
        for tag_id, slug in OldTagSlug.objects.order_by("slug").values_list(
            "tag_id", "slug"
        ):
            old_tag_slugs.setdefault(tag_id, []).append(slug)
        site = {
            "format": FORMAT_VERSION,
            "sections": [
                {
                    "name": s.name,
                    "slug": s.slug,
                    "description": s.description,
                    "position": s.position,
                }
                for s in Section.objects.order_by("position", "name")
            ],
            "tags": [
                {
                    "name": t.name,
                    "slug": t.slug,
                    "description": t.description,
                    "old_slugs": old_tag_slugs.get(t.pk, []),
                }
                for t in Tag.objects.order_by("name")
            ],
            "authors": [self.author_entry(a) for a in Author.objects.order_by("slug")],
            "media": [
                entry
                for image in MediaImage.objects.order_by("pk")
                if (entry := self.media_entry(image)) is not None
            ],
        }
        (self.root / "site.yaml").write_text(
            yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )

    def author_entry(self, author: Author) -> dict:
        entry = {
            "name": author.display_name,
            "slug": author.slug,
            "bio": author.bio,
            "links": author.link_list,
            "user": author.user.get_username() if author.user_id else None,
        }
        if author.photo:
            entry["photo"] = self.copy_image(author.photo.name, relative_to=None)
        return entry

    def media_entry(self, image: MediaImage, relative_to=None) -> dict | None:
        """A library image as front matter; its file copied once."""
        if image.pk not in self._media:
            name = self.copy_image(image.file.name, relative_to=None)
            if name is None:
                return None
            digest = hashlib.sha256((self.root / "images" / name).read_bytes())
            self._media[image.pk] = {
                "id": image.pk,
                "file": name,
                "sha256": digest.hexdigest(),
                "name": image.original_name,
                "alt": image.alt,
                "caption": image.caption,
                "credit": image.credit,
            }
        entry = dict(self._media[image.pk])
        if relative_to:
            entry["file"] = Path("..", "images", entry["file"]).as_posix()
        return entry

    def write_posts(self) -> None:
        posts = (
            Post.objects.select_related("section", "author", "lead_media")
            .prefetch_related(
                "tags", "bylines__author", "old_slugs", "updates", "legacy_addresses"
            )
            .order_by("pk")
        )
        for post in posts.iterator(chunk_size=BATCH):
            path = self.root / "posts" / f"{post.slug}.md"
            path.write_text(_dump(self.post_meta(post), post.body), encoding="utf-8")
            self.summary.posts += 1

    def post_meta(self, post: Post) -> dict:
        meta = {
            "title": post.title,
            "slug": post.slug,
            "section": post.section.name,
            "tags": [tag.name for tag in post.tags.all()],
            "authors": [
                {"name": b.author.display_name, "slug": b.author.slug}
                for b in post.bylines.all()
            ],
            "owner": post.author.get_username(),
            "summary": post.summary,
            "status": post.status,
            "published": _time(post.published_at),
            "created": _time(post.created_at),
            "updated": _time(post.updated_at),
            "guid": post.guid(),
            "old_slugs": sorted(old.slug for old in post.old_slugs.all()),
            "old_addresses": sorted(a.path for a in post.legacy_addresses.all()),
        }
        if post.lead_media_id:
            meta["lead_media"] = self.media_entry(post.lead_media, relative_to=True)
        if post.lead_image:
            meta["image"] = self.copy_image(post.lead_image.name, relative_to=True)
        if post.lead_image_alt:
            meta["image_alt"] = post.lead_image_alt
        if post.lead_image_caption:
            meta["image_caption"] = post.lead_image_caption
        meta["updates"] = [
            {
                "published": _time(u.published_at),
                "created": _time(u.created_at),
                "updated": _time(u.updated_at),
                "guid": u.guid(),
                "body": u.body,
            }
            for u in sorted(post.updates.all(), key=lambda u: (u.published_at, u.pk))
        ]
        meta["images"] = library_images_of(post, self)
        meta.update(corrections_of(post))
        return meta

    def write_pages(self) -> None:
        addresses: dict[int, list[str]] = {}
        for page_id, path in LegacyAddress.objects.filter(
            page__isnull=False
        ).values_list("page_id", "path"):
            addresses.setdefault(page_id, []).append(path)
        for page in Page.objects.order_by("pk"):
            meta = {
                "kind": "page",
                "title": page.title,
                "slug": page.slug,
                "published": page.published,
                "in_footer": page.in_footer,
                "position": page.position,
                "created": _time(page.created_at),
                "updated": _time(page.updated_at),
                "old_addresses": sorted(addresses.get(page.pk, [])),
            }
            path = self.root / "pages" / f"{page.slug}.md"
            path.write_text(_dump(meta, page.body), encoding="utf-8")
            self.summary.pages += 1


def library_images_of(post: Post, exporter: Exporter) -> list[dict]:
    """The library images the body and story updates reference as `media:ID`,
    each copied into images/ (blog/importing.py: `restore_library_images`
    recreates them and rewrites `media:OLD` to `media:NEW`)."""
    ids = set(media_ids_in(post.body))
    for update in post.updates.all():
        ids.update(media_ids_in(update.body))
    entries = []
    for image in MediaImage.objects.filter(pk__in=ids).order_by("pk"):
        entry = exporter.media_entry(image, relative_to=True)
        if entry is not None:
            entries.append(entry)
    return entries


def export_site(root: Path) -> ExportSummary:
    return Exporter(root).run()


def corrections_of(post: Post) -> dict:
    """`corrections:` (each note's time and Markdown) and, for a retracted
    post, `retracted` and `retraction_reason`; {} without blog/corrections.py."""
    try:
        from blog.corrections import Correction
    except ImportError:  # not merged yet: nothing to export
        return {}
    meta: dict = {
        "corrections": [
            {
                "noted": _time(c.noted_at),
                "created": _time(c.created_at),
                "updated": _time(c.updated_at),
                "text": c.text,
            }
            for c in Correction.objects.filter(post=post).order_by("noted_at", "pk")
        ]
    }
    if getattr(post, "retracted_at", None):
        meta["retracted"] = _time(post.retracted_at)
        meta["retraction_reason"] = post.retraction_reason
    return meta
