"""Authors: the people a post credits, in byline order (issue 13).

`Post.author` stays what it was, the account that owns the post (who may edit
it, and who the editorial workflow holds to account); the public credit is
the ordered list of `Byline`s to `Author` profiles, so a co-written piece, a
guest writer without a login or an imported archive's writers can be credited
without giving anyone an account. A post saved without a byline through one of
our write paths (admin, importers) credits its owner (`credit_owner`).

Pages and feeds read a post's bylines with the post, in the same query
(`PostQuerySet.with_bylines()`), so no page gains a query per post.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models.functions import JSONObject
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from blog import reversing
from blog.images import StoredImageField, validate_image_upload

MAX_LINKS = 5


def validate_links(value: str) -> None:
    """One http(s) URL per line, at most MAX_LINKS."""
    links = [line.strip() for line in value.splitlines() if line.strip()]
    if len(links) > MAX_LINKS:
        raise ValidationError(
            _("At most %(n)d links.") % {"n": MAX_LINKS}, code="too_many"
        )
    check = URLValidator(schemes=["http", "https"])
    for link in links:
        check(link)


class Author(models.Model):
    # A deleted account leaves its byline standing: the work stays credited.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="author_profile",
        verbose_name=_("user"),
    )
    display_name = models.CharField(_("display name"), max_length=120)
    slug = models.SlugField(
        _("slug"),
        max_length=120,
        unique=True,
        allow_unicode=True,
        help_text=_("The last part of the author page's address."),
    )
    # Plain text, not Markdown: a short bio needs no markup, and plain text
    # needs no rendering budget.
    bio = models.TextField(_("short bio"), max_length=600, blank=True)
    photo = StoredImageField(
        _("photo"),
        upload_to="authors/%Y/",
        blank=True,
        validators=[validate_image_upload],
    )
    # A photo from the media library (blog/media.py): its renditions are
    # copied here at save, and by the job that makes them, so the author page
    # reads the profile alone. Takes the place of `photo`.
    photo_media = models.ForeignKey(
        "blog.MediaImage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="author_photos",
        verbose_name=_("photo from the library"),
    )
    photo_renditions = models.JSONField(editable=False, default=list)
    links = models.TextField(
        _("links"),
        blank=True,
        validators=[validate_links],
        help_text=_("One address per line: a personal site, a profile elsewhere."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("author")
        verbose_name_plural = _("authors")

    def __str__(self):
        return self.display_name

    def save(self, *args, **kwargs):
        self.photo_renditions = (
            self.photo_media.renditions if self.photo_media_id else []
        )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reversing.reverse("blog:author", kwargs={"slug": self.slug})

    @property
    def photo_source(self) -> dict | None:
        """The smallest rendition of the library photo, with its URL."""
        from blog.images import with_urls

        sources = with_urls(self.photo_renditions)
        return sources[0] if sources else None

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in self.links.splitlines() if line.strip()]

    @classmethod
    def for_user(cls, user) -> Author:
        """The user's profile, made from their name the first time."""
        profile = cls.objects.filter(user=user).first()
        if profile is not None:
            return profile
        name = user.get_full_name() or user.get_username()
        base = slugify(name, allow_unicode=True) or "author"
        slug, n = base, 1
        while cls.objects.filter(slug=slug).exists():
            n += 1
            slug = f"{base}-{n}"
        return cls.objects.create(user=user, display_name=name, slug=slug)


class Byline(models.Model):
    """One author's credit on one post, at its place in the byline."""

    post = models.ForeignKey(
        "blog.Post",
        on_delete=models.CASCADE,
        related_name="bylines",
        verbose_name=_("post"),
    )
    author = models.ForeignKey(
        Author,
        on_delete=models.PROTECT,
        related_name="bylines",
        verbose_name=_("author"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("byline")
        verbose_name_plural = _("bylines")
        constraints = [
            models.UniqueConstraint(
                fields=["post", "author"], name="unique_author_per_post"
            )
        ]
        indexes = [
            # An author's page: their posts (blog/listings.AuthorListing).
            models.Index(fields=["author", "post"], name="byline_author_idx"),
        ]

    def __str__(self):
        return f"{self.author} ({self.position})"


def credit_owner(post) -> None:
    """A post with no byline credits the account that owns it."""
    if not Byline.objects.filter(post=post).exists():
        Byline.objects.create(post=post, author=Author.for_user(post.author))


def bylines_json():
    """Each post's bylines as a JSON list, read in the post's own query."""
    from blog.models import JSONList

    return models.Subquery(
        Byline.objects.filter(post=models.OuterRef("pk"))
        .order_by()
        .values("post")
        .annotate(
            names=JSONList(
                JSONObject(
                    name="author__display_name",
                    slug="author__slug",
                    position="position",
                )
            )
        )
        .values("names")
    )
