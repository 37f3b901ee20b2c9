"""The benchmark's Django side, run by bench/run.py in its own process.

`python bench/newsroom.py targets` prints, as JSON, the URLs to measure, found
through the ORM and reverse() (never by reading HTML).
`python bench/newsroom.py breaking SECONDS EVERY` adds a story update to the
hottest article every EVERY seconds through the ORM (signals and all, as the
admin would), then deletes what it added so the archive is as it was.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db.models import Count  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from blog.generating import NOUNS  # noqa: E402
from blog.models import Post, Section, StoryUpdate, Tag  # noqa: E402

SPREAD = 1000  # articles the article rows and the breaking story spread over
FEED_FORMATS = ("rss", "atom", "json")


def hottest() -> Post:
    """The developing story: the newest public post."""
    return Post.objects.published().order_by("-published_at", "-id").first()


def targets() -> dict:
    public = Post.objects.published()
    ids = list(public.order_by("-published_at", "-id").values_list("pk", flat=True))
    if not ids:
        raise SystemExit("bench: the database has no public posts")
    step = max(1, len(ids) // SPREAD)
    spread_ids = ids[::step][:SPREAD]
    by_id = public.only("slug", "published_at").in_bulk(spread_ids + ids[:SPREAD])
    section = Section.objects.annotate(n=Count("posts")).order_by("-n").first()
    top_tags = list(Tag.objects.annotate(n=Count("tagged_posts")).order_by("-n")[:2])
    slugs = sorted(tag.slug for tag in top_tags)
    return {
        "robots": reverse("robots_txt"),
        # The whole archive, newest to oldest: no single page to cache.
        "articles": [by_id[pk].get_absolute_url() for pk in spread_ids],
        # The newest first: the breaking scenario reads them Zipf-like.
        "hot": [by_id[pk].get_absolute_url() for pk in ids[:SPREAD]],
        "home": reverse("blog:home"),
        "section": section.get_absolute_url(),
        "tag": top_tags[0].get_absolute_url(),
        "intersection": reverse("blog:tag", kwargs={"slugs": slugs}),
        "search": [f"{reverse('blog:search')}?q={word}" for word in NOUNS[:20]],
        "feeds": {
            fmt: reverse(f"blog:latest_feed_{fmt}", kwargs={}) for fmt in FEED_FORMATS
        },
        "section_feed": reverse("blog:section_feed_rss", kwargs={"slug": section.slug}),
        "posts": len(ids),
    }


def breaking(seconds: float, every: float) -> dict:
    post = hottest()
    started = time.monotonic()
    added = []
    while True:
        due = started + every * (len(added) + 1)
        if due > started + seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        update = StoryUpdate.objects.create(
            post=post,
            published_at=timezone.now(),
            body=f"Bench update {len(added) + 1}: officials confirmed the latest figures.",
        )
        added.append(update.pk)
    time.sleep(max(0.0, started + seconds - time.monotonic()))
    for update in StoryUpdate.objects.filter(pk__in=added):
        update.delete()  # one by one, so the delete signals run as in the admin
    return {"post": post.get_absolute_url(), "updates": len(added)}


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "targets":
        print(json.dumps(targets()))
    elif command == "breaking":
        print(json.dumps(breaking(float(sys.argv[2]), float(sys.argv[3]))))
    else:
        raise SystemExit("usage: newsroom.py targets | breaking SECONDS EVERY")
