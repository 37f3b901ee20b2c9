"""Corrections, retractions and the curated front (issue 7).

**Corrections.** An editor appends a dated note to a live article
(`Correction`). Its Markdown is rendered and sanitised at save (blog/markup.py)
and every note of the post is copied onto the post's own row
(`Post.correction_notes`), so the article page and its story feed read them
with the post: no query of their own. Saving or deleting a note moves the
post's `updated_at`, hence `Post.modified` (feeds, sitemaps, JSON-LD) and the
validators of exactly the pages that show the post (blog/caching.py).

**Retractions.** A retracted post has the status `retracted`: everything that
lists public posts asks for `published`, so it leaves feeds, listings,
archives, search and sitemaps by that alone. Its address answers 410 Gone
with a notice (blog/views.py), its story feed 410 too.

**Curated front.** Editors pin up to `MAX_PINS` posts, in `pin_position`
order, on the home page (`pinned_home_until`) and on their section's page
(`pinned_section_until`) until a time. `PinnedFront` serves a listing's pages:
pins first, then the rest newest first, in one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Value, When
from django.db.models.functions import Now
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from blog.markup import html_to_text, render_markdown

MAX_PINS = 4
# The rank of a post that is not pinned: after every pin position.
UNPINNED = 10_000


class Correction(models.Model):
    """A dated note appended to a live article, shown at its foot."""

    post = models.ForeignKey(
        "blog.Post",
        on_delete=models.CASCADE,
        related_name="corrections",
        verbose_name=_("post"),
    )
    noted_at = models.DateTimeField(_("noted at"), default=timezone.now)
    text = models.TextField(
        _("text"), help_text=_("Markdown. What was wrong and what is right.")
    )
    text_html = models.TextField(editable=False, default="")
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("editor"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["noted_at", "id"]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")
        indexes = [models.Index(fields=["post", "noted_at"], name="correction_idx")]

    def __str__(self):
        # Shown above each saved correction in the post form's inline (the
        # post is the page itself; its ID there read as noise).
        return _("Noted %(time)s") % {"time": f"{self.noted_at:%Y-%m-%d %H:%M}"}

    def save(self, *args, **kwargs):
        self.noted_at = self.noted_at.replace(microsecond=0)
        self.text_html = render_markdown(self.text).html
        super().save(*args, **kwargs)

    def as_note(self) -> dict:
        return {
            "id": self.pk,
            "noted_at": self.noted_at.isoformat(),
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "html": self.text_html,
        }


def copy_notes_to_post(post_id: int) -> None:
    """Every note of the post onto its row (oldest first), and the post's
    `updated_at` moved: its pages, listings and feeds change, no others."""
    from blog.models import Post

    notes = [c.as_note() for c in Correction.objects.filter(post_id=post_id)]
    Post.objects.filter(pk=post_id).update(
        correction_notes=notes, updated_at=timezone.now()
    )


@receiver(post_save, sender=Correction)
@receiver(post_delete, sender=Correction)
def correction_changed(sender, instance, raw=False, **kwargs):
    """A note added, changed or removed: the post's row follows (blog/caching.py
    then sees the post changed: its pages, listings and feeds, no others)."""
    if not raw:
        copy_notes_to_post(instance.post_id)


@dataclass
class CorrectionNote:
    """A correction as the article and its feed show it, read from the post's
    row (`Post.correction_notes`)."""

    id: int
    noted_at: datetime
    created_at: datetime
    updated_at: datetime
    html: str
    post: object = None

    @classmethod
    def from_json(cls, note: dict, post=None) -> CorrectionNote:
        return cls(
            id=note["id"],
            noted_at=parse_datetime(note["noted_at"]),
            created_at=parse_datetime(note["created_at"]),
            updated_at=parse_datetime(note["updated_at"]),
            html=note["html"],
            post=post,
        )

    @property
    def anchor(self) -> str:
        return f"correction-{self.id}"

    def get_absolute_url(self) -> str:
        return f"{self.post.get_absolute_url()}#{self.anchor}"

    @property
    def published_at(self) -> datetime:
        return self.noted_at

    @property
    def modified(self) -> datetime:
        return max(self.noted_at, self.updated_at)

    @property
    def summary(self) -> str:
        return Truncator(html_to_text(self.html)).words(40)

    def guid(self) -> str:
        from blog.models import tag_uri

        return tag_uri(f"correction:{self.id}", self.created_at)


# -- The curated front ---------------------------------------------------------


class PinnedFront:
    """A listing's posts as its pages show them: the pins in force (at most
    MAX_PINS, by position) first, then every other post newest first.

    A page is one query: its posts are chosen among the pins (an index range
    on the pin's expiry, within `scope`) and the newest `top` posts (the
    listing's own index walk); only those few rows are read and sorted by pin
    rank. Whatever the page, the candidates hold every post that order puts
    up to `top`, so pages neither skip nor repeat a post. Public-ness of a pin
    is checked per candidate (EXISTS by primary key), so the pin index drives
    its arm, as the candidate list drives the whole query.
    """

    def __init__(self, posts, pin_field: str, scope: dict | None = None):
        self.posts = posts  # published(), filtered, for_listing()
        self.pin_field = pin_field
        self.scope = scope or {}  # narrows the pins: {"section": section}

    def window(self, bottom: int, top: int):
        model = self.posts.model
        # The database's clock, as in published(): the SQL holds no time of
        # its own, so its compiled form can be rerun (blog/compiled.py).
        pinned = {f"{self.pin_field}__gt": Now()}
        listed = Exists(self.posts.filter(pk=OuterRef("pk")))
        chosen = (
            model.objects.filter(listed, **pinned, **self.scope)
            .order_by("pin_position", "-published_at", "-id")
            .values("pk")[:MAX_PINS]
        )
        newest = self.posts.order_by("-published_at", "-id").values("pk")[:top]
        # One IN over the UNION drives the query, as in latest_per_section.
        # SQLite allows no LIMIT inside a UNION's arms: there each is wrapped
        # (PostgreSQL would only spend longer planning the wrappers).
        by_pk = model.objects.order_by()
        if not connection.features.supports_slicing_ordering_in_compound:
            chosen = by_pk.filter(pk__in=chosen).values("pk")
            newest = by_pk.filter(pk__in=newest).values("pk")
        candidates = chosen.union(newest, all=True)
        rank = Case(
            When(**pinned, then=F("pin_position")),
            default=Value(UNPINNED),
            output_field=IntegerField(),
        )
        order = ("pin_rank", "-published_at", "-id")
        # The page's ids are sorted on three columns; bylines and joins are
        # read for its rows only (a deep page sorts hundreds of candidates).
        page = (
            by_pk.filter(pk__in=candidates)
            .annotate(pin_rank=rank)
            .order_by(*order)
            .values("pk")[bottom:top]
        )
        return (
            model.objects.for_listing()
            .filter(pk__in=page)
            .annotate(pin_rank=rank)
            .order_by(*order)
        )
