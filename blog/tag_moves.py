"""Renaming and merging tags without breaking their addresses (issue 13).

A tag's old slug is kept (`OldTagSlug`) when it is renamed or merged into
another, and `TagListing.resolve` reads it: `/tag/<old>/`, its feeds and any
intersection naming it answer 301 to the surviving tag's address.
"""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class OldTagSlug(models.Model):
    """A slug a tag used to have, or the slug of a tag merged into it."""

    tag = models.ForeignKey(
        "blog.Tag", on_delete=models.CASCADE, related_name="old_slugs"
    )
    slug = models.SlugField(max_length=100, unique=True, allow_unicode=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("old tag address")
        verbose_name_plural = _("old tag addresses")

    def __str__(self):
        return self.slug


def record_tag_slug(tag, old_slug: str | None) -> None:
    """After a save: a changed slug keeps answering; a reused one stops."""
    if old_slug and old_slug != tag.slug:
        OldTagSlug.objects.update_or_create(slug=old_slug, defaults={"tag": tag})
    OldTagSlug.objects.filter(slug=tag.slug).delete()


def surviving_slugs(slugs: list[str]) -> list[str] | None:
    """Each slug as it is now (an old one mapped to its tag's current slug),
    without repeats, or None if one is unknown altogether."""
    from blog.models import Tag

    current = set(Tag.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    moved = dict(
        OldTagSlug.objects.filter(slug__in=set(slugs) - current).values_list(
            "slug", "tag__slug"
        )
    )
    if len(current) + len(moved) != len(set(slugs)):
        return None
    return sorted({moved.get(slug, slug) for slug in slugs})


@transaction.atomic
def merge_tags(target, sources) -> int:
    """Moves every post of `sources` onto `target`, deletes them and keeps
    their slugs (and their own old slugs) answering for `target`. Returns the
    number of posts that gained `target`."""
    from blog.models import SiteState, TaggedPost

    gained = 0
    for source in sources:
        if source.pk == target.pk:
            continue
        already = TaggedPost.objects.filter(tag=target).values("content_object")
        gained += (
            TaggedPost.objects.filter(tag=source)
            .exclude(content_object__in=already)
            .update(tag=target)
        )
        OldTagSlug.objects.filter(tag=source).update(tag=target)
        slug = source.slug
        source.delete()  # its remaining rows (posts already on target) go too
        OldTagSlug.objects.update_or_create(slug=slug, defaults={"tag": target})
    # Rows moved by update() send no signal: every listing showing them changes.
    SiteState.touch()
    return gained
