"""A post's card and desk item, rendered at save time (issue 8).

Listings (home, section, tag, intersection, author, archives) show each post
as a card (templates/blog/_post_card.html with its byline) and the home page's
"From the desks" as one line per post (templates/blog/_desk_item.html). Both
are stored on the post's row (`card_html`, `desk_html`) with one stamp
(`card_stamp`, blog/fragments.py): a page uses the stored HTML when the stamp is
fresh and renders the templates live otherwise, so a changed template, setting
or language is never served stale.

The stored card is the plain variant (lazy image); the lead card (srcset,
sizes) and the eager card (no `loading="lazy"`) are derived from it by
replacing the one image attribute our own markup writes there: titles,
summaries and names are escaped, so the quoted attribute cannot come from
them. A card whose markup does not have the expected shape is rendered live.

What a card shows besides the post's own columns: its section's name and
slug, its authors' names and slugs (or its owner's name), its lead image's
renditions. Each change of those clears the stamps of the posts it touches
in one UPDATE (the listings fall back to live rendering at once) and refreshes
them: at once for one post, through the job queue for many
(blog/tasks.refresh_fragments).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from blog.fragments import Fragment

CARD_TEMPLATE = "blog/_post_card.html"
DESK_TEMPLATE = "blog/_desk_item.html"
LISTING = Fragment(
    "post-listing", (CARD_TEMPLATE, "blog/_byline.html", DESK_TEMPLATE), version="1"
)
CARD_FIELDS = ("card_html", "desk_html", "card_stamp")
# Posts refreshed by one query and one UPDATE.
BATCH = 200
# At most this many stale posts are refreshed during the request that made
# them stale; more go to the job queue.
AT_ONCE = 20

_PLAIN = '<article class="card">'
_LEAD = '<article class="card card-lead">'
_LAZY = ' alt="" loading="lazy">'
_EAGER = ' alt="" >'
_SIZES = "(min-width: 64rem) 40rem, 100vw"


def render(post) -> dict:
    """The post's stored columns: its card, its desk item and their stamp."""

    def both():
        return (
            render_to_string(CARD_TEMPLATE, {"post": post, "level": 2}),
            render_to_string(DESK_TEMPLATE, {"post": post}),
        )

    (card, desk), stamp = LISTING.render_stored(both)
    return {"card_html": card, "desk_html": desk, "card_stamp": stamp}


def fill(post) -> None:
    """Renders the post's fragments onto the instance (saved by the caller)."""
    for name, value in render(post).items():
        setattr(post, name, value)


def stored(post, name: str, stamp: str | None = None) -> str | None:
    """A stored fragment of the post if loaded and fresh (`stamp`: the current
    stamp, if the caller has it), else None. Never reads a deferred column
    (that would cost a query per post)."""
    row = post.__dict__
    html = row.get(name)
    if not html:
        return None
    if stamp is None:
        fresh = LISTING.is_fresh(row.get("card_stamp"))
    else:
        fresh = row.get("card_stamp") == stamp
    return html if fresh else None


def card(post, lead: bool = False, eager: bool = False, stamp=None) -> SafeString:
    """The post's card as `{% include "blog/_post_card.html" with level=2 %}`
    renders it (with `lead` or `eager`)."""
    html = stored(post, "card_html", stamp)
    if html is not None:
        html = variant(post, html, lead=lead, eager=eager)
    if html is None:
        context = {"post": post, "level": 2, "lead": lead, "eager": eager}
        html = render_to_string(CARD_TEMPLATE, context)
    return mark_safe(html)  # noqa: S308 - rendered by the template, escaped there


def card_list(posts, eager: int | bool = 0) -> SafeString:
    """The cards of `posts`, the first `eager` of them (all: True) without lazy
    loading: one call for a page's list (no template loop per card)."""
    posts = list(posts)
    if eager is True:
        eager = len(posts)
    stamp = LISTING.stamp()
    return mark_safe(  # noqa: S308 - each card is
        "".join(
            card(post, eager=n < eager, stamp=stamp) for n, post in enumerate(posts)
        )
    )


def desk_list(posts) -> SafeString:
    """The desk lines of `posts`, one after the other."""
    stamp = LISTING.stamp()
    return mark_safe("".join(desk_item(post, stamp) for post in posts))  # noqa: S308


def variant(post, html: str, lead: bool, eager: bool) -> str | None:
    """The lead or eager card from the stored plain one (None: not derivable)."""
    if not (lead or eager):
        return html
    images = html.count(_LAZY)
    if images > 1 or not html.startswith(_PLAIN):
        return None
    if lead:
        html = _LEAD + html[len(_PLAIN) :]
        if images:
            srcset = escape(post.lead_image_srcset)
            html = html.replace(
                _LAZY, f' alt="" srcset="{srcset}" sizes="{_SIZES}">', 1
            )
        return html
    return html.replace(_LAZY, _EAGER, 1)


def desk_item(post, stamp=None) -> SafeString:
    """The post's line in "From the desks"."""
    html = stored(post, "desk_html", stamp)
    if html is None:
        html = render_to_string(DESK_TEMPLATE, {"post": post})
    return mark_safe(html)  # noqa: S308 - rendered by the template, escaped there


def refresh(post_ids=None, batch: int | None = None, limit: int | None = None) -> int:
    """Renders and stores the fragments of the posts whose stamp is not the
    current one (among `post_ids`, or all; at most about `limit`). A post saved
    meanwhile keeps what its save wrote: only rows still stale are written.
    Returns how many."""
    from blog.models import Post

    batch = batch or BATCH
    fresh = LISTING.stored_stamp()
    # Two ranges of the stamp's index (post_card_stamp_idx), not a scan: the
    # worker's sweep asks every few seconds, and usually finds nothing.
    stale = Post.objects.filter(Q(card_stamp__lt=fresh) | Q(card_stamp__gt=fresh))
    if post_ids is not None:
        stale = stale.filter(pk__in=list(post_ids))
    done, seen = 0, set()
    while limit is None or done < limit:
        ids = list(stale.order_by().values_list("pk", flat=True)[:batch])
        # Each batch leaves its rows fresh; one seen again would loop forever.
        if not ids or seen.intersection(ids):
            break
        seen.update(ids)
        posts = list(Post.objects.filter(pk__in=ids).for_listing())
        for post in posts:
            fill(post)
        with transaction.atomic():
            done += stale.bulk_update(posts, CARD_FIELDS)
    return done


def invalidate(posts) -> int:
    """Clears the stamps of `posts` (a queryset) in one UPDATE, so every
    listing renders them live from now on, and refreshes them: at once when
    few, else through the job queue (the job is queued with the transaction:
    django-tasks enqueues on commit)."""
    from blog import articles, tasks

    count = posts.update(card_stamp="")
    if not count:
        return 0
    if count <= AT_ONCE:
        ids = list(posts.values_list("pk", flat=True))
        refresh(ids)
        # The article shows these names too (its stored key already tells).
        articles.refresh(ids)
    else:
        tasks.refresh_fragments.enqueue()
    return count


# What else a card shows changes: the posts showing it are refreshed.


def _shown(instance, fields):
    return tuple(getattr(instance, name) for name in fields)


def _remember(sender, instance, fields, raw):
    """Before a save: what the row showed on cards, as stored."""
    instance._card_shown = None
    if instance.pk is not None and not raw:
        instance._card_shown = (
            sender._default_manager.filter(pk=instance.pk).values_list(*fields).first()
        )


SECTION_SHOWN = ("name", "slug")
AUTHOR_SHOWN = ("display_name", "slug")
USER_SHOWN = ("first_name", "last_name", "username")


@receiver(pre_save, sender="blog.Section")
def section_saving(sender, instance, raw=False, **kwargs):
    _remember(sender, instance, SECTION_SHOWN, raw)


@receiver(post_save, sender="blog.Section")
def section_saved(sender, instance, created=False, raw=False, **kwargs):
    """A renamed section (or a new slug): every post of it."""
    if raw or created:
        return
    if getattr(instance, "_card_shown", None) != _shown(instance, SECTION_SHOWN):
        from blog.models import Post

        invalidate(Post.objects.filter(section_id=instance.pk))


@receiver(pre_save, sender="blog.Author")
def author_saving(sender, instance, raw=False, **kwargs):
    _remember(sender, instance, AUTHOR_SHOWN, raw)


@receiver(post_save, sender="blog.Author")
def author_saved(sender, instance, created=False, raw=False, **kwargs):
    """An author's new display name or slug: every post crediting them."""
    if raw or created:
        return
    if getattr(instance, "_card_shown", None) != _shown(instance, AUTHOR_SHOWN):
        from blog.models import Post

        invalidate(Post.objects.filter(bylines__author_id=instance.pk))


@receiver(pre_save, sender=settings.AUTH_USER_MODEL)
def user_saving(sender, instance, raw=False, update_fields=None, **kwargs):
    if update_fields is not None and not set(update_fields) & set(USER_SHOWN):
        instance._card_shown = _shown(instance, USER_SHOWN)  # a login: nothing
        return
    _remember(sender, instance, USER_SHOWN, raw)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def user_saved(sender, instance, created=False, raw=False, **kwargs):
    """A post without bylines credits its owner's name."""
    if raw or created:
        return
    if getattr(instance, "_card_shown", None) != _shown(instance, USER_SHOWN):
        from blog.models import Post

        invalidate(Post.objects.filter(author_id=instance.pk, bylines__isnull=True))


@receiver(post_save, sender="blog.Byline")
@receiver(post_delete, sender="blog.Byline")
def byline_changed(sender, instance, raw=False, origin=None, **kwargs):
    """A credit added, moved or removed: its post."""
    from blog.models import Post

    if raw or isinstance(origin, Post) or getattr(origin, "model", None) is Post:
        return  # the post itself is being deleted
    invalidate(Post.objects.filter(pk=instance.post_id))
