from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from blog.images import StoredImageField, validate_image_upload, with_urls
from blog.markup import html_to_text, reading_minutes, render_markdown


def _words(text: str) -> list[str]:
    """Words as compared for repetition: case, punctuation and quote style aside."""
    return re.findall(r"\w+", text.casefold())


class Section(models.Model):
    name = models.CharField(_("name"), max_length=80, unique=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(
        _("position"),
        default=0,
        help_text=_("Order in the site navigation, smallest first."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("section")
        verbose_name_plural = _("sections")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("blog:section", kwargs={"slug": self.slug})


class Tag(TagBase):
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def get_absolute_url(self):
        return reverse("blog:tag", kwargs={"slugs": [self.slug]})

    @classmethod
    def every_one_of(cls, slugs) -> list[Tag] | None:
        """The tags named by `slugs`, in slug order, or None if any is unknown
        (a tag page or feed for an intersection needs every one)."""
        tags = sorted(cls.objects.filter(slug__in=slugs), key=lambda tag: tag.slug)
        return tags if len(tags) == len(set(slugs)) else None

    def slugify(self, tag, i=None):
        """Unicode slugs (россия) are fine; a name with no letters or digits
        at all (an emoji, "?") still gets an address."""
        slug = slugify(tag, allow_unicode=True) or "tag"
        return slug if i is None else f"{slug}-{i}"


class TaggedPost(TaggedItemBase):
    content_object = models.ForeignKey("Post", on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="tagged_posts")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="unique_tag_per_post"
            )
        ]

    def __str__(self):
        return f"{self.content_object_id} → {self.tag_id}"


class PostQuerySet(models.QuerySet):
    def published(self):
        """The one definition of public: published, and its time has come."""
        return self.marked_published().filter(published_at__lte=timezone.now())

    def marked_published(self):
        """Live or scheduled: the editor has pressed publish, due or not."""
        return self.filter(status=Post.Status.PUBLISHED)

    def scheduled(self):
        return self.marked_published().filter(published_at__gt=timezone.now())

    def in_section(self, section):
        return self.filter(section=section)

    def tagged(self, *tags):
        """Posts carrying every one of the given tags (objects or slugs)."""
        qs = self
        for tag in tags:
            key = "tags__slug" if isinstance(tag, str) else "tags"
            qs = qs.filter(**{key: tag})
        return qs

    def for_listing(self):
        """The joins every list of posts needs, declared once."""
        return self.select_related("section", "author").prefetch_related("tags")

    def latest_per_section(self, per_section=3):
        """The newest few public posts of every section, in one query.

        Each pick is an index-backed subquery per section (section, status,
        published_at), so the cost follows the number of sections, not the
        size of the archive — a window over every post would not.
        """
        public = self.published()
        picks = Section.objects.annotate(
            **{
                f"pick{k}": models.Subquery(
                    public.filter(section=models.OuterRef("pk"))
                    .order_by("-published_at", "-id")
                    .values("pk")[k : k + 1]
                )
                for k in range(per_section)
            }
        )
        chosen = Q()
        for k in range(per_section):
            chosen |= Q(pk__in=picks.values(f"pick{k}"))
        return (
            public.filter(chosen)
            .select_related("section")
            .order_by("section__position", "section__name", "-published_at", "-id")
        )

    def related_to(self, post, limit=4):
        """Posts sharing the most tags with `post`, newest first among equals."""
        tag_ids = [tag.pk for tag in post.tags.all()]
        return (
            self.exclude(pk=post.pk)
            .filter(tags__in=tag_ids)
            .annotate(shared_tags=Count("tags"))
            .order_by("-shared_tags", "-published_at")
            .select_related("section")[:limit]
        )


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(
        _("slug"),
        max_length=200,
        unique=True,
        help_text=_(
            "The last part of the address. Changing it later keeps old links "
            "working: they redirect here."
        ),
    )
    section = models.ForeignKey(
        Section,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("section"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="posts",
        verbose_name=_("author"),
    )
    summary = models.TextField(
        _("summary"),
        max_length=400,
        blank=True,
        help_text=_(
            "Plain-text standfirst for lists, feeds and search engines. Left "
            "empty, it is taken from the start of the body."
        ),
    )
    body = models.TextField(
        _("body"), help_text=_("Markdown. ## starts a sub-section.")
    )
    body_html = models.TextField(editable=False, default="")
    body_text = models.TextField(editable=False, default="")
    toc = models.JSONField(editable=False, default=list)
    word_count = models.PositiveIntegerField(editable=False, default=0)
    lead_image = StoredImageField(
        _("lead image"),
        upload_to="lead/%Y/%m/",
        blank=True,
        width_field="lead_image_width",
        height_field="lead_image_height",
        validators=[validate_image_upload],
    )
    lead_image_width = models.PositiveIntegerField(
        null=True, blank=True, editable=False
    )
    lead_image_height = models.PositiveIntegerField(
        null=True, blank=True, editable=False
    )
    lead_image_alt = models.CharField(
        _("lead image alt text"),
        max_length=250,
        blank=True,
        help_text=_("What the image shows, for readers who cannot see it."),
    )
    lead_image_caption = models.CharField(
        _("lead image caption"), max_length=300, blank=True
    )
    lead_image_renditions = models.JSONField(editable=False, default=list)
    status = models.CharField(
        _("status"), max_length=10, choices=Status, default=Status.DRAFT
    )
    published_at = models.DateTimeField(
        _("published at"),
        default=timezone.now,
        help_text=_("A time in the future schedules the post: it goes live by itself."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    tags = TaggableManager(
        through=TaggedPost, blank=True, ordering=["name"], verbose_name=_("tags")
    )
    # Filled on PostgreSQL only (weighted title/summary/body); SQLite searches
    # an FTS5 table instead (blog/search.py).
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        indexes = [
            models.Index(fields=["status", "-published_at"], name="post_public_idx"),
            models.Index(
                fields=["section", "status", "-published_at"], name="post_section_idx"
            ),
            # Validators read the newest updated_at per listing (blog/caching.py).
            models.Index(fields=["status", "-updated_at"], name="post_updated_idx"),
            models.Index(
                fields=["section", "status", "-updated_at"],
                name="post_section_updated_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_image="") | ~Q(lead_image_alt=""),
                name="lead_image_has_alt",
                violation_error_message=_("A lead image needs alt text."),
            )
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Publication times are to the second: feeds, HTML and HTTP dates
        # all speak whole seconds.
        self.published_at = self.published_at.replace(microsecond=0)
        rendered = render_markdown(self.body)
        self.body_html = rendered.html
        self.body_text = rendered.text
        self.toc = rendered.toc
        self.word_count = rendered.word_count
        self.summary = self.summary.strip() or Truncator(rendered.text).words(40)
        loaded = getattr(self, "_loaded", {})
        if not self.lead_image or loaded.get("lead_image") != self.lead_image.name:
            # Renditions of another picture must not stand in for this one;
            # the queue makes the new ones (blog/signals.py, blog/tasks.py).
            self.lead_image_renditions = []
        super().save(*args, **kwargs)
        old_slug = loaded.get("slug")
        if old_slug and old_slug != self.slug:
            OldSlug.objects.update_or_create(slug=old_slug, defaults={"post": self})
        OldSlug.objects.filter(slug=self.slug).delete()
        afterwards = {}
        if connection.vendor == "postgresql":
            afterwards["search_vector"] = weighted_search_vector()
        if afterwards:
            Post.objects.filter(pk=self.pk).update(**afterwards)
        self._loaded = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields
        }
        self._loaded["lead_image"] = self.lead_image.name

    def get_absolute_url(self):
        day = timezone.localdate(self.published_at)
        return reverse(
            "blog:post",
            kwargs={
                "year": day.year,
                "month": f"{day.month:02d}",
                "day": f"{day.day:02d}",
                "slug": self.slug,
            },
        )

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def neighbours_in_section(self):
        """(previous, next) public posts of the same section, by publication time."""
        siblings = Post.objects.published().in_section(self.section_id)
        previous = (
            siblings.filter(published_at__lt=self.published_at)
            .order_by("-published_at")
            .first()
        )
        following = (
            siblings.filter(published_at__gt=self.published_at)
            .order_by("published_at")
            .first()
        )
        return previous, following

    @property
    def is_live(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()
        )

    @property
    def state(self) -> str:
        """draft, scheduled or live: what an editor needs to know at a glance."""
        if self.status == self.Status.DRAFT:
            return "draft"
        return "live" if self.is_live else "scheduled"

    STATE_LABELS = {
        "draft": pgettext_lazy("post state", "draft"),
        "scheduled": pgettext_lazy("post state", "scheduled"),
        "live": pgettext_lazy("post state", "live"),
    }

    @property
    def state_label(self) -> str:
        """The state in the site's language, for the admin and the preview banner."""
        return self.STATE_LABELS[self.state]

    def was_live_when_loaded(self) -> bool:
        loaded = getattr(self, "_loaded", None)
        return bool(
            loaded
            and loaded.get("status") == self.Status.PUBLISHED
            and loaded.get("published_at") is not None
            and loaded["published_at"] <= timezone.now()
        )

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)

    @property
    def standfirst(self) -> str:
        """The summary, when it says something the body does not start with:
        a summary taken from the body (or pasted from it) would repeat the
        first paragraph right above it (issue 10)."""
        summary = _words(self.summary.rstrip("…. "))
        return "" if summary == _words(self.body_text)[: len(summary)] else self.summary

    @property
    def has_toc(self) -> bool:
        """A table of contents earns its place from two sub-sections up."""
        return sum(1 for entry in self.toc if entry["level"] == 2) >= 2

    def last_updated(self, updates):
        """When readers should read "Updated": the newest story update (`updates`
        newest first) or an edit after publication, whichever is later."""
        changes = [update.published_at for update in updates[:1]]
        if self.was_updated:
            changes.append(self.updated_at)
        return max(changes, default=None)

    @property
    def was_updated(self) -> bool:
        """Edited after it went out (a minute's grace for typos). Counting from
        creation too keeps a backdated import from claiming an update."""
        since = max(self.published_at, self.created_at)
        return (self.updated_at - since).total_seconds() > 60

    @cached_property
    def lead_image_sources(self) -> list[dict]:
        """Renditions (narrowest first) with URLs computed from the storage now:
        only names are stored. Empty until the queue has made them."""
        return with_urls(self.lead_image_renditions)

    @cached_property
    def lead_image_default(self) -> dict | None:
        """The largest rendition: for feeds, Open Graph and JSON-LD."""
        return self.lead_image_sources[-1] if self.lead_image_sources else None

    @property
    def lead_image_srcset(self) -> str:
        return ", ".join(f"{r['url']} {r['width']}w" for r in self.lead_image_sources)

    def guid(self) -> str:
        """A feed id that survives slug, date and section changes (RFC 4151 tag URI)."""
        return tag_uri(f"post:{self.pk}", self.created_at)


def weighted_search_vector():
    """PostgreSQL's document for a post: title (A), summary (B), body (C)."""
    return (
        SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body_text", weight="C", config="english")
    )


def tag_uri(specific: str, created) -> str:
    from blog.metadata import site_domain

    return f"tag:{site_domain()},{created:%Y-%m-%d}:{specific}"


class OldSlug(models.Model):
    """A slug a post used to have: its old links answer 301 to the current one."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="old_slugs")
    slug = models.SlugField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.slug


class StoryUpdateQuerySet(models.QuerySet):
    def published(self):
        """Due updates of public posts."""
        now = timezone.now()
        return self.filter(
            published_at__lte=now,
            post__status=Post.Status.PUBLISHED,
            post__published_at__lte=now,
        )


class StoryUpdate(models.Model):
    """A dated addition to a developing story, shown newest first above the body."""

    post = models.ForeignKey(
        Post,
        on_delete=models.CASCADE,
        related_name="updates",
        verbose_name=_("post"),
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    body = models.TextField(_("body"), help_text=_("Markdown."))
    body_html = models.TextField(editable=False, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = StoryUpdateQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        verbose_name = _("story update")
        verbose_name_plural = _("story updates")
        indexes = [
            models.Index(fields=["post", "-published_at"], name="update_post_idx"),
            models.Index(fields=["-published_at"], name="update_published_idx"),
        ]

    def __str__(self):
        return _("Update to %(post)s at %(time)s") % {
            "post": self.post,
            "time": f"{self.published_at:%Y-%m-%d %H:%M}",
        }

    def save(self, *args, **kwargs):
        self.published_at = self.published_at.replace(microsecond=0)
        self.body_html = render_markdown(self.body).html
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.post.get_absolute_url()}#{self.anchor}"

    @property
    def anchor(self) -> str:
        return f"update-{self.pk}"

    @property
    def summary(self) -> str:
        return Truncator(html_to_text(self.body_html)).words(40)

    def guid(self) -> str:
        return tag_uri(f"update:{self.pk}", self.created_at)


class SiteState(models.Model):
    """One row: when something left a listing or a section or tag changed.

    Every listing's validator (ETag, Last-Modified, cache key) is the newest of
    its own posts' changes and this time, so removals — which leave no newer
    row behind — still change it (blog/caching.py).
    """

    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"site changed at {self.changed_at:%Y-%m-%d %H:%M:%S}"

    @classmethod
    def touch(cls):
        cls.objects.update_or_create(pk=1, defaults={"changed_at": timezone.now()})


FTS_TABLE = "blog_post_fts"


class FullTextField(models.TextField):
    """A column that answers `__fts_match` (SQLite FTS5 MATCH)."""


@FullTextField.register_lookup
class Match(models.Lookup):
    lookup_name = "fts_match"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} MATCH {rhs}", [*lhs_params, *rhs_params]


class PostSearchIndex(models.Model):
    """SQLite's FTS5 table over title, summary and body text (rowid = post id).

    Unmanaged: blog.search.ensure_sqlite_index creates it, with the triggers
    that keep it in step with blog_post; the model only lets the ORM join it.
    """

    post = models.OneToOneField(
        Post,
        primary_key=True,
        db_column="rowid",
        on_delete=models.DO_NOTHING,
        related_name="search_index",
    )
    # FTS5's hidden column named after the table: `<table> MATCH 'query'`.
    document = FullTextField(db_column=FTS_TABLE)
    rank = models.FloatField()

    class Meta:
        managed = False
        db_table = FTS_TABLE

    def __str__(self):
        return f"search index of post {self.pk}"


class Ping(models.Model):
    """A change a WebSub hub must hear about exactly once: the queue's outbox.

    The row is written with the change (same transaction); a job sends it and
    claims it first, so competing workers send it once; `manage.py worker`
    re-sends rows whose job was lost (blog/tasks.py). Going live has a key
    derived from the publication time, so the save and the worker's look for
    scheduled posts that came due agree on one ping.
    """

    key = models.CharField(max_length=200, unique=True)
    post_id = models.BigIntegerField()
    # Filled only when the post is gone (deleted): otherwise the feeds are
    # looked up when the ping is sent, after tags and section are saved.
    urls = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "next_attempt_at"])]

    def __str__(self):
        return self.key
