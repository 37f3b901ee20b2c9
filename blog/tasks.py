"""Jobs for the queue (django-tasks, database backend): WebSub pings, lead-image
renditions, imports of large files — work that must neither block a request
nor die with one (issue 11).

Delivery is at least once: a job whose worker died is put back (`sweep`), and
a ping recorded with a change but never queued is queued again. So every job
is idempotent: a ping is claimed before it is sent and marked when sent, so a
hub hears about a change once however many workers compete; renditions are
named by their content, so making them twice stores nothing new.

The framework has no retries of its own: a job that fails for a reason that
may pass (the hub or the storage is down) queues itself again with
`run_after` and an exponential back-off (`retry_later`).
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task
from PIL import UnidentifiedImageError

from blog import articles, cards, images, services

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_CAP = timedelta(hours=1)
# A job still "running" after this long has lost its worker.
JOB_LEASE = timedelta(minutes=10)
# How far back the worker looks for scheduled posts that came due.
DUE_LOOKBACK = timedelta(days=7)
# Sent pings and finished jobs are kept this long (for the record), then pruned;
# longer than DUE_LOOKBACK, so a post's "went live" ping is never sent twice.
KEEP_FINISHED = timedelta(days=30)


def backoff(attempt: int) -> timedelta:
    """10 s, 20 s, 40 s… up to an hour, with jitter so retries spread out
    (DATELINE_RETRY_BASE_SECONDS sets the first step)."""
    base = timedelta(seconds=settings.DATELINE.get("RETRY_BASE_SECONDS", 10))
    delay = min(base * 2 ** max(attempt - 1, 0), BACKOFF_CAP)
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - not for secrets


def ping_lease() -> timedelta:
    """How long a claimed ping is another worker's (longer than one attempt
    can take: a 5 s timeout), and how long after it was due a ping nobody
    claimed counts as lost (DATELINE_QUEUE_LEASE_SECONDS, default 60)."""
    return timedelta(seconds=settings.DATELINE.get("QUEUE_LEASE_SECONDS", 60))


def retry_later(job, at: datetime, *args, **kwargs) -> bool:
    """Queue `job` again to run at `at`; False where the backend cannot defer
    (the immediate backend, which has no worker to come back)."""
    if not job.get_backend().supports_defer:
        return False
    job.using(run_after=at).enqueue(*args, **kwargs)
    return True


def live_key(post) -> str:
    """One key per post per publication time: whoever notices that the post went
    live (its save, or the worker when a scheduled time comes) records this."""
    return f"post:{post.pk}:live:{post.published_at:%Y%m%dT%H%M%S}"


def record_ping(post_id: int, key: str | None, urls: list[str]):
    """Write the ping down with the change, and queue its sending after commit.
    A `key` already recorded (the same change noticed twice) is not recorded
    again; without one, every call is a change of its own."""
    from blog.models import Ping

    key = key or f"post:{post_id}:change:{uuid.uuid4().hex}"
    ping, created = Ping.objects.get_or_create(
        key=key, defaults={"post_id": post_id, "urls": urls}
    )
    if created:
        transaction.on_commit(lambda: send_ping.enqueue(ping.pk))
    return ping


@task()
def send_ping(ping_id: int) -> str:
    """Send one recorded ping, unless it is sent, or another worker holds it."""
    from blog.models import Ping

    now = timezone.now()
    claimed = (
        Ping.objects.filter(pk=ping_id, sent_at=None, next_attempt_at__lte=now)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + ping_lease())
    )
    if not claimed:
        return "not claimed"
    ping = Ping.objects.get(pk=ping_id)
    ping.attempts += 1
    hub = services.hub_url()
    urls = ping.urls or services.feed_urls_of(ping.post_id)
    if hub is None or not urls:
        # Nothing to tell (no hub any more, or a post gone without a trace).
        Ping.objects.filter(pk=ping_id).update(
            sent_at=timezone.now(), claimed_until=None, attempts=ping.attempts
        )
        return "nothing to send"
    try:
        services.ping_hub(hub, urls)
    except services.PingFailed as error:
        if ping.attempts >= MAX_ATTEMPTS:
            logger.error("%s; gave up after %d attempts", error, ping.attempts)
            Ping.objects.filter(pk=ping_id).update(
                claimed_until=None, next_attempt_at=None, attempts=ping.attempts
            )
            return "gave up"
        at = timezone.now() + backoff(ping.attempts)
        logger.warning("%s; attempt %d, next at %s", error, ping.attempts, at)
        Ping.objects.filter(pk=ping_id).update(
            claimed_until=None, next_attempt_at=at, attempts=ping.attempts
        )
        retry_later(send_ping, at, ping_id)
        return "retry"
    Ping.objects.filter(pk=ping_id).update(
        sent_at=timezone.now(), claimed_until=None, attempts=ping.attempts
    )
    return "sent"


def renditions_or_retry(job, name: str, attempt: int, owner_id: int) -> list | str:
    """The renditions of the stored image `name`, or what became of the try:
    "refused" (the file itself is wrong: trying again will not help), "retry"
    (storage failed: `job(owner_id, name)` is queued again with back-off) or
    "gave up" after MAX_ATTEMPTS."""
    try:
        return images.make_renditions(name)
    except (ValidationError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        logger.error("No renditions for %s: %s", name, error)
        return "refused"
    except OSError as error:  # a missing file, or storage unreachable
        if attempt >= MAX_ATTEMPTS:
            logger.error(
                "No renditions for %s after %d attempts: %s", name, attempt, error
            )
            return "gave up"
        at = timezone.now() + backoff(attempt)
        logger.warning("Renditions of %s failed (%s); again at %s", name, error, at)
        retry_later(job, at, owner_id, name, attempt=attempt + 1)
        return "retry"


@task()
def make_lead_renditions(post_id: int, name: str, attempt: int = 1) -> str:
    """Renditions of a post's lead image `name`, unless it has changed since."""
    from blog.models import Post, SiteState

    post = Post.objects.filter(pk=post_id).only("pk", "lead_image").first()
    if post is None or post.lead_image.name != name:
        return "superseded"
    renditions = renditions_or_retry(make_lead_renditions, name, attempt, post_id)
    if isinstance(renditions, str):
        return renditions
    if Post.objects.filter(pk=post_id, lead_image=name).update(
        lead_image_renditions=renditions, card_stamp=""
    ):
        # Its card and its article show the picture now (blog/cards.py,
        # blog/articles.py).
        cards.refresh([post_id])
        articles.refresh([post_id])
        # Pages showing the post change (blog/caching.py reads SiteState).
        SiteState.touch()
    return "made"


@task()
def make_media_renditions(image_id: int, name: str, attempt: int = 1) -> str:
    """Renditions of a library image (blog/media.py), unless its file has
    changed since; then the posts showing it are rendered again."""
    from blog.media import MediaImage

    image = MediaImage.objects.filter(pk=image_id).only("pk", "file").first()
    if image is None or image.file.name != name:
        return "superseded"
    renditions = renditions_or_retry(make_media_renditions, name, attempt, image_id)
    if isinstance(renditions, str):
        return renditions
    if MediaImage.objects.filter(pk=image_id, file=name).update(renditions=renditions):
        from blog.authors import Author

        # Author pages show the photo's smallest rendition (copied, no join).
        Author.objects.filter(photo_media_id=image_id).update(
            photo_renditions=renditions
        )
        rerender_media_posts.call([image_id])
    return "made"


RERENDER_BATCH = 200
# Stale cards stored again per sweep (~0.4 ms each): bounded, so a deploy
# that changed the card's template does not hold the sweep for minutes.
SWEEP_CARDS = 1000


@task()
def rerender_media_posts(image_ids: list[int]) -> str:
    """Render again the posts whose body or lead shows one of `image_ids`
    (their figures or lead image copy the library's renditions and words)."""
    from blog.models import Post

    using = Q(media_uses__image_id__in=image_ids) | Q(lead_media_id__in=image_ids)
    ids = sorted(set(Post.objects.filter(using).values_list("pk", flat=True)))
    return rerender_posts.call(ids)


@task()
def rerender_posts(post_ids: list[int]) -> str:
    """Render the bodies of `post_ids` again with the library as it is now,
    in batches of RERENDER_BATCH posts with one image query per batch.
    Rendering only: `updated_at` stays (a new rendition is not an update
    to the story); SiteState is touched so cached pages follow."""
    from blog.media import figures_for, media_ids_in
    from blog.models import Post, SiteState

    ids = sorted(set(post_ids))
    for start in range(0, len(ids), RERENDER_BATCH):
        batch = list(
            Post.objects.filter(pk__in=ids[start : start + RERENDER_BATCH])
            .select_related("lead_media")
            .defer("search_vector")
        )
        wanted = {i for post in batch for i in media_ids_in(post.body)}
        figures = figures_for(wanted)
        for post in batch:
            post.render_body(figures=figures)
            post.copy_lead_media()
            Post.objects.filter(pk=post.pk).update(
                body_html=post.body_html,
                body_text=post.body_text,
                feed_html=post.feed_html,
                toc=post.toc,
                word_count=post.word_count,
                media_ids=post.media_ids,
                **post.lead_media_columns(),
                card_stamp="",  # its card shows the word count and lead image
            )
        cards.refresh(ids[start : start + RERENDER_BATCH])
        articles.refresh(ids[start : start + RERENDER_BATCH])
    if ids:
        SiteState.touch()
    return f"rendered {len(ids)}"


@task()
def refresh_fragments() -> str:
    """Stores again the listing fragments (blog/cards.py) and article parts
    (blog/articles.py) of every post whose
    stamp is not the current one: queued when a section, an author or an
    owner renamed touches many posts (their stamps were cleared in the same
    transaction, so listings render them live meanwhile). Idempotent."""
    return f"refreshed {cards.refresh()} cards, {articles.refresh()} articles"


@task()
def import_markdown_text(text: str, origin: str, author_id: int | None = None) -> str:
    """Import one Markdown file's text (queued by `import_markdown --queue`)."""
    from django.contrib.auth import get_user_model

    from blog.importing import ImportProblem, import_markdown

    author = (
        get_user_model().objects.filter(pk=author_id).first() if author_id else None
    )
    try:
        imported = import_markdown(text, author=author)
    except ImportProblem as error:
        logger.error("Import of %s failed: %s", origin, error)
        return f"failed: {error}"
    return f"{'created' if imported.created else 'updated'} {imported.post.get_absolute_url()}"


def sweep(since: datetime | None = None) -> dict[str, int]:
    """What a worker does every few seconds besides running jobs; safe when
    several workers do it at once (keys are unique, claims are atomic).

    - scheduled posts that came due (since `since`, at most DUE_LOOKBACK
      ago) get their "went live" ping;
    - pings recorded but never sent (their job was lost) are queued again;
    - jobs whose worker died mid-run are put back in the queue;
    - sent pings and finished jobs older than KEEP_FINISHED are deleted;
    - up to SWEEP_CARDS stale listing cards are stored again (after a deploy
      that changed their template, pages render them live until then;
      `manage.py rerender` does them all at once).
    """
    from blog.models import Ping, Post

    now = timezone.now()
    counts = {"due": 0, "requeued_pings": 0, "requeued_jobs": 0, "pruned": 0}
    if services.hub_url() is not None:
        oldest = max(since, now - DUE_LOOKBACK) if since else now - DUE_LOOKBACK
        due = list(
            Post.objects.published()
            .filter(published_at__gt=oldest)
            .only("pk", "published_at")
        )
        keys = {live_key(post): post for post in due}
        known = set(Ping.objects.filter(key__in=keys).values_list("key", flat=True))
        missing = [
            Ping(key=key, post_id=post.pk)
            for key, post in keys.items()
            if key not in known
        ]
        Ping.objects.bulk_create(missing, ignore_conflicts=True)
        # Whoever enqueues, one worker sends: send_ping claims first.
        for ping in Ping.objects.filter(key__in=[p.key for p in missing], sent_at=None):
            send_ping.enqueue(ping.pk)
        counts["due"] = len(missing)
    lost = list(
        Ping.objects.filter(sent_at=None, next_attempt_at__lte=now - ping_lease())
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .values_list("pk", flat=True)[:500]
    )
    if lost:
        # Moved forward, so the next sweep leaves them to these jobs.
        Ping.objects.filter(pk__in=lost).update(next_attempt_at=now)
        for ping_id in lost:
            send_ping.enqueue(ping_id)
    counts["requeued_pings"] = len(lost)
    counts["cards"] = cards.refresh(limit=SWEEP_CARDS)
    if settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend":
        from django_tasks_db.models import DBTaskResult

        counts["requeued_jobs"] = (
            DBTaskResult.objects.running()
            .filter(started_at__lt=now - JOB_LEASE)
            .update(status="READY", started_at=None)
        )
        counts["pruned"] += (
            DBTaskResult.objects.finished()
            .filter(finished_at__lt=now - KEEP_FINISHED)
            .delete()[0]
        )
    counts["pruned"] += Ping.objects.filter(sent_at__lt=now - KEEP_FINISHED).delete()[0]
    return counts


@task()
def notify_editors_of_review(post_id: int, review_url: str) -> str:
    """Email the Editors that a piece waits for their review (issue 7)."""
    from django.core.mail import send_mail
    from django.utils import translation
    from django.utils.translation import gettext as _

    from blog.models import Post
    from blog.roles import review_recipients

    post = Post.objects.select_related("author").filter(pk=post_id).first()
    recipients = review_recipients()
    if post is None or post.status != Post.Status.REVIEW or not recipients:
        return "not sent"
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "title": post.title,
            "author": post.author_name,
            "url": review_url,
        }
        send_mail(
            subject=_("For review: %(title)s") % values,
            message=_(
                "%(author)s submitted “%(title)s” for review.\n\n"
                "Review and publish it here: %(url)s\n"
            )
            % values,
            from_email=None,
            recipient_list=recipients,
        )
    return f"sent to {len(recipients)}"
