"""An article's own parts, rendered ahead of requests and stored (issue 8).

Most of an article page depends on its post's row alone: its <head> metadata
(Open Graph, JSON-LD, feed autodiscovery), breadcrumb, header, byline, lead
image, table of contents, corrections, tags and story feeds
(templates/blog/_article.html). They are stored on the row (`article_html`)
with a key (`article_key`): the stamp of the templates and settings
(blog/fragments.py) and a digest of what the parts show besides settings —
the row's own columns as of its last change, its section's, tags' and
authors' names and addresses, its owner's name. A page uses the stored parts
only when the key it computes from the row it has just read is the same;
otherwise (a rename, a renditions job, a story update or correction not yet
refreshed, a deploy) it renders them live, so a stale part is never served.
Saves and every change of those inputs store them again (`refresh`).

The rest is live on every request (templates/blog/post_detail.html): the
preview banner, the "Updated" time and the story updates that have come due
(both move with the clock), and the neighbours and related posts (other
posts' rows). `LIVE_PART` marks where the live parts go, `BODY_PART` where the
body goes: the body HTML is on the row already, so it is not stored twice.

Absolute URLs are rendered against FEED_ORIGIN, as feed HTML is, and each
request swaps in its own origin (SITE_URL, or its host when that is unset).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, to_locale

from blog.fragments import Fragment
from blog.metadata import Page, absolute_uri, article_page
from blog.models import FEED_ORIGIN

ARTICLE = Fragment(
    "article",
    (
        "blog/_article.html",
        "_meta.html",
        "blog/_byline.html",
        "blog/_toc.html",
        "blog/_feed_links.html",
    ),
    version="1",
)
LIVE_PART = "<!--dateline:live-->"
BODY_PART = "<!--dateline:body-->"  # bleach strips comments from bodies
# The pieces of _article.html between LIVE_PARTs: the <head> metadata, the
# header up to the "Updated" time, the rest of the header and the lead image
# (story updates follow), the contents, body, corrections and tags, and the
# story's feeds.
PIECES = 5
# Pieces that carry absolute URLs.
ABSOLUTE = (0, 4)
BATCH = 200
# At most this many posts are refreshed by the change that made them stale;
# more go to the job queue.
AT_ONCE = 20


class _OriginRequest(HttpRequest):
    """A request from FEED_ORIGIN, for absolute URLs rendered ahead of one."""

    scheme = FEED_ORIGIN.split("://")[0]

    def get_host(self):
        return FEED_ORIGIN.split("://")[1]


def article_feeds(request, post):
    """The story's feeds, and the page's autodiscovery links: the story's,
    its section's and the site's."""
    from blog.listings import LatestListing, SectionListing, StoryListing

    story = StoryListing(post).feed_links(request)
    return story, [
        *story,
        *SectionListing(post.section).feed_links(request),
        *LatestListing().feed_links(request),
    ]


def render_article(post) -> str:
    """The post's own parts, with LIVE_PART where live parts go and BODY_PART
    where its body goes."""
    request = _OriginRequest()
    meta = article_page(request, post)
    feeds, meta.feeds = article_feeds(request, post)
    return render_to_string(
        "blog/_article.html",
        {
            "post": post,
            "body": mark_safe(BODY_PART),  # noqa: S308 - a constant
            "meta": meta,
            "feeds": feeds,
            "site_name": settings.DATELINE["SITE_NAME"],
            "og_locale": to_locale(get_language()),
        },
    )


def inputs_digest(post) -> str:
    """A digest of what the parts show besides templates and settings, from
    the row as the article page reads it (with its section, tags, bylines and
    owner). Any change to the row moves `updated_at`, except those made by
    jobs, which the other columns listed here catch."""
    tags = sorted((t["id"], t["name"], t["slug"]) for t in post.tag_list or [])
    bylines = sorted(
        (b["position"], b["name"], b["slug"]) for b in post.byline_list or []
    )
    owner = post.author
    shown = (
        post.updated_at,
        post.published_at,
        post.slug,
        post.title,
        post.summary,
        post.standfirst,  # from the body's text, which jobs may render again
        post.word_count,
        post.toc,
        post.correction_notes,
        post.lead_image_renditions,
        post.lead_image_alt,
        post.lead_image_caption,
        post.lead_image_credit,
        post.section.name,
        post.section.slug,
        tags,
        bylines,
        (owner.first_name, owner.last_name, owner.username),
    )
    return hashlib.blake2b(repr(shown).encode(), digest_size=8).hexdigest()


def article_key(post) -> str:
    return f"{ARTICLE.stamp()}.{inputs_digest(post)}"


def stored_article(post) -> str | None:
    """The stored parts if loaded and current for this row, else None."""
    row = post.__dict__
    html, key = row.get("article_html"), row.get("article_key")
    if html and key and key == article_key(post):
        return html
    return None


def article_pieces(post, request) -> list[SafeString]:
    """The post's own parts for this request, in PIECES pieces: stored when
    current (public posts), rendered now otherwise."""
    html = stored_article(post) if post.is_live else None
    if html is None:
        html = render_article(post)
    pieces = html.split(LIVE_PART)[:PIECES]
    origin = absolute_uri(request, "/")[:-1]
    for index in ABSOLUTE:
        pieces[index] = pieces[index].replace(FEED_ORIGIN, origin)
    pieces[3] = pieces[3].replace(BODY_PART, post.body_html, 1)
    return [mark_safe(piece) for piece in pieces]  # noqa: S308 - our template's


def page_chrome(post) -> Page:
    """What base.html reads of an article's metadata outside its <head> block
    (which comes with the article's pieces): its title, and its section as
    the navigation's current one."""
    return Page(
        title=post.title,
        description=post.summary,
        canonical="",
        nav_section=post.section_id,
        nav_current="true",
    )


def article_rows():
    """Published posts (due or scheduled) as the article page reads them."""
    from blog.models import Post

    return (
        Post.objects.marked_published()
        .select_related("section", "author")
        .with_tags()
        .with_bylines()
        .defer(*UNREAD)
    )


# Columns the article page never reads.
UNREAD = ("body", "search_vector", "card_html", "desk_html")


def refresh(post_ids=None, batch: int = BATCH) -> int:
    """Renders and stores the parts of published posts (among `post_ids`, or
    all) whose stored key is not current, in the site's language. Returns
    how many were written."""
    from blog.models import Post

    rows = article_rows().defer("body_html", "feed_html")
    if post_ids is not None:
        rows = rows.filter(pk__in=list(post_ids))
    done, last = 0, 0
    with translation.override(settings.LANGUAGE_CODE):
        while True:
            posts = list(rows.filter(pk__gt=last).order_by("pk")[:batch])
            if not posts:
                return done
            stale = []
            for post in posts:
                key = article_key(post)
                if post.article_key != key:
                    post.article_html, post.article_key = render_article(post), key
                    stale.append(post)
            if stale:
                with transaction.atomic():
                    Post.objects.bulk_update(stale, ["article_html", "article_key"])
                done += len(stale)
            last = posts[-1].pk


def refresh_later(post_ids) -> None:
    """Stores the parts of these posts again once the change commits: at
    once when few, else through the job queue."""
    from blog import tasks

    ids = list(post_ids)
    if not ids:
        return
    if len(ids) <= AT_ONCE:
        transaction.on_commit(lambda: refresh(ids))
    else:
        tasks.refresh_fragments.enqueue()


# What else the parts show changes: the posts showing it are stored again (the
# key already keeps the page from serving them stale meanwhile).


def connect_receivers():
    """Called by BlogConfig.ready() after blog/caching.py's receivers are
    connected: those move a post's `updated_at`, which must come first."""
    for model in ("blog.StoryUpdate", "blog.Correction", "blog.Byline"):
        post_save.connect(post_part_changed, sender=model, dispatch_uid=f"a{model}")
        post_delete.connect(post_part_changed, sender=model, dispatch_uid=f"d{model}")
    m2m_changed.connect(tags_changed, sender="blog.TaggedPost", dispatch_uid="art")
    post_save.connect(tag_saved, sender="blog.Tag", dispatch_uid="article")


def post_part_changed(sender, instance, raw=False, **kwargs):
    """A story update (its post's modified time), a correction or a credit.
    Drafts have no stored parts: a post at hand that is not published is
    skipped without a query (refresh() reads published posts only)."""
    post = instance._state.fields_cache.get("post")
    if raw or (post is not None and post.status != post.Status.PUBLISHED):
        return
    refresh_later([instance.post_id])


def tags_changed(sender, instance, action, reverse, pk_set=None, **kwargs):
    """Tags added to or removed from a post (or posts to or from a tag)."""
    if action not in {"post_add", "post_remove", "post_clear"}:
        return
    if not reverse:
        if instance.status == instance.Status.PUBLISHED:
            refresh_later([instance.pk])
    elif pk_set:
        refresh_later(pk_set)


def tag_saved(sender, instance, created=False, raw=False, **kwargs):
    """A renamed tag (or a new slug): every post carrying it."""
    if raw or created:
        return
    from blog.models import TaggedPost

    refresh_later(
        TaggedPost.objects.filter(tag=instance).values_list(
            "content_object_id", flat=True
        )
    )
