"""`manage.py generate_posts N`: a realistic archive, fast, for scale tests and
`make bench` (issue 8, "Scale").

Posts are bulk-inserted in batches inside one transaction per batch, with
body_html, text, outline and word count already rendered (blog/generating.py
explains how it stays exact and fast) and their card, desk line and article
parts rendered too, by writer processes (one per core) while this process
inserts (`Writer`), tags through TaggedPost, story updates
on about one post in twenty, and the search index kept right: SQLite's FTS5
triggers fire on the inserts; on PostgreSQL each batch gets its search vector
in one UPDATE. Bulk inserts send no signals, so the command touches SiteState
once at the end: every validator moves and no cached page survives.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone, translation
from django.utils.text import slugify

from blog import articles, cards
from blog.generating import SECTIONS, Newsroom, author_names, tag_names
from blog.markup import absolutize_urls
from blog.models import (
    FEED_ORIGIN,
    ArchiveMonth,
    Byline,
    Post,
    Section,
    SiteState,
    StoryUpdate,
    Tag,
    TaggedPost,
    weighted_search_vector,
)

AUTHOR_PREFIX = "generated-"
MAX_POSTS = 1_000_000
# Writer processes, and how many batches are being written ahead of the
# inserts (each writer has one in hand and one waiting).
WRITERS = 2
AHEAD = 2 * WRITERS


def generated_authors() -> list:
    """The generated newsroom's reporters, created once (no usable password)."""
    users = []
    for first, last in author_names():
        username = f"{AUTHOR_PREFIX}{slugify(first)}-{slugify(last)}"
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users.append(user)
    return users


def generated_sections() -> list[Section]:
    sections = []
    for position, (name, description) in enumerate(SECTIONS):
        section = Section.objects.filter(name=name).first()
        if section is None:
            section = Section.objects.create(
                name=name,
                slug=slugify(name),
                description=description,
                position=position,
            )
        sections.append(section)
    return sections


def generated_tags() -> list[Tag]:
    """Every generated tag, existing ones reused by name whatever their case."""
    existing = {tag.name.lower(): tag for tag in Tag.objects.all()}
    missing = [
        Tag(name=name, slug=Tag().slugify(name))
        for name in tag_names()
        if name.lower() not in existing
    ]
    Tag.objects.bulk_create(missing)
    existing.update({tag.name.lower(): tag for tag in missing})
    return [existing[name.lower()] for name in tag_names()]


class Writer:
    """What a writer process makes of a batch: every column of each post's
    row, rendered (body, feed copy, card and desk line, article parts with
    their key), its tags and its story updates. No database: the sections,
    owners and tags were read before the fork, and the rows' `updated_at` is
    decided up front (`stamped_at`), so the stored article parts and their
    key are what `articles.refresh` would store after the insert."""

    def __init__(self, seed, authors, sections, tags, stamped_at):
        self.newsroom = Newsroom(seed)
        self.authors, self.sections, self.tags = authors, sections, tags
        self.stamped_at = stamped_at

    def rows(self, numbers, ids, moments):
        with translation.override(settings.LANGUAGE_CODE):
            return [self.row(*args) for args in zip(numbers, ids, moments, strict=True)]

    def row(self, number, pk, moment):
        g = self.newsroom.post(number)
        post = Post(
            id=pk,
            title=g.title,
            slug=f"{slugify(g.title)[:180]}-{g.number}",
            section=self.sections[g.section],
            author=self.authors[g.author],
            summary=g.summary,
            body=g.body,
            body_html=g.body_html,
            body_text=g.body_text,
            toc=as_read_back(g.toc),
            word_count=g.word_count,
            status=Post.Status.PUBLISHED,
            published_at=moment.replace(microsecond=0),
            updated_at=self.stamped_at,
        )
        url = post.get_absolute_url()
        # Generated bodies link only to their own headings ("#id"), so the
        # feed copy is body_html with those links made absolute: what
        # Post.render_body's absolutize_urls gives (the test compares rows
        # with save()'s), without parsing 100,000 bodies at ~5 ms each.
        post.feed_html = post.body_html.replace('href="#', f'href="{FEED_ORIGIN}{url}#')
        # Its card and desk line as save() stores them (blog/cards.py): no
        # bylines yet, so the owner is credited.
        post.byline_list = []
        cards.fill(post)
        # Its article parts as articles.refresh() stores them, from the row as
        # the page will read it (tags as with_tags() gives them).
        post.tag_list = [
            {"id": tag.pk, "name": tag.name, "slug": tag.slug}
            for tag in (self.tags[i] for i in g.tags)
        ]
        post.attach_tags(post.tag_list)
        post.article_html = articles.render_article(post)
        post.article_key = articles.article_key(post)
        latest = self.stamped_at - timedelta(seconds=30)
        updates = [
            {
                "body": update.body,
                "body_html": update.body_html,
                # What StoryUpdate.render_feed_html stores (a few per story).
                "feed_path": url,
                "feed_html": absolutize_urls(update.body_html, FEED_ORIGIN + url),
                "published_at": min(
                    post.published_at + timedelta(hours=update.hours_after), latest
                ),
            }
            for update in g.updates
        ]
        columns = {name: getattr(post, name) for name in ROW_COLUMNS}
        return columns, [self.tags[i].pk for i in g.tags], updates


# The columns a writer fills (the others keep their defaults).
ROW_COLUMNS = (
    "id",
    "title", "slug", "section_id", "author_id", "summary", "body", "body_html",
    "body_text", "toc", "word_count", "status", "published_at", "updated_at",
    "feed_html", "card_html", "desk_html", "card_stamp", "article_html",
    "article_key",
)  # fmt: skip

_writer: Writer | None = None


def as_read_back(value):
    """JSON with its objects' keys in the order every database gives them
    back: PostgreSQL's jsonb orders them (shorter first, then bytewise), the
    others keep them as written. The article's key digests the outline as
    the page reads it, so the writers digest it in that order too."""
    if isinstance(value, dict):
        return {
            key: as_read_back(value[key])
            for key in sorted(value, key=lambda key: (len(key.encode()), key.encode()))
        }
    if isinstance(value, list):
        return [as_read_back(item) for item in value]
    return value


def _start_writer(*args) -> None:
    """In each forked writer: its Writer, and a guard on the database
    connections inherited from the parent. They are left open and untouched
    (closing one would end the parent's session: on PostgreSQL, its test
    transaction) and any query through them fails at once instead of
    interleaving with the parent's."""
    global _writer
    _writer = Writer(*args)
    for alias in connections:
        connections[alias].execute_wrappers.append(_no_queries)


def _no_queries(execute, sql, params, many, context):
    raise RuntimeError(f"generate_posts: a writer process queried the database: {sql}")


def generate(numbers, ids, moments):
    """In a writer process: the rows of the articles numbered `numbers` (the
    same article for the same seed and number, whichever process writes it)."""
    return _writer.rows(numbers, ids, moments)


def reserve_ids(count: int) -> int:
    """The first of `count` consecutive post ids no one else will be given
    (the article parts show them, so they are decided before the insert).
    PostgreSQL: the sequence is moved past them at once, so a post saved
    meanwhile takes the next one after. SQLite gives the next insert
    max(id) + 1 (or more, AUTOINCREMENT), which inserting them moves."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('blog_post', 'id'), "
                "nextval(pg_get_serial_sequence('blog_post', 'id')) + %s - 1)",
                [max(count, 1)],
            )
            return cursor.fetchone()[0] - max(count, 1) + 1
        cursor.execute(
            "SELECT MAX(seq) FROM (SELECT MAX(id) AS seq FROM blog_post UNION ALL "
            "SELECT seq FROM sqlite_sequence WHERE name = 'blog_post')"
        )
        return (cursor.fetchone()[0] or 0) + 1


@contextmanager
def _updated_at_as_given():
    """bulk_create keeps the rows' own `updated_at` (the writers rendered the
    article parts with it) instead of auto_now's clock; only for this
    single-threaded command, restored at once."""
    field = Post._meta.get_field("updated_at")
    field.auto_now = False
    try:
        yield
    finally:
        field.auto_now = True


@contextmanager
def _bulk_load():
    """SQLite only, for the load's own connection: no fsync at each batch's
    commit (a crash loses the generated rows, which a rerun makes again) and
    a larger page cache. Restored afterwards. Not inside a transaction (a
    test's): SQLite refuses to change the safety level there."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")


class Progress:
    """A one-line progress bar on stderr (a line per 10% when not a terminal).
    `stream` is a command's OutputWrapper."""

    def __init__(self, total: int, stream):
        self.total, self.stream = total, stream
        self.started = time.perf_counter()
        self.tty = stream.isatty()
        self.shown_tenth = -1

    def show(self, done: int):
        elapsed = time.perf_counter() - self.started
        rate = done / elapsed if elapsed else 0
        left = (self.total - done) / rate if rate else 0
        width = 30
        filled = width * done // self.total if self.total else width
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{self.total:,} posts, "
            f"{rate:,.0f}/s, {elapsed:,.0f} s elapsed, ~{left:,.0f} s left"
        )
        tenth = 10 * done // self.total if self.total else 10
        if self.tty:
            self.stream.write("\r" + line, ending="")
            if done >= self.total:
                self.stream.write("")
        elif tenth != self.shown_tenth:
            self.stream.write(line)
        self.shown_tenth = tenth
        self.stream.flush()


class Command(BaseCommand):
    help = (
        "Add N generated, published articles (~1,200 words in ## sub-sections, "
        "sections, Zipf-distributed tags, story updates, dates spread over years) "
        "by bulk insert. Running it again adds N more with new slugs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "count", type=int, help=f"How many (at most {MAX_POSTS:,})."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--years", type=float, default=6, help="Spread over this many years."
        )
        parser.add_argument("--batch", type=int, default=500)
        parser.add_argument(
            "--clear",
            action="store_true",
            help="First delete every post by a generated author (slow for many "
            "posts: each deletion goes through the ORM and its signals).",
        )

    def handle(self, *args, count, seed, years, batch, clear, **options):
        if not 0 <= count <= MAX_POSTS:
            raise CommandError(f"count must be between 0 and {MAX_POSTS:,}.")
        if not 1 <= batch <= 5000:
            raise CommandError("--batch must be between 1 and 5,000.")
        if not 0 < years <= 100:
            raise CommandError("--years must be more than 0 and at most 100.")
        started = time.perf_counter()
        ours = Post.objects.filter(author__username__startswith=AUTHOR_PREFIX)
        if clear:
            with transaction.atomic():
                deleted, _ = ours.delete()
            self.stdout.write(f"Deleted {deleted:,} generated rows.")
        authors = generated_authors()
        sections = generated_sections()
        tags = generated_tags()
        first = ours.count()  # numbers (and so slugs) continue after earlier runs
        # Oldest first, so ids rise with publication time as on a real site;
        # the newest is a minute old, so everything is already public.
        end = timezone.now().replace(microsecond=0) - timedelta(minutes=1)
        step = timedelta(days=365.25 * years) / max(count, 1)
        progress = Progress(count, self.stderr)
        updates = 0
        batches = [
            range(first + start, first + min(start + batch, count))
            for start in range(0, count, batch)
        ]
        # Writer processes (one per core) render whole rows, batches ahead,
        # while this one only inserts them: rendering is most of the work and
        # each writer takes a core (as threads they would compete for the
        # GIL). The forked writers never touch the database (_start_writer).
        stamped_at = timezone.now().replace(microsecond=0)
        first_id = reserve_ids(count) - first
        with (
            ProcessPoolExecutor(
                max_workers=WRITERS,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_writer,
                initargs=(seed, authors, sections, tags, stamped_at),
            ) as writers,
            _bulk_load(),
        ):
            pending, done = deque(), 0
            for k, numbers in enumerate(batches):
                moments = [end - step * (count - 1 - (n - first)) for n in numbers]
                ids = [first_id + n for n in numbers]
                pending.append(writers.submit(generate, numbers, ids, moments))
                # Insert the oldest batch once enough are being written, and
                # the last ones when none are left to hand out.
                while pending and (len(pending) >= AHEAD or k == len(batches) - 1):
                    rows = pending.popleft().result()
                    updates += self.insert_batch(rows)
                    done += len(rows)
                    progress.show(done)
        SiteState.touch()
        if connection.vendor == "postgresql":
            self.analyze()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Generated {count:,} posts and {updates:,} story updates in "
            f"{elapsed:,.1f} s ({count / elapsed if elapsed else 0:,.0f} posts/s) "
            f"on {connection.vendor}."
        )

    @transaction.atomic
    def analyze(self):
        """What autovacuum would do soon anyway: plans with real statistics.
        Table by table, each within the statement timeout: one ANALYZE of the
        whole database outlasted it on a loaded machine (then autovacuum's
        own pass is left to do it)."""
        for model in (Post, TaggedPost, StoryUpdate, Byline, ArchiveMonth):
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
            except OperationalError as error:
                self.stderr.write(f"ANALYZE {model._meta.db_table} skipped: {error}")

    @transaction.atomic
    def insert_batch(self, rows):
        posts = [Post(**columns) for columns, _, _ in rows]
        with _updated_at_as_given():
            Post.objects.bulk_create(posts)
        if connection.vendor == "postgresql":
            # One UPDATE per batch: PostgreSQL rewrites only the small row
            # (the long texts stay where TOAST put them), which costs less
            # than building one search expression per row for the INSERT.
            Post.objects.filter(pk__in=[post.pk for post in posts]).update(
                search_vector=weighted_search_vector()
            )
        TaggedPost.objects.bulk_create(
            TaggedPost(content_object_id=post.pk, tag_id=tag_id)
            for post, (_, tag_ids, _) in zip(posts, rows, strict=True)
            for tag_id in tag_ids
        )
        story_updates = [
            StoryUpdate(post_id=post.pk, **update)
            for post, (_, _, updates) in zip(posts, rows, strict=True)
            for update in updates
        ]
        StoryUpdate.objects.bulk_create(story_updates)
        return len(story_updates)
