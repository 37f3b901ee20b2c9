"""Keep every listing's validator honest when content changes.

A post's own `updated_at` already moves a listing's validator when the post is
edited or added. What leaves no newer row behind — a post unpublished,
deleted, moved to another section, tagged or untagged, a section or tag
renamed — touches `SiteState` instead (blog/caching.py reads both). Story
updates move their post's `updated_at`, so the story and every listing that
shows it change too.
"""

from django.conf import settings
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone

from blog import services, tasks
from blog.models import Post, Section, SiteState, StoryUpdate, Tag, TaggedPost


@receiver(post_save, sender=Post)
def post_saved(sender, instance, created, raw=False, **kwargs):
    if raw:
        return
    was_live = instance.was_live_when_loaded()
    if instance.is_live and not was_live:
        services.announce(instance.pk, tasks.live_key(instance))
    elif instance.is_live or was_live:
        services.announce(instance.pk)
    image = instance.lead_image.name
    if image and (
        not instance.lead_image_renditions
        or getattr(instance, "_loaded", {}).get("lead_image") != image
    ):
        # Slow: the queue makes them; pages show no picture until then.
        tasks.make_lead_renditions.enqueue(instance.pk, image)
    if was_live and (
        not instance.is_live
        or instance._loaded.get("section_id") != instance.section_id
    ):
        SiteState.touch()


@receiver(pre_delete, sender=Post)
def post_deleting(sender, instance, **kwargs):
    """A live post leaving tells the hub, with the feeds it leaves (computed
    now: once deleted, its section and tags are gone)."""
    if instance.is_live:
        urls = services.feed_urls_for(instance)
        services.announce(instance.pk, f"post:{instance.pk}:deleted", urls)


@receiver(post_delete, sender=Post)
@receiver(post_save, sender=Section)
@receiver(post_delete, sender=Section)
@receiver(post_save, sender=Tag)
@receiver(post_delete, sender=Tag)
def structure_changed(sender, raw=False, **kwargs):
    if not raw:
        SiteState.touch()


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def author_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    """Bylines show authors' names: a rename reaches every page and feed. A
    login (which only stamps last_login) does not count."""
    if (
        not raw
        and update_fields != frozenset({"last_login"})
        and instance.posts.exists()
    ):
        SiteState.touch()


@receiver(m2m_changed, sender=TaggedPost)
def tags_changed(sender, action, pk_set=None, **kwargs):
    # A tag added without saving the post would not move the post's own
    # updated_at, so additions count here as well as removals.
    if action == "post_clear" or (action in {"post_add", "post_remove"} and pk_set):
        SiteState.touch()


@receiver(post_save, sender=StoryUpdate)
@receiver(post_delete, sender=StoryUpdate)
def story_updated(sender, instance, raw=False, **kwargs):
    if not raw:
        Post.objects.filter(pk=instance.post_id).update(updated_at=timezone.now())
        services.announce_on_commit(instance.post_id)


def prepare_database(sender, using, **kwargs):
    """After migrate (and after a test flush): the SiteState row and, on
    SQLite, the full-text index exist."""
    from django.db import connections

    from blog.search import ensure_postgres_index, ensure_sqlite_index

    SiteState.objects.using(using).get_or_create(pk=1)
    ensure_sqlite_index(connections[using])
    ensure_postgres_index(connections[using])
