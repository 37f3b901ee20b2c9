"""WebSub pings and renditions when content changes, and database preparation
after migrate.

Cache invalidation lives with the rest of caching, in blog/caching.py.
"""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from blog import services, tasks
from blog.models import Correction, Post, SiteState, StoryUpdate


@receiver(post_save, sender=Post)
def post_saved(sender, instance, created, raw=False, **kwargs):
    """A post that is live, or was until this save, changed its feeds."""
    if raw:
        return
    was_live = instance.was_live_when_loaded()
    if instance.is_live and not was_live:
        services.announce(instance.pk, tasks.live_key(instance))
    elif instance.is_live or was_live:
        services.announce(instance.pk)


@receiver(pre_delete, sender=Post)
def post_deleting(sender, instance, **kwargs):
    """A live post leaving tells the hub, with the feeds it leaves (computed
    now: once deleted, its section and tags are gone)."""
    if instance.is_live:
        urls = services.feed_urls_for(instance)
        services.announce(instance.pk, f"post:{instance.pk}:deleted", urls)


@receiver(post_save, sender=StoryUpdate)
@receiver(post_delete, sender=StoryUpdate)
@receiver(post_save, sender=Correction)
@receiver(post_delete, sender=Correction)
def story_updated(sender, instance, raw=False, **kwargs):
    if not raw:
        services.announce_on_commit(instance.post_id)


def drop_sqlite_triggers(sender, using, **kwargs):
    """Before migrate, on SQLite: drop the archive's and the tags' triggers
    (blog/archive.py, blog/tag_dates.py). A migration that rebuilds a table
    they name (SQLite copies it into a new table and renames that) fails on a
    trigger of another table with "no such table: main.blog_post";
    `prepare_database` makes them again afterwards and recomputes what they
    keep."""
    from django.db import connections

    from blog import archive, tag_dates

    conn = connections[using]
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        for name in [*archive._SQLITE_TRIGGERS, *tag_dates._SQLITE_TRIGGERS]:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def prepare_database(sender, using, **kwargs):
    """After migrate (and after a test flush): the SiteState row, the archive's
    counting triggers and, on SQLite, the full-text index exist."""
    from django.db import connections

    from blog.archive import ensure_archive_counts
    from blog.search import ensure_postgres_index, ensure_sqlite_index
    from blog.tag_dates import ensure_tag_dates

    SiteState.objects.using(using).get_or_create(pk=1)
    ensure_sqlite_index(connections[using])
    ensure_postgres_index(connections[using])
    ensure_archive_counts(connections[using])
    ensure_tag_dates(connections[using])
