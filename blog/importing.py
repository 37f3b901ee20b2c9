"""Markdown files with YAML front matter → posts (and their story updates).

Used by `manage.py import_markdown` and `manage.py load_demo`. Importing the
same file again updates the post with that slug instead of duplicating it.

It also reads back what `manage.py export_markdown` writes (blog/exporting.py):
a directory with site.yaml (sections, tags, authors), posts/ and pages/, whose
front matter carries every field — bylines in order, times, feed ids, old
slugs and old addresses, story updates, the lead image — so importing an
export into an empty database gives the same site back.
"""

from __future__ import annotations

import datetime as dt
import filecmp
import hashlib
from dataclasses import dataclass
from pathlib import Path

import reversion
import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from blog import legacy
from blog.authors import Author, Byline, credit_owner
from blog.images import check_upload
from blog.legacy import ImportedImage
from blog.markup import MarkupRefused, normalize_newlines, render_within_budget
from blog.media import MEDIA_REF_RE, MediaImage
from blog.models import OldSlug, OldTagSlug, Page, Post, Section, StoryUpdate, Tag
from blog.revisions import recorded
from blog.tagging import MAX_TAG_LENGTH, parse_tags

DESK_USERNAME = "desk"


class ImportProblem(ValueError):
    """A file that cannot become a post; the message says which and why."""


@dataclass
class Imported:
    post: Post | Page
    created: bool


def record_revision(item, note: str, user=None) -> None:
    """Each imported post is recorded as a revision (blog/revisions.py; its
    updates and bylines follow). Called by both importers after each post's or
    page's write, outside the write's transaction; pages keep no revisions."""
    if isinstance(item, Post):
        with recorded(note, user=user):
            reversion.add_to_revision(item)
        # Its article's own parts (blog/articles.py), with the times the
        # import restored after the save.
        from blog import articles

        articles.refresh_later([item.pk])


def split_front_matter(text: str) -> tuple[dict, str]:
    """`---\\nyaml\\n---\\nbody` → (metadata, body). No front matter: ({}, text)."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    _, _, rest = text.partition("\n")
    header, sep, body = rest.partition("\n---")
    if not sep:
        raise ImportProblem("front matter opens with --- but never closes")
    try:
        meta = yaml.safe_load(header) or {}
    except yaml.YAMLError as error:
        raise ImportProblem(f"front matter is not valid YAML: {error}") from error
    if not isinstance(meta, dict):
        raise ImportProblem("front matter must be a mapping of keys to values")
    return meta, body.partition("\n")[2].lstrip("\n")


def as_datetime(value, field: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        moment = parse_datetime(str(value))
        if moment is None:
            raise ImportProblem(f"{field}: {value!r} is not a date and time")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return parse_tags(value)
    return [str(item).strip() for item in value if str(item).strip()]


def desk_author():
    """The byline for imported copy that names nobody: a newsroom account
    that cannot log in."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DESK_USERNAME, defaults={"first_name": "Dateline", "last_name": "Desk"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user


def section_named(name: str) -> Section:
    section = Section.objects.filter(name__iexact=name).first()
    if section is None:
        section = Section(
            name=name, slug=slugify(name), position=Section.objects.count()
        )
        if not section.slug:
            raise ImportProblem(
                f"cannot make an address for the section {name!r}: create it in the "
                "admin first (choosing its slug), then import"
            )
        try:
            section.full_clean()
        except ValidationError as error:
            raise ImportProblem(
                f"section {name!r}: {'; '.join(error.messages)}"
            ) from error
        section.save()
    return section


def tags_named(names: list[str]) -> list[Tag]:
    tags = []
    for name in names:
        if len(name) > MAX_TAG_LENGTH:
            raise ImportProblem(
                f"tag names are at most {MAX_TAG_LENGTH} characters: {name!r}"
            )
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(
            name=name
        )
        tags.append(tag)
    return tags


def as_tag_names(value) -> list[str]:
    """`tags:` as a comma list, a list of names or of {name, slug} entries."""
    if isinstance(value, list):
        value = [
            item.get("name", "") if isinstance(item, dict) else item for item in value
        ]
    return as_list(value)


def author_credited(entry) -> Author:
    """A byline's author: {name, slug} or a plain name; made when missing,
    without a login account (a writer of an imported archive needs none)."""
    if isinstance(entry, dict):
        name = str(entry.get("name") or "").strip()
        slug = str(entry.get("slug") or "").strip()
    else:
        name, slug = str(entry).strip(), ""
    if not name and not slug:
        raise ImportProblem("an author needs a name")
    found = Author.objects.filter(slug=slug).first() if slug else None
    if found is None and name:
        found = Author.objects.filter(display_name__iexact=name).first()
    if found is not None:
        return found
    base = slug or slugify(name, allow_unicode=True) or "author"
    slug, n = base, 1
    while Author.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Author.objects.create(display_name=(name or slug)[:120], slug=slug[:120])


def set_bylines(post: Post, entries) -> None:
    """The post's bylines, in the given order (the first is the lead byline)."""
    authors = []
    for entry in entries or []:
        author = author_credited(entry)
        if author not in authors:
            authors.append(author)
    if not authors:
        credit_owner(post)
        return
    Byline.objects.filter(post=post).exclude(author__in=authors).delete()
    for position, author in enumerate(authors):
        Byline.objects.update_or_create(
            post=post, author=author, defaults={"position": position}
        )


def owner_named(username) -> object | None:
    if not username:
        return None
    return get_user_model().objects.filter(username=str(username)).first()


def store_file(field, source: Path, name: str) -> None:
    """Puts `source` in `field` (an image field), unless it holds the same bytes."""
    if field and _same_file(field.name, source):
        return
    with open(source, "rb") as handle:
        check_upload(handle)
        handle.seek(0)
        field.save(Path(name).name, File(handle), save=False)


def _same_file(stored: str, source: Path) -> bool:
    try:
        return filecmp.cmp(default_storage.path(stored), source, shallow=False)
    except (NotImplementedError, OSError, ValueError):
        return False


def image_file(meta: dict, key: str, base: Path | None) -> Path | None:
    """The image a front matter key names, relative to the Markdown file."""
    value = str(meta.get(key) or "").strip()
    if not value or base is None:
        return None
    path = (base / value).resolve()
    if not path.is_file():
        raise ImportProblem(f"{key}: no file at {path}")
    return path


def library_image(entry, base: Path | None) -> int | None:
    """An exported library image ({id, file, sha256, alt, caption, credit,
    name}), found by its content or added to the library; its new id."""
    if not isinstance(entry, dict) or base is None:
        return None
    path = image_file(entry, "file", base)
    if path is None:
        return None
    data = path.read_bytes()
    source = "sha256:" + hashlib.sha256(data).hexdigest()
    known = ImportedImage.objects.filter(source=source).first()
    if known is not None:
        image = MediaImage.objects.filter(pk=known.media_id).first()
        if image is not None:
            return image.pk
    old_id = str(entry.get("id", ""))
    image = MediaImage.objects.filter(pk=old_id).first() if old_id.isdigit() else None
    if image is not None and _stored_sha256(image.file.name) == source[7:]:
        # The same site imported again: the picture is already there.
        ImportedImage.objects.update_or_create(
            source=source, defaults={"media_id": image.pk}
        )
        return image.pk
    with open(path, "rb") as handle:
        try:
            image = MediaImage.objects.add(
                handle,
                name=str(entry.get("name") or path.name),
                alt=str(entry.get("alt") or path.stem),
                caption=str(entry.get("caption") or ""),
                credit=str(entry.get("credit") or ""),
            )
        except ValidationError as error:
            raise ImportProblem(
                f"image {path.name}: {'; '.join(error.messages)}"
            ) from error
    ImportedImage.objects.update_or_create(
        source=source, defaults={"media_id": image.pk}
    )
    return image.pk


def _stored_sha256(name: str) -> str:
    try:
        with default_storage.open(name, "rb") as stored:
            return hashlib.sha256(stored.read()).hexdigest()
    except OSError:
        return ""


def restore_library_images(entries, base: Path | None) -> dict[str, str]:
    """Old `media:ID` → new id, for the images a post's front matter lists."""
    mapping = {}
    for entry in entries or []:
        new = library_image(entry, base)
        if new is not None and str(entry.get("id", "")).isdigit():
            mapping[str(entry["id"])] = str(new)
    return mapping


def renumber_media(text: str, mapping: dict[str, str]) -> str:
    if not mapping:
        return text
    return MEDIA_REF_RE.sub(
        lambda m: f"media:{mapping.get(m.group(1), m.group(1))}", text
    )


def restore_times(model, pk: int, meta: dict, prefix: str = "") -> None:
    """created/updated as exported: written last, past auto_now."""
    times = {}
    for key, column in (("created", "created_at"), ("updated", "updated_at")):
        if meta.get(key):
            times[column] = as_datetime(meta[key], prefix + key)
    if times:
        model.objects.filter(pk=pk).update(**times)


def within_budget(source: str, what: str) -> str:
    """Markdown from a file renders under the same budget as the admin's."""
    source = normalize_newlines(source)
    try:
        render_within_budget(source)
    except MarkupRefused as refusal:
        raise ImportProblem(f"{what}: {refusal}") from refusal
    return source


def import_markdown(text: str, author=None, base: Path | None = None) -> Imported:
    """Check and render everything first, then write in one transaction: no
    write lock is held while Markdown renders (issue 9). `base` is the
    folder the file is in (images are named relative to it)."""
    meta, body = split_front_matter(text)
    if meta.get("kind") == "page":
        return import_page(meta, body, base)
    title = str(meta.get("title") or "").strip()
    if not title:
        raise ImportProblem("front matter needs a title")
    if not body.strip():
        raise ImportProblem("the article has no body")
    slug = slugify(str(meta.get("slug") or title))[:200]
    if not slug:
        raise ImportProblem(f"cannot make an address (slug) from {title!r}")
    section_name = str(meta.get("section") or "").strip()
    if not section_name:
        raise ImportProblem("front matter needs a section")
    status = str(meta.get("status") or Post.Status.PUBLISHED).lower()
    if status not in Post.Status.values:
        raise ImportProblem(f"status must be one of {', '.join(Post.Status.values)}")
    body = within_budget(body, "the body")
    updates = meta.get("updates") or []
    if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
        raise ImportProblem("updates must be a list of {published, body} entries")
    updates = [
        (
            as_datetime(update.get("published"), "updates.published"),
            within_budget(str(update.get("body") or "").strip(), "an update"),
            update,
        )
        for update in updates
    ]
    lead_image = image_file(meta, "image", base)
    with transaction.atomic():
        imported = _write_post(
            meta,
            title,
            slug,
            section_name,
            status,
            body,
            updates,
            author,
            lead_image,
            base,
        )
    record_revision(imported.post, "Imported from Markdown.", user=author)
    return imported


def _write_post(
    meta,
    title,
    slug,
    section_name,
    status,
    body,
    updates,
    author,
    lead_image=None,
    base=None,
):
    media = restore_library_images(meta.get("images"), base)
    body = renumber_media(body, media)
    post = Post.objects.filter(slug=slug).first()
    created = post is None
    if created:
        owner = author or owner_named(meta.get("owner")) or desk_author()
        post = Post(slug=slug, author=owner)
    post.title = title[:200]
    post.section = section_named(section_name)
    post.summary = str(meta.get("summary") or "").strip()[:400]
    post.body = body
    post.status = status
    if "published" in meta:
        post.published_at = as_datetime(meta["published"], "published")
    for key in ("image_alt", "image_caption"):
        if key in meta:
            setattr(post, f"lead_{key}", str(meta[key]).strip())
    if lead_image is not None:
        store_file(post.lead_image, lead_image, lead_image.name)
    if isinstance(meta.get("lead_media"), dict):
        post.lead_media_id = library_image(meta["lead_media"], base)
    try:
        post.full_clean(exclude=["author", "lead_image"])
    except ValidationError as error:
        raise ImportProblem("; ".join(error.messages)) from error
    post.save()
    set_bylines(post, meta.get("authors"))
    post.tags.set(tags_named(as_tag_names(meta.get("tags"))))
    for published, update_body, entry in updates:
        update, _ = StoryUpdate.objects.update_or_create(
            post=post,
            published_at=published,
            defaults={"body": renumber_media(update_body, media)},
        )
        keep_feed_id(update, entry.get("guid"))
        restore_times(StoryUpdate, update.pk, entry, "updates.")
    for old in as_list(meta.get("old_slugs")):
        old = slugify(old)[:200]
        if old and old != post.slug:
            OldSlug.objects.update_or_create(slug=old, defaults={"post": post})
    for address in as_list(meta.get("old_addresses")):
        legacy.remember(address, post)
    keep_feed_id(post, meta.get("guid"))
    restore_corrections(post, meta)
    restore_times(Post, post.pk, meta)
    return Imported(post, created)


def restore_corrections(post: Post, meta: dict) -> None:
    """Corrections and a retraction as exported (blog/exporting.corrections_of);
    nothing without blog/corrections.py. Matched by their time: importing
    again changes the text, adds nothing."""
    entries = meta.get("corrections") or []
    if not entries and not meta.get("retracted"):
        return
    try:
        from blog.corrections import Correction
    except ImportError:
        raise ImportProblem(
            "this file has corrections, which this version of Dateline cannot keep"
        ) from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ImportProblem("corrections must be a list of {noted, text} entries")
    for entry in entries:
        noted = as_datetime(entry.get("noted"), "corrections.noted")
        text = within_budget(str(entry.get("text") or "").strip(), "a correction")
        correction, _ = Correction.objects.update_or_create(
            post=post, noted_at=noted.replace(microsecond=0), defaults={"text": text}
        )
        restore_times(Correction, correction.pk, entry, "corrections.")
    if entries:
        from blog.corrections import copy_notes_to_post

        copy_notes_to_post(post.pk)  # the notes' restored times, onto the post
    if meta.get("retracted"):
        Post.objects.filter(pk=post.pk).update(
            retracted_at=as_datetime(meta["retracted"], "retracted"),
            retraction_reason=str(meta.get("retraction_reason") or ""),
        )


def keep_feed_id(item, guid) -> None:
    """The exported feed id, kept when it is not the one this site computes
    anyway (a new primary key or creation day would change it)."""
    guid = str(guid or "").strip()[:255]
    if not guid or guid == item.guid():
        return
    item.feed_id = guid
    type(item).objects.filter(pk=item.pk).update(feed_id=guid)


def import_page(meta: dict, body: str, base: Path | None = None) -> Imported:
    """A static page (`kind: page`): matched by slug, as posts are."""
    title = str(meta.get("title") or "").strip()
    if not title:
        raise ImportProblem("front matter needs a title")
    slug = slugify(str(meta.get("slug") or title))[:80]
    if not slug:
        raise ImportProblem(f"cannot make an address (slug) from {title!r}")
    body = within_budget(body, "the page")
    with transaction.atomic():
        page = Page.objects.filter(slug=slug).first()
        created = page is None
        page = page or Page(slug=slug)
        page.title = title[:120]
        page.body = body
        for key in ("published", "in_footer"):
            if key in meta:
                setattr(page, key, bool(meta[key]))
        if "position" in meta:
            page.position = int(meta["position"] or 0)
        page.save()
        for address in as_list(meta.get("old_addresses")):
            legacy.remember(address, page)
        restore_times(Page, page.pk, meta)
    record_revision(page, "imported from Markdown")
    return Imported(page, created)


def import_site_file(path: Path) -> dict[str, int]:
    """site.yaml of an export: sections, tags (with their old slugs) and
    authors, created or updated by slug. Returns how many of each."""
    try:
        site = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ImportProblem(f"cannot read {path}: {error}") from error
    if not isinstance(site, dict):
        raise ImportProblem(f"{path}: not a mapping")
    counts = {"sections": 0, "tags": 0, "authors": 0, "media": 0}
    with transaction.atomic():
        for entry in site.get("sections") or []:
            Section.objects.update_or_create(
                slug=str(entry["slug"]),
                defaults={
                    "name": str(entry["name"]),
                    "description": str(entry.get("description") or ""),
                    "position": int(entry.get("position") or 0),
                },
            )
            counts["sections"] += 1
        for entry in site.get("tags") or []:
            tag = Tag.objects.filter(slug=str(entry["slug"])).first() or Tag(
                slug=str(entry["slug"])
            )
            tag.name = str(entry["name"])
            tag.description = str(entry.get("description") or "")
            tag.save()
            for old in entry.get("old_slugs") or []:
                OldTagSlug.objects.update_or_create(
                    slug=str(old), defaults={"tag": tag}
                )
            counts["tags"] += 1
        for entry in site.get("authors") or []:
            author = Author.objects.filter(slug=str(entry["slug"])).first() or Author(
                slug=str(entry["slug"])
            )
            author.display_name = str(entry["name"])
            author.bio = str(entry.get("bio") or "")
            author.links = "\n".join(entry.get("links") or [])
            if entry.get("user") and author.user_id is None:
                user = owner_named(entry["user"])
                if user is not None and not Author.objects.filter(user=user).exists():
                    author.user = user
            photo = image_file(entry, "photo", path.parent / "images")
            if photo is not None:
                store_file(author.photo, photo, photo.name)
            author.save()
            counts["authors"] += 1
        for entry in site.get("media") or []:
            if library_image(entry, path.parent / "images") is not None:
                counts["media"] += 1
    return counts


def import_markdown_file(path: Path, author=None) -> Imported:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportProblem(f"cannot read {path}: {error}") from error
    return import_markdown(text, author=author, base=path.parent)


def markdown_files(directory: Path) -> list[Path]:
    """An export's files in import order: posts, then pages, then any other."""
    files = sorted(directory.rglob("*.md"))
    images = directory / "images"
    return [path for path in files if images not in path.parents]
