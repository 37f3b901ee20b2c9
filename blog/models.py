from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from itertools import islice

from django.conf import settings
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import connection, connections, models
from django.db.models import Count, Q
from django.db.models.functions import JSONObject, Now
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.text import Truncator, slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from taggit.managers import TaggableManager
from taggit.models import TagBase, TaggedItemBase

from blog import cards, reversing
from blog.images import StoredImageField, validate_image_upload, with_urls
from blog.markup import (
    absolutize_urls,
    html_to_text,
    reading_minutes,
    render_markdown,
)

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    """Words as compared for repetition: case, punctuation and quote style aside."""
    return _WORD.findall(text.casefold())


def _opening_words(text: str, n: int) -> list[str]:
    """`_words(text)[:n]`, folding only the start of the text (a body runs to
    thousands of words; folding all of it cost an article 0.5 ms, issue 8).
    Folding never merges words (it may split one: İ is i and a combining dot),
    so the first n words lie within the first n unfolded ones."""
    end = 0
    for match in islice(_WORD.finditer(text), n):
        end = match.end()
    return _words(text[:end])[:n]


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
        # Remembered: the navigation and the desks show every section.
        return reversing.reverse("blog:section", kwargs={"slug": self.slug})


class Tag(TagBase):
    description = models.TextField(_("description"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def save(self, *args, **kwargs):
        """A changed slug keeps its old addresses answering (blog/tag_moves.py)."""
        super().save(*args, **kwargs)
        from blog.tag_moves import record_tag_slug

        record_tag_slug(self, getattr(self, "_loaded_slug", None))
        self._loaded_slug = self.slug

    def get_absolute_url(self):
        return reversing.reverse("blog:tag", kwargs={"slugs": [self.slug]})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_slug = instance.slug if "slug" in field_names else None
        return instance

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
    # The post's published_at while its status is published (due or
    # scheduled), else NULL: kept by database triggers (blog/tag_dates.py) so
    # that a tag's pages read its own index, newest first.
    public_from = models.DateTimeField(null=True, editable=False)
    # The post's updated_at while its status is published, else NULL: a tag
    # page's validator reads the newest from the tag's own index (the same).
    post_changed_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_object", "tag"], name="unique_tag_per_post"
            )
        ]
        indexes = [
            # The posts most recently given a tag: related posts (issue 8).
            models.Index(fields=["tag", "-id"], name="tagged_recent_idx"),
            # A tag's public posts, newest first: its pages and their count.
            models.Index(
                fields=["tag", "-public_from", "-content_object"],
                name="tagged_public_idx",
            ),
            # The newest change among a tag's published posts: its validator.
            models.Index(fields=["tag", "-post_changed_at"], name="tagged_changed_idx"),
        ]

    def __str__(self):
        return f"{self.content_object_id} → {self.tag_id}"


# What a list of posts never shows: loaded only where a post is read in full.
BODY_FIELDS = (
    "body",
    "body_html",
    "body_text",
    "toc",
    "feed_html",
    "search_vector",
    "correction_notes",
    "article_html",
)
# What a feed item reads of a post (PostQuerySet.for_feed).
FEED_FIELDS = (
    "title",
    "slug",
    "summary",
    "feed_html",
    "published_at",
    "updated_at",
    "created_at",
    "feed_id",
    "lead_image_renditions",
    "lead_image_alt",
    "lead_image_caption",
    "lead_image_credit",
    "section__slug",
    "section__name",
    "author__username",
    "author__first_name",
    "author__last_name",
)
# What a list reads of a post: its stored card and stamp, and what the card's
# template reads (section, owner's name, renditions) when the stamp is stale.
# Fewer columns are fewer values to convert and instances to fill (issue 8).
LISTING_FIELDS = (
    "title",
    "slug",
    "summary",
    "published_at",
    "word_count",
    "lead_image_renditions",
    "card_html",
    "card_stamp",
    "section",
    "section__name",
    "section__slug",
    "author",
    "author__username",
    "author__first_name",
    "author__last_name",
)
# An article's related posts (PostQuerySet.around): each tag's newest public
# posts are read from the tag's index, and this many of them, those in most of
# the tags' lists, as posts.
RELATED_CANDIDATES_PER_TAG = 20
RELATED_CANDIDATES = 12
# Feed HTML is stored with its URLs made absolute against this origin (a
# reserved name, RFC 2606); a feed swaps in the public one (blog/feeds.py).
FEED_ORIGIN = "https://dateline.invalid"


class JSONList(models.Aggregate):
    """A JSON array of the aggregated values (SQLite and PostgreSQL)."""

    function = "JSON_GROUP_ARRAY"
    output_field = models.JSONField()

    def as_postgresql(self, compiler, connection, **extra):
        # As text, as SQLite gives it: JSONField decodes it either way.
        return self.as_sql(
            compiler, connection, template="(JSON_AGG(%(expressions)s))::text"
        )


def shared_tags(tag_ids):
    """How many of `tag_ids` a post carries: a count on the (post, tag) index."""
    return models.Subquery(
        TaggedPost.objects.filter(
            content_object=models.OuterRef("pk"), tag_id__in=tag_ids
        )
        .order_by()
        .values("content_object")
        .annotate(n=Count("*"))
        .values("n")
    )


class PostQuerySet(models.QuerySet):
    def published(self):
        """The one definition of public: published, and its time has come.
        Due-ness is judged by the database clock (Now()), as validators judge
        it: the SQL holds no time of its own, so it can be compiled once and
        rerun (blog/compiled.py), and a scheduled post still goes live on time."""
        return self.marked_published().filter(published_at__lte=Now())

    def marked_published(self):
        """Live or scheduled: the editor has pressed publish, due or not."""
        return self.filter(status=Post.Status.PUBLISHED)

    def scheduled(self):
        return self.marked_published().filter(published_at__gt=timezone.now())

    def retracted(self):
        """Withdrawn by an editor: their address answers 410 with a notice."""
        return self.filter(status=Post.Status.RETRACTED)

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
        """The joins and columns every list of posts needs, declared once. A
        list shows each post's stored card (blog/cards.py), and reads what
        the card's template needs when the card is stale; never the body:
        its Markdown, HTML and text stay in the database (issue 8)."""
        return (
            self.select_related("section", "author")
            .only(*LISTING_FIELDS)
            .with_bylines()
        )

    def for_feed(self):
        """What a feed item shows and nothing more (blog/feeds.py post_entry):
        its feed HTML, lead image, tags and bylines in the same row, and of
        its section and owner only their names. Feeds are served uncached
        whenever anything changes; every column and object costs (issue 8)."""
        return (
            self.select_related("section", "author")
            .defer(None)
            .only(*FEED_FIELDS)
            .with_tags()
            .with_bylines()
        )

    def with_tags(self):
        """Each post's tags read in the same query (a JSON list per row, from
        the unique (post, tag) index), so `post.tags.all()` costs nothing:
        one query fewer than prefetch_related on every page and feed."""

        # Each tag's name and slug looked up by primary key: joined, the
        # tag table was scanned whole for every post on PostgreSQL (a hash
        # join: 0.04 ms a post at 400 tags, growing with the tags; issue 8).
        def tag_column(name):
            return models.Subquery(
                Tag.objects.filter(pk=models.OuterRef("tag_id")).values(name)
            )

        if connections[self.db].vendor == "postgresql":
            # One lookup of the tag row for its whole object, unsorted: a
            # lookup per column, each sorted by Tag's ordering, cost a 20-item
            # feed 0.4 ms of the server's time (issue 8). SQLite would read
            # an object from a subquery as a string: it keeps a lookup each.
            tag = models.Subquery(
                Tag.objects.filter(pk=models.OuterRef("tag_id"))
                .order_by()
                .values(tag=JSONObject(id="id", name="name", slug="slug"))
            )
        else:
            tag = JSONObject(
                id="tag_id", name=tag_column("name"), slug=tag_column("slug")
            )
        tags = (
            TaggedPost.objects.filter(content_object=models.OuterRef("pk"))
            .order_by()
            .values("content_object")
            .annotate(tags=JSONList(tag))
            .values("tags")
        )
        return self.annotate(tag_list=models.Subquery(tags))

    def with_bylines(self):
        """Each post's authors read in the same query, as with_tags() does
        (blog/authors.py)."""
        from blog.authors import bylines_json

        return self.annotate(byline_list=bylines_json())

    def _fetch_all(self):
        super()._fetch_all()
        if "tag_list" in self.query.annotations:
            for post in self._result_cache:
                if isinstance(post, Post) and not hasattr(post, "_tags_attached"):
                    post.attach_tags(post.tag_list or [])

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
                    .order_by("-published_at")  # the index's order: no sort
                    .values("pk")[k : k + 1]
                )
                for k in range(per_section)
            }
        )
        # One IN over a UNION, which drives the query (an OR of INs makes
        # PostgreSQL, a filter on the post's columns SQLite, scan every post).
        arms = (picks.order_by().values(f"pick{k}") for k in range(per_section))
        first, *rest = arms
        is_public = models.Exists(public.filter(pk=models.OuterRef("pk")))
        # A desk line shows the title and the date (its stored HTML,
        # blog/cards.py), under its section's name.
        return (
            Post.objects.filter(is_public, pk__in=first.union(*rest))
            .select_related("section")
            .only("title", "slug", "published_at", "desk_html", "card_stamp", "section")
            .order_by("section__position", "section__name", "-published_at", "-id")
        )

    def related_to(self, post, limit=4, per_tag=RELATED_CANDIDATES_PER_TAG):
        """Posts sharing the most tags with `post`, newest first among equals.

        Only public posts (whatever queryset it is called on). Candidates are
        the posts most recently given each of its tags (an index walk of
        `per_tag` rows per tag), so the cost does not grow with
        how often a tag was used over the years (issue 8: no scan).
        """
        tag_ids = [tag.pk for tag in post.tags.all()]
        if not tag_ids:
            return self.none()
        candidates = Q()
        for tag_id in tag_ids:
            recent = TaggedPost.objects.filter(tag_id=tag_id).order_by("-id")
            candidates |= Q(pk__in=recent.values("content_object_id")[:per_tag])
        # Public-ness checked per candidate (EXISTS by primary key), so the
        # candidate lists drive the query; a filter on the post's own columns
        # would have SQLite walk every public post instead.
        public = models.Exists(
            Post.objects.published().filter(pk=models.OuterRef("pk"))
        )
        return (
            self.filter(candidates, public)
            .exclude(pk=post.pk)
            .annotate(shared_tags=shared_tags(tag_ids))
            .order_by("-shared_tags", "-published_at")
            .only("title", "slug", "published_at", "section__name")
            .select_related("section")[:limit]
        )

    def around(
        self,
        post,
        related=4,
        per_tag=RELATED_CANDIDATES_PER_TAG,
        candidates=RELATED_CANDIDATES,
    ):
        """(previous, next, related) public posts for `post`'s page, in one query:
        the posts just before and after it in its section, and those sharing
        most tags with it among the posts most recently published with each of
        its tags.

        Its work does not grow with the archive (issue 8): each tag's
        candidates are its `per_tag` newest public posts, read from the tag's
        index alone (tagged_public_idx: drafts and scheduled posts take no
        place), and of those only `candidates` are looked up as posts — the
        ones in most of the tags' lists, newest first — each with its shared
        tags counted exactly. Reading and counting every candidate (up to 80)
        cost 1.7 ms at 100,000 posts against under 1 ms at 1,000, where the
        tags' lists overlap more.

        Written in SQL because this runs on every article render and the ORM
        spent ten times longer composing it than the database answering it.
        Every part is an indexed lookup; the candidate list drives the query.
        Due-ness is judged by the database clock, as `published()` judges it,
        so the SQL of an article with as many tags is always the same: on
        PostgreSQL it runs as a prepared statement (blog/compiled.py). The
        posts come back as `NearPost`s, what the article page reads of them.
        """
        tag_ids = [tag.pk for tag in post.tags.all()]
        now = _now_sql()
        # `p.status || ''` keeps both engines from driving the query by the
        # public-posts index (every public post) instead of the short list.
        public = (
            f"p.status || '' = %s AND p.published_at <= {now}",
            [self.model.Status.PUBLISHED],
        )
        neighbour = (
            "SELECT id FROM (SELECT n.id FROM blog_post n WHERE n.section_id = %s "
            "AND n.status = %s AND {due}n.published_at <= {now} "
            "AND n.published_at {op} %s "
            "ORDER BY n.published_at {order} LIMIT 1) {alias}"
        )
        # Given two upper bounds on the date, SQLite seeks by the clock's and
        # walks every newer post of the section down to the article's (1.3 ms
        # at 100,000 posts): there the clock's is a filter only (`+`), so the
        # walk starts at the article. PostgreSQL keeps the tighter bound.
        due = "+" if connection.vendor == "sqlite" else ""
        neighbours = " UNION ".join(
            [
                neighbour.format(op="<", order="DESC", alias="prev", due=due, now=now),
                neighbour.format(op=">", order="ASC", alias="nxt", due="", now=now),
            ]
        )
        common = [post.section_id, self.model.Status.PUBLISHED]
        neighbour_params = [*common, post.published_at, *common, post.published_at]
        parts, candidate_params = [neighbours], list(neighbour_params)
        if tag_ids:
            # Each tag's newest public posts (tagged_public_idx, in its
            # order); the few in most lists, newest first, are the candidates.
            lists = " UNION ALL ".join(
                "SELECT content_object_id, public_from FROM (SELECT "  # noqa: S608
                "t.content_object_id, t.public_from FROM blog_taggedpost t "
                f"WHERE t.tag_id = %s AND t.public_from <= {now} "
                f"ORDER BY t.public_from DESC LIMIT %s) c{i}"
                for i in range(len(tag_ids))
            )
            parts.append(
                "SELECT id FROM (SELECT content_object_id AS id "  # noqa: S608
                f"FROM ({lists}) c WHERE content_object_id <> %s "
                "GROUP BY content_object_id ORDER BY COUNT(*) DESC, "
                "MAX(public_from) DESC, content_object_id DESC LIMIT %s) best"
            )
            for tag_id in tag_ids:
                candidate_params += [tag_id, per_tag]
            candidate_params += [post.pk, candidates]
        placeholders = ", ".join(["%s"] * len(tag_ids))
        shared = (
            "(SELECT COUNT(*) FROM blog_taggedpost t "  # noqa: S608 - placeholders only
            f"WHERE t.content_object_id = p.id AND t.tag_id IN ({placeholders}))"
            if tag_ids
            else "0"
        )
        # SQLite's planner reads each candidate's row by its id whatever
        # index covers the query; this one holds every column read of `p`.
        indexed = "INDEXED BY post_around_idx" if connection.vendor == "sqlite" else ""
        # Only fixed SQL and %s placeholders are joined here. The neighbours
        # sort first, then the best related: at most related + 2 rows.
        sql = (
            "SELECT p.id, p.title, p.slug, p.published_at, p.section_id, "  # noqa: S608
            f"s.name AS section_name, s.slug AS section_slug, {shared} AS shared_tags "
            f"FROM blog_post p {indexed} INNER JOIN blog_section s ON s.id = p.section_id "
            f"WHERE p.id IN ({' UNION '.join(parts)}) AND p.id <> %s AND {public[0]} "
            f"ORDER BY CASE WHEN p.id IN ({neighbours}) THEN 0 ELSE 1 END, "
            "shared_tags DESC, p.published_at DESC LIMIT %s"
        )
        params = [
            *tag_ids,
            *candidate_params,
            post.pk,
            *public[1],
            *neighbour_params,
            related + 2,
        ]
        from blog import compiled

        # As Django adapts a raw query's parameters (SQLite: the date as
        # stored, without its offset, or a post would precede itself); ids
        # and strings pass as they are.
        adapt = connection.ops.adapt_unknown_value
        params = [v if isinstance(v, int | str) else adapt(v) for v in params]
        with compiled.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [NearPost(*row) for row in cursor.fetchall()]
        same_section = [p for p in rows if p.section_id == post.section_id]
        before = [p for p in same_section if p.published_at < post.published_at]
        after = [p for p in same_section if p.published_at > post.published_at]
        previous = max(before, key=lambda p: p.published_at, default=None)
        following = min(after, key=lambda p: p.published_at, default=None)
        sharing = [p for p in rows if p.shared_tags]
        sharing.sort(key=lambda p: (-p.shared_tags, -p.published_at.timestamp()))
        return previous, following, sharing[:related]


_NOW_SQL: dict[str, str] = {}


def _now_sql() -> str:
    """The database clock as Django's Now() compiles it on this connection
    (STATEMENT_TIMESTAMP() on PostgreSQL), '%' escaped for the cursor;
    compiled once per database vendor."""
    sql = _NOW_SQL.get(connection.vendor)
    if sql is None:
        compiler = Post.objects.none().query.get_compiler(connection=connection)
        sql, _params = compiler.compile(Now())  # no parameters
        _NOW_SQL[connection.vendor] = sql
    return sql


class NearSection:
    """A section as an article's related list shows it (its name)."""

    __slots__ = ("id", "name", "slug")

    def __init__(self, id, name, slug):
        self.id, self.name, self.slug = id, name, slug

    @property
    def pk(self):
        return self.id

    def get_absolute_url(self):
        return reversing.reverse("blog:section", kwargs={"slug": self.slug})


class NearPost:
    """A post next to an article (previous, next, related: `around()`): its
    title, address and section, read as a row, not a model instance."""

    __slots__ = (
        "id",
        "published_at",
        "section",
        "section_id",
        "shared_tags",
        "slug",
        "title",
    )

    def __init__(self, id, title, slug, published_at, section_id, *rest):
        section_name, section_slug, shared_tags = rest
        if isinstance(published_at, str):  # SQLite without declared types
            published_at = parse_datetime(published_at)
        if settings.USE_TZ and timezone.is_naive(published_at):
            published_at = timezone.make_aware(published_at, UTC)
        self.id, self.title, self.slug = id, title, slug
        self.published_at, self.section_id = published_at, section_id
        self.section = NearSection(section_id, section_name, section_slug)
        self.shared_tags = shared_tags

    @property
    def pk(self):
        return self.id

    def url_kwargs(self) -> dict:
        return Post.url_kwargs(self)

    def get_absolute_url(self):
        return Post.get_absolute_url(self)

    def __repr__(self):
        return f"<NearPost {self.id}: {self.title}>"


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        # Submitted by its author; not public until an editor publishes it.
        REVIEW = "review", _("In review")
        PUBLISHED = "published", _("Published")
        # Withdrawn by an editor (blog/corrections.py): 410 with a notice.
        RETRACTED = "retracted", _("Retracted")

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
    # body_html with every URL absolute against FEED_ORIGIN: feeds need
    # absolute URLs, and parsing HTML per item per request is their main cost.
    # Stored uncompressed on PostgreSQL (STORAGE EXTERNAL, migration 0024):
    # a feed reads twenty of them.
    feed_html = models.TextField(editable=False, default="")
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
    # A lead image from the media library (blog/media.py). When set, its
    # renditions and words are copied onto the columns above at save (and by
    # the job that makes them), so pages, feeds and metadata read the post
    # alone: no join, no query.
    lead_media = models.ForeignKey(
        "blog.MediaImage",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead_of",
        verbose_name=_("lead image from the library"),
        help_text=_(
            "Takes the place of an uploaded lead image; its alt text, caption "
            "and credit come from the library."
        ),
    )
    lead_image_credit = models.CharField(
        _("lead image credit"), max_length=200, blank=True
    )
    # IDs of the library images the body shows (`media:ID`), written at save.
    media_ids = models.JSONField(editable=False, default=list)
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
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("last edited by"),
    )
    tags = TaggableManager(
        through=TaggedPost, blank=True, ordering=["name"], verbose_name=_("tags")
    )
    # Corrections and retractions (blog/corrections.py). The notes are copied
    # here from the Correction rows, so the article reads them with the post.
    correction_notes = models.JSONField(editable=False, default=list)
    retracted_at = models.DateTimeField(
        _("retracted at"), null=True, blank=True, editable=False
    )
    retraction_reason = models.TextField(
        _("reason for the retraction"), blank=True, editable=False
    )
    # The curated front: pinned first on the home page and on its section's
    # page until these times, in `pin_position` order.
    pinned_home_until = models.DateTimeField(
        _("pinned on the home page until"),
        null=True,
        blank=True,
        help_text=_("Shown first on the home page until then (at most 4 pins)."),
    )
    pinned_section_until = models.DateTimeField(
        _("pinned on its section page until"),
        null=True,
        blank=True,
        help_text=_("Shown first on its section's page until then (at most 4 pins)."),
    )
    pin_position = models.PositiveSmallIntegerField(
        _("pin position"),
        default=1,
        help_text=_("1 is the lead story; pins are shown in this order."),
    )
    # The id feeds give this post when it came from elsewhere (a WordPress
    # GUID, or the id an exported site gave it): readers must not see an
    # imported archive as new items (issue 13). Empty: guid() computes one.
    feed_id = models.CharField(_("feed id"), max_length=255, blank=True, editable=False)
    # Filled on PostgreSQL only (weighted title/summary/body); SQLite searches
    # an FTS5 table instead (blog/search.py).
    search_vector = SearchVectorField(null=True, editable=False)
    # The post's card and its line in "From the desks", rendered at save with
    # the stamp of what else they depend on (blog/cards.py): listings use them
    # while the stamp is fresh and render the templates otherwise.
    card_html = models.TextField(editable=False, default="")
    desk_html = models.TextField(editable=False, default="")
    card_stamp = models.CharField(max_length=16, editable=False, default="")
    # The article's own parts (blog/articles.py), stored with the key of what
    # they were rendered from: its page uses them while the key is current.
    article_html = models.TextField(editable=False, default="")
    article_key = models.CharField(max_length=32, editable=False, default="")

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        get_latest_by = "published_at"
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        permissions = [
            ("publish_post", _("Can publish, schedule and unpublish any post"))
        ]
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
            # Stale listing cards, found by the worker's sweep (blog/cards.py).
            models.Index(fields=["card_stamp"], name="post_card_stamp_idx"),
            # The curated front: pins in force, and the validators' last expiry.
            models.Index(fields=["pinned_home_until"], name="post_pin_home_idx"),
            models.Index(
                fields=["section", "pinned_section_until"],
                name="post_pin_section_idx",
            ),
            # An article's neighbours and related posts, read by id from this
            # index alone on SQLite (PostQuerySet.around, INDEXED BY): the
            # row's status, date and section sit after its long texts, and
            # reading them walked their overflow pages for each candidate.
            models.Index(
                fields=["id", "status", "published_at", "section", "title", "slug"],
                name="post_around_idx",
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
        """Keeps the row consistent: times to the second (feeds, HTML and HTTP
        dates all speak whole seconds), the body rendered into its derived
        fields. What else a save implies runs afterwards, in `after_save`."""
        self.published_at = self.published_at.replace(microsecond=0)
        self.render_body()
        if self.lead_media_id:
            self.copy_lead_media()
        elif (
            not self.lead_image
            or self.loaded("lead_image") != self.lead_image.name
            or self.loaded("lead_media_id")
        ):
            # Renditions of another picture must not stand in for this one;
            # the queue makes the new ones (queue_renditions).
            self.lead_image_renditions = []
            if not self.lead_image:
                self.lead_image_credit = ""
        self.render_fragments()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *cards.CARD_FIELDS}
        super().save(*args, **kwargs)
        self.after_save()

    def get_absolute_url(self):
        return reversing.reverse("blog:post", kwargs=self.url_kwargs())

    def url_kwargs(self) -> dict:
        """The parts of its address: the day it went out, in the site's zone."""
        day = timezone.localdate(self.published_at)
        return {
            "year": day.year,
            "month": f"{day.month:02d}",
            "day": f"{day.day:02d}",
            "slug": self.slug,
        }

    def render_body(self, figures: dict | None = None):
        """The body's derived fields. Library images it refers to (`media:ID`)
        are read here in one query, unless the caller passes them (`figures`,
        as blog.media.figures_for gives them: a job re-rendering many posts)."""
        from blog.media import figures_for, media_ids_in

        ids = media_ids_in(self.body)
        if figures is None:
            figures = figures_for(ids) if ids else {}
        figures = {str(i): figures[str(i)] for i in ids if str(i) in figures}
        self.media_ids = [int(key) for key in figures]
        rendered = render_markdown(self.body, figures=figures or None)
        self.body_html = rendered.html
        self.body_text = rendered.text
        self.toc = rendered.toc
        self.word_count = rendered.word_count
        self.summary = self.summary.strip() or Truncator(rendered.text).words(40)
        self.feed_html = absolutize_urls(
            self.body_html, FEED_ORIGIN + self.get_absolute_url()
        )

    def render_fragments(self):
        """Its card and desk line (blog/cards.py), from the post as saved now:
        bylines read as stored (a new post has none yet: its owner's; the
        bylines' own saves refresh it), renditions as just decided."""
        derived = ("byline", "byline_list", "lead_image_sources", "lead_image_default")
        for name in derived:
            self.__dict__.pop(name, None)
        if self.pk is None:
            self.byline_list = []
        try:
            cards.fill(self)
        finally:
            for name in derived:  # read again after the save, as before
                self.__dict__.pop(name, None)

    def copy_lead_media(self):
        """The library lead image's renditions and words onto the post's lead
        image columns (pages read those, never the library row)."""
        image = self.lead_media
        if image is None:
            return
        self.lead_image_renditions = image.renditions
        self.lead_image_alt = image.alt
        self.lead_image_caption = image.caption
        self.lead_image_credit = image.credit

    def lead_media_columns(self) -> dict:
        if not self.lead_media_id:
            return {}
        return {
            "lead_image_renditions": self.lead_image_renditions,
            "lead_image_alt": self.lead_image_alt,
            "lead_image_caption": self.lead_image_caption,
            "lead_image_credit": self.lead_image_credit,
        }

    def after_save(self):
        """The named steps a save implies, in order, from this one place."""
        self.record_slug_history()
        self.record_media_uses()
        self.queue_renditions()
        afterwards = self.index_for_search()
        if afterwards:
            Post.objects.filter(pk=self.pk).update(**afterwards)
        self.store_article()
        self._loaded = {
            f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields
        }
        self._loaded["lead_image"] = self.lead_image.name

    def store_article(self):
        """Its article's own parts (blog/articles.py), read back as the page
        reads the row: after the save, so with its final `updated_at`."""
        if self.status == self.Status.PUBLISHED:
            from blog import articles

            articles.refresh_later([self.pk])

    def record_slug_history(self):
        """A changed slug keeps answering (OldSlug); a reused one stops."""
        old_slug = self.loaded("slug")
        if old_slug and old_slug != self.slug:
            OldSlug.objects.update_or_create(slug=old_slug, defaults={"post": self})
        OldSlug.objects.filter(slug=self.slug).delete()

    def record_media_uses(self):
        """Which library images the body shows (blog/media.py MediaUse), so
        their changes re-render this post; written only when that changed."""
        if sorted(self.media_ids) != sorted(self.loaded("media_ids") or []):
            from blog.media import record_uses

            record_uses(self, self.media_ids)

    def queue_renditions(self):
        """Resized lead images are slow to make: the job queue makes them
        (blog/tasks.py), after the save so an upload is already stored under
        its final name; pages show no picture until then."""
        from blog import tasks

        image = self.lead_image.name
        if (
            image
            and not self.lead_media_id
            and (not self.lead_image_renditions or self.loaded("lead_image") != image)
        ):
            tasks.make_lead_renditions.enqueue(self.pk, image)

    def index_for_search(self) -> dict:
        """PostgreSQL's weighted search vector (SQLite's FTS5 table follows by
        trigger, blog/search.py). Returns the columns to write."""
        if connection.vendor != "postgresql":
            return {}
        return {"search_vector": weighted_search_vector()}

    def loaded(self, field: str):
        """A field's value as it was read from the database (None if new)."""
        return getattr(self, "_loaded", {}).get(field)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    @property
    def is_live(self) -> bool:
        return (
            self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()
        )

    @property
    def state(self) -> str:
        """draft, review, scheduled or live: what an editor needs at a glance."""
        if self.status == self.Status.DRAFT:
            return "draft"
        if self.status == self.Status.REVIEW:
            return "review"
        if self.status == self.Status.RETRACTED:
            return "retracted"
        return "live" if self.is_live else "scheduled"

    STATE_LABELS = {
        "draft": pgettext_lazy("post state", "draft"),
        "review": pgettext_lazy("post state", "in review"),
        "scheduled": pgettext_lazy("post state", "scheduled"),
        "live": pgettext_lazy("post state", "live"),
        "retracted": pgettext_lazy("post state", "retracted"),
    }

    @property
    def state_label(self) -> str:
        """The state in the site's language, for the admin and the preview banner."""
        return self.STATE_LABELS[self.state]

    def was_live_when_loaded(self) -> bool:
        published_at = self.loaded("published_at")
        return (
            self.loaded("status") == self.Status.PUBLISHED
            and published_at is not None
            and published_at <= timezone.now()
        )

    @property
    def is_retracted(self) -> bool:
        return self.status == self.Status.RETRACTED

    @cached_property
    def corrections_shown(self) -> list:
        """Its correction notes, oldest first, read from its own row."""
        from blog.corrections import CorrectionNote

        return [
            CorrectionNote.from_json(note, post=self)
            for note in self.correction_notes or []
        ]

    @property
    def reading_minutes(self) -> int:
        return reading_minutes(self.word_count)

    @cached_property
    def standfirst(self) -> str:
        """The summary, when it says something the body does not start with:
        a summary taken from the body (or pasted from it) would repeat the
        first paragraph right above it (issue 10)."""
        summary = _words(self.summary.rstrip("…. "))
        opening = _opening_words(self.body_text, len(summary))
        return "" if summary == opening else self.summary

    @property
    def has_toc(self) -> bool:
        """A table of contents earns its place from two sub-sections up."""
        return sum(1 for entry in self.toc if entry["level"] == 2) >= 2

    @property
    def modified(self):
        """What counts as modified, everywhere (feeds, sitemaps, JSON-LD, Open
        Graph, validators): the later of publication and the last save of the
        post or of one of its story updates (each moves `updated_at`)."""
        return max(self.published_at, self.updated_at)

    def last_updated(self, updates):
        """What the byline says as "Updated": the newest story update
        (`updates` newest first, as shown above the body), the newest
        correction or, for an edit after publication, `modified`, whichever is
        later."""
        changes = [update.published_at for update in updates[:1]]
        changes += [note.noted_at for note in self.corrections_shown[-1:]]
        if self.was_updated:
            changes.append(self.modified)
        return max(changes, default=None)

    def attach_tags(self, tags: list[dict]) -> None:
        """Serve `tags.all()` from already-read rows, as prefetch_related does."""
        queryset = Tag.objects.all()
        queryset._result_cache = sorted(
            (Tag(id=t["id"], name=t["name"], slug=t["slug"]) for t in tags),
            key=lambda tag: tag.name,
        )
        queryset._prefetch_done = True
        if not hasattr(self, "_prefetched_objects_cache"):
            self._prefetched_objects_cache = {}
        self._prefetched_objects_cache["tags"] = queryset
        self._tags_attached = True

    @property
    def owner_name(self) -> str:
        return self.author.get_full_name() or self.author.get_username()

    @cached_property
    def byline(self) -> list[Credit]:
        """Who the post credits, in byline order, each with their page: read
        with the post (`with_bylines()`) or else here, in one query. A post
        without bylines credits its owner, without a page."""
        if hasattr(self, "byline_list"):
            rows = sorted(
                self.byline_list or [], key=lambda r: (r["position"], r["name"])
            )
            credits = [
                Credit(
                    r["name"],
                    reversing.reverse("blog:author", kwargs={"slug": r["slug"]}),
                )
                for r in rows
            ]
        else:
            credits = [
                Credit(b.author.display_name, b.author.get_absolute_url())
                for b in self.bylines.select_related("author")
            ]
        return credits or [Credit(self.owner_name, "")]

    @property
    def author_name(self) -> str:
        """Every credited name, as one line ("A, B and C")."""
        names = [credit.name for credit in self.byline]
        if len(names) == 1:
            return names[0]
        return _("%(names)s and %(last)s") % {
            "names": ", ".join(names[:-1]),
            "last": names[-1],
        }

    @property
    def toc_tree(self) -> list[dict]:
        """The table of contents as a tree: each heading with the deeper
        headings after it as `children` (sub-sections under their section)."""
        root: list[dict] = []
        stack: list[tuple[int, list]] = [(0, root)]
        for entry in self.toc:
            while len(stack) > 1 and stack[-1][0] >= entry["level"]:
                stack.pop()
            node = {**entry, "children": []}
            stack[-1][1].append(node)
            stack.append((entry["level"], node["children"]))
        return root

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
        """A feed id that survives slug, date and section changes (RFC 4151
        tag URI), or the one an imported post kept from its old site."""
        return self.feed_id or tag_uri(f"post:{self.pk}", self.created_at)


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


@dataclass(frozen=True)
class Credit:
    """One name in a byline and the address of its author page ("" if none)."""

    name: str
    url: str


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
    # body_html with every URL absolute against FEED_ORIGIN and its story's
    # path when saved (`feed_path`): its story feed uses it while the story
    # still has that path, and parses body_html per request otherwise (a
    # story feed of 20 updates spent 8 ms parsing them; issue 8).
    feed_html = models.TextField(editable=False, default="")
    feed_path = models.CharField(max_length=300, editable=False, default="")
    feed_id = models.CharField(_("feed id"), max_length=255, blank=True, editable=False)
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
        self.render_feed_html()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return f"{self.post.get_absolute_url()}#{self.anchor}"

    def render_feed_html(self):
        """`feed_html` and `feed_path` from body_html and the story's address."""
        self.feed_path = self.post.get_absolute_url()
        self.feed_html = absolutize_urls(self.body_html, FEED_ORIGIN + self.feed_path)

    @property
    def anchor(self) -> str:
        return f"update-{self.pk}"

    @property
    def modified(self):
        return max(self.published_at, self.updated_at)

    @property
    def summary(self) -> str:
        return Truncator(html_to_text(self.body_html)).words(40)

    def guid(self) -> str:
        return self.feed_id or tag_uri(f"update:{self.pk}", self.created_at)


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


class ArchiveMonth(models.Model):
    """How many posts an editor has published (live or scheduled) in each UTC
    month: what /archive/ and the year pages read instead of every post.

    Kept by database triggers on blog_post (blog/archive.py), so bulk inserts,
    queryset updates and deletions count too; restored after every migrate.
    Scheduled posts are taken off when read (blog/archive.months), so a post
    still goes live on time without a job.
    """

    month = models.DateField(primary_key=True)
    posts = models.IntegerField(default=0)

    class Meta:
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m}: {self.posts}"


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


class PostPublicDate(models.Model):
    """SQLite only: each post's `public_from` (its published_at while its
    status is published, else NULL) in a narrow table keyed by post id, for
    search's per-hit public check (blog/search.py): reading status and date
    from blog_post walks every overflow page of the long columns stored
    before them. Unmanaged: blog.search.ensure_sqlite_index creates it and
    the triggers that keep it."""

    post = models.OneToOneField(
        Post,
        primary_key=True,
        db_column="id",
        on_delete=models.DO_NOTHING,
        related_name="+",
    )
    public_from = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "blog_post_public"

    def __str__(self):
        return f"public date of post {self.pk}"


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


# Author profiles and bylines live in their own module (blog/authors.py).
from blog.authors import Author, Byline  # noqa: E402, F401
from blog.corrections import Correction  # noqa: E402, F401
from blog.legacy import ImportedImage, LegacyAddress  # noqa: E402, F401
from blog.media import MediaImage, MediaUse  # noqa: E402, F401
from blog.pages import Page  # noqa: E402, F401
from blog.tag_moves import OldTagSlug  # noqa: E402, F401
