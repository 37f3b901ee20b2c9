"""`manage.py generate_posts N`: a realistic archive, fast, for scale tests and
`make bench` (issue 8, "Scale").

Posts are bulk-inserted in batches inside one transaction per batch, with
body_html, text, outline and word count already rendered (blog/generating.py
explains how it stays exact and fast), tags through TaggedPost, story updates
on about one post in twenty, and the search index kept right: SQLite's FTS5
triggers fire on the inserts; on PostgreSQL each batch gets its search vector
in one UPDATE. Bulk inserts send no signals, so the command touches SiteState
once at the end: every validator moves and no cached page survives.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError, connection, transaction
from django.utils import timezone
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


_newsroom: Newsroom | None = None


def _start_writer(seed: int) -> None:
    global _newsroom
    _newsroom = Newsroom(seed)


def generate(numbers):
    """In the writer process: the articles numbered `numbers` (the same
    article for the same seed and number, whichever process writes it)."""
    return [_newsroom.post(n) for n in numbers]


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
        # A second process writes the next batch's articles (text and
        # Markdown) while this one stores the current batch and renders its
        # cards and article parts: the two halves each take a core (as a
        # thread, the writer competed with the rendering for the GIL). The
        # forked child never touches the database, nor the connections it
        # inherits (closing them here would end this process's transaction).
        with ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_writer,
            initargs=(seed,),
        ) as writer:
            upcoming = writer.submit(generate, batches[0]) if batches else None
            done = 0
            for k, numbers in enumerate(batches):
                generated = upcoming.result()
                if k + 1 < len(batches):
                    upcoming = writer.submit(generate, batches[k + 1])
                moments = [end - step * (count - 1 - (n - first)) for n in numbers]
                updates += self.insert_batch(
                    generated, moments, authors, sections, tags
                )
                done += len(numbers)
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

    def insert_batch(self, generated, moments, authors, sections, tags):
        posts = [
            Post(
                title=g.title,
                slug=f"{slugify(g.title)[:180]}-{g.number}",
                section=sections[g.section],
                author=authors[g.author],
                summary=g.summary,
                body=g.body,
                body_html=g.body_html,
                body_text=g.body_text,
                toc=g.toc,
                word_count=g.word_count,
                status=Post.Status.PUBLISHED,
                published_at=moment.replace(microsecond=0),
            )
            for g, moment in zip(generated, moments, strict=True)
        ]
        for post in posts:
            # Generated bodies link only to their own headings ("#id"), so the
            # feed copy is body_html with those links made absolute: what
            # Post.render_body's absolutize_urls gives (the test compares rows
            # with save()'s), without parsing 100,000 bodies at ~5 ms each.
            post.feed_html = post.body_html.replace(
                'href="#', f'href="{FEED_ORIGIN}{post.get_absolute_url()}#'
            )
            # Its card and desk line as save() stores them (blog/cards.py):
            # no bylines yet, so the owner is credited.
            post.byline_list = []
            cards.fill(post)
        Post.objects.bulk_create(posts)
        if connection.vendor == "postgresql":
            # One UPDATE per batch: PostgreSQL rewrites only the small row
            # (the long texts stay where TOAST put them), which costs less
            # than building one search expression per row for the INSERT.
            Post.objects.filter(pk__in=[post.pk for post in posts]).update(
                search_vector=weighted_search_vector()
            )
        TaggedPost.objects.bulk_create(
            TaggedPost(content_object_id=post.pk, tag_id=tags[i].pk)
            for g, post in zip(generated, posts, strict=True)
            for i in g.tags
        )
        latest = timezone.now().replace(microsecond=0) - timedelta(seconds=30)
        story_updates = [
            StoryUpdate(
                post_id=post.pk,
                body=update.body,
                body_html=update.body_html,
                # What StoryUpdate.render_feed_html stores (a few per story).
                feed_path=post.get_absolute_url(),
                feed_html=absolutize_urls(
                    update.body_html, FEED_ORIGIN + post.get_absolute_url()
                ),
                published_at=min(
                    post.published_at + timedelta(hours=update.hours_after), latest
                ),
            )
            for g, post in zip(generated, posts, strict=True)
            for update in g.updates
        ]
        StoryUpdate.objects.bulk_create(story_updates)
        # Each article's own parts (blog/articles.py), now its tags are in.
        articles.refresh([post.pk for post in posts])
        return len(story_updates)
