"""Markdown files with YAML front matter → posts (and their story updates).

Used by `manage.py import_markdown` and `manage.py load_demo`. Importing the
same file again updates the post with that slug instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from blog.authors import credit_owner
from blog.markup import MarkupRefused, normalize_newlines, render_within_budget
from blog.models import Post, Section, StoryUpdate, Tag
from blog.revisions import recorded
from blog.tagging import MAX_TAG_LENGTH, parse_tags

DESK_USERNAME = "desk"


class ImportProblem(ValueError):
    """A file that cannot become a post; the message says which and why."""


@dataclass
class Imported:
    post: Post
    created: bool


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


def within_budget(source: str, what: str) -> str:
    """Markdown from a file renders under the same budget as the admin's."""
    source = normalize_newlines(source)
    try:
        render_within_budget(source)
    except MarkupRefused as refusal:
        raise ImportProblem(f"{what}: {refusal}") from refusal
    return source


def import_markdown(text: str, author=None) -> Imported:
    """Check and render everything first, then write in one transaction: no
    write lock is held while Markdown renders (issue 9)."""
    meta, body = split_front_matter(text)
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
        )
        for update in updates
    ]
    # One revision per imported post (blog/revisions.py).
    with transaction.atomic(), recorded("Imported from Markdown.", user=author):
        return _write_post(
            meta, title, slug, section_name, status, body, updates, author
        )


def _write_post(meta, title, slug, section_name, status, body, updates, author):
    post = Post.objects.filter(slug=slug).first()
    created = post is None
    if created:
        post = Post(slug=slug, author=author or desk_author())
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
    try:
        post.full_clean(exclude=["author", "lead_image"])
    except ValidationError as error:
        raise ImportProblem("; ".join(error.messages)) from error
    post.save()
    credit_owner(post)
    post.tags.set(tags_named(as_list(meta.get("tags"))))
    for published, update_body in updates:
        StoryUpdate.objects.update_or_create(
            post=post, published_at=published, defaults={"body": update_body}
        )
    return Imported(post, created)


def import_markdown_file(path: Path, author=None) -> Imported:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ImportProblem(f"cannot read {path}: {error}") from error
    return import_markdown(text, author=author)
