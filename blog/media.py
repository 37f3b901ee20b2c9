"""The media library: images uploaded once, used in many articles (issue 7).

A `MediaImage` is an uploaded picture checked by its content (blog/images.py:
a real JPEG, PNG, WebP or GIF, bounded bytes and pixels, never SVG), stored
under a generated name, with its alt text (required), caption and credit. The
job queue makes its renditions exactly as for lead images (blog/tasks.py).

Articles refer to one with a Markdown image whose URL is `media:ID`:

    ![What the picture shows](media:42 "A caption for this article")

The alt text is optional (the library's is used), and so is the title, which
replaces the library caption. `Post.render_body` reads the referenced images
in one query and passes them, as a plain mapping (`figures_for`), to
`render_markdown`, which writes a responsive <figure>; so pages pay nothing
per request. Which posts use which image is recorded at save (`MediaUse`):
when an image's renditions are made or its words change, those posts are
rendered again by a job (`tasks.rerender_media_posts`).

Originals and superseded renditions are never deleted from the storage.
"""

from __future__ import annotations

import posixpath
import re
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from blog.images import StoredImageField, check_upload, validate_image_upload, with_urls

# `media:42` in a body (inline image or reference definition).
MEDIA_REF_RE = re.compile(r"\bmedia:(\d{1,12})\b")
# More would be a gallery, not an article; the rest render as unknown images.
MAX_FIGURES_PER_POST = 100
EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}


def media_upload_to(instance, filename: str) -> str:
    """A generated name: the uploader's file name is kept only as a record
    (`original_name`), never as a path (no clashes, no guessing, no '..')."""
    ext = posixpath.splitext(filename or "")[1].lower()
    ext = ext if ext in EXTENSIONS else ".img"
    now = timezone.now()
    return f"media/{now:%Y/%m}/{uuid.uuid4().hex}{ext}"


class MediaImageQuerySet(models.QuerySet):
    def search(self, query: str):
        """Alt text, caption, credit or original file name containing `query`."""
        query = (query or "").strip()
        if not query:
            return self
        return self.filter(
            Q(alt__icontains=query)
            | Q(caption__icontains=query)
            | Q(credit__icontains=query)
            | Q(original_name__icontains=query)
        )


class MediaImageManager(models.Manager.from_queryset(MediaImageQuerySet)):
    def add(
        self,
        fileobj,
        *,
        name: str,
        alt: str,
        caption: str = "",
        credit: str = "",
        uploaded_by=None,
    ) -> MediaImage:
        """Check and store one picture in the library; its renditions are
        queued. Raises ValidationError for a file that is not a picture we
        take (by content), too large, too many pixels, or without alt text."""
        alt = (alt or "").strip()
        if not alt:
            raise ValidationError(
                {"alt": _("Describe the picture for readers who cannot see it.")},
                code="alt_required",
            )
        if not hasattr(fileobj, "seek"):
            raise ValidationError(_("No file."), code="no_file")
        if getattr(fileobj, "size", None) is None:
            fileobj.seek(0, 2)
            size = fileobj.tell()
            fileobj.seek(0)
            wrapped = File(fileobj, name=name)
            wrapped.size = size
        else:
            wrapped = fileobj if isinstance(fileobj, File) else File(fileobj, name=name)
        check_upload(wrapped)
        image = self.model(
            alt=alt,
            caption=(caption or "").strip(),
            credit=(credit or "").strip(),
            uploaded_by=uploaded_by,
            original_name=posixpath.basename(name or "")[:255],
        )
        image.file.save(name or "upload", wrapped, save=False)
        image.save()
        return image


class MediaImage(models.Model):
    file = StoredImageField(
        _("file"),
        upload_to=media_upload_to,
        width_field="width",
        height_field="height",
        validators=[validate_image_upload],
    )
    width = models.PositiveIntegerField(_("width"), null=True, editable=False)
    height = models.PositiveIntegerField(_("height"), null=True, editable=False)
    original_name = models.CharField(
        _("original file name"), max_length=255, blank=True, editable=False
    )
    alt = models.CharField(
        _("alt text"),
        max_length=250,
        help_text=_("What the image shows, for readers who cannot see it."),
    )
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    credit = models.CharField(
        _("credit"),
        max_length=200,
        blank=True,
        help_text=_("Photographer or agency, as printed under the picture."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Names, widths and heights of the resized JPEGs (blog/images.py), made
    # by the queue; empty until then.
    renditions = models.JSONField(editable=False, default=list)

    objects = MediaImageManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("library image")
        verbose_name_plural = _("media library")
        constraints = [
            models.CheckConstraint(
                condition=~Q(alt=""),
                name="media_image_has_alt",
                violation_error_message=_("A picture needs alt text."),
            )
        ]

    def __str__(self):
        return f"{self.alt[:60]} (#{self.pk})" if self.pk else self.alt[:60]

    def save(self, *args, **kwargs):
        """A new file drops the old renditions (the queue makes new ones);
        changed words re-render the posts showing the picture."""
        is_new = self._state.adding
        file_changed = is_new or self.loaded("file") != self.file.name
        if file_changed:
            self.renditions = []
        words_changed = not is_new and any(
            self.loaded(f) != getattr(self, f) for f in ("alt", "caption", "credit")
        )
        super().save(*args, **kwargs)
        self._loaded = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields
        }
        self._loaded["file"] = self.file.name
        from blog import tasks

        # Queued as Post.queue_renditions does: the file is stored already.
        if file_changed and self.file.name:
            tasks.make_media_renditions.enqueue(self.pk, self.file.name)
        elif words_changed:
            tasks.rerender_media_posts.enqueue([self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def loaded(self, field: str):
        return getattr(self, "_loaded", {}).get(field)

    @property
    def sources(self) -> list[dict]:
        """Renditions (narrowest first) with URLs from the storage."""
        return with_urls(self.renditions)

    @property
    def thumbnail(self) -> dict | None:
        sources = self.sources
        return sources[0] if sources else None

    def figure_data(self) -> dict:
        """The plain mapping `render_markdown` needs for this image."""
        return {
            "alt": self.alt,
            "caption": self.caption,
            "credit": self.credit,
            "sources": [
                {"url": s["url"], "width": s["width"], "height": s["height"]}
                for s in self.sources
            ],
        }

    def markdown(self) -> str:
        """What the post form inserts at the cursor."""
        alt = self.alt.replace("[", "(").replace("]", ")").replace("\n", " ")
        return f"![{alt}](media:{self.pk})"


class MediaUse(models.Model):
    """This post's body shows this library image (written at the post's save)."""

    post = models.ForeignKey(
        "blog.Post", on_delete=models.CASCADE, related_name="media_uses"
    )
    image = models.ForeignKey(MediaImage, on_delete=models.CASCADE, related_name="uses")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "post"], name="unique_media_use")
        ]

    def __str__(self):
        return f"{self.post_id} uses {self.image_id}"


def media_ids_in(source: str) -> list[int]:
    """IDs of library images a Markdown text refers to, in order, once each."""
    seen: dict[int, None] = {}
    for match in MEDIA_REF_RE.finditer(source or ""):
        seen.setdefault(int(match.group(1)), None)
        if len(seen) >= MAX_FIGURES_PER_POST:
            break
    return list(seen)


def figures_for(ids) -> dict[str, dict]:
    """The images `ids` as render_markdown's plain mapping ("42" → data), in
    one query; unknown IDs are simply absent."""
    ids = [i for i in ids if 0 < i < 2**63]
    if not ids:
        return {}
    rows = MediaImage.objects.filter(pk__in=ids).only(
        "pk", "alt", "caption", "credit", "renditions"
    )
    return {str(image.pk): image.figure_data() for image in rows}


def record_uses(post, ids) -> None:
    """Make MediaUse rows say exactly which existing images `post` shows."""
    ids = set(ids)
    MediaUse.objects.filter(post=post).exclude(image_id__in=ids).delete()
    if ids:
        existing = set(
            MediaImage.objects.filter(pk__in=ids).values_list("pk", flat=True)
        )
        MediaUse.objects.bulk_create(
            [MediaUse(post=post, image_id=i) for i in existing],
            ignore_conflicts=True,
        )
