"""Small factories for tests: real rows in the real database, nothing mocked."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Post, Section, StoryUpdate, Tag

_counter = itertools.count(1)


def make_user(**fields):
    n = next(_counter)
    defaults = {
        "username": f"writer{n}",
        "first_name": "Ada",
        "last_name": f"Writer{n}",
    }
    return get_user_model().objects.create(**{**defaults, **fields})


def make_staff(password="correct horse battery staple", **fields):
    user = make_user(is_staff=True, is_superuser=True, **fields)
    user.set_password(password)
    user.save()
    return user


def make_section(name=None, **fields):
    n = next(_counter)
    name = name or f"Section {n}"
    defaults = {"slug": name.lower().replace(" ", "-"), "position": n}
    return Section.objects.create(name=name, **{**defaults, **fields})


def make_tag(name=None, **fields):
    name = name or f"Tag {next(_counter)}"
    return Tag.objects.create(name=name, **fields)


def make_post(title=None, *, tags=(), age=timedelta(hours=1), **fields):
    """A live post by default, published `age` ago. Pass status="draft" or a
    negative age for drafts and scheduled posts."""
    n = next(_counter)
    title = title or f"Post number {n}"
    defaults = {
        "slug": f"post-number-{n}",
        "body": f"Body of post {n}.\n\n## First part\n\nText.\n\n## Second part\n\nMore.",
        "summary": f"Summary of post {n}.",
        "status": Post.Status.PUBLISHED,
        "published_at": timezone.now() - age,
    }
    fields = {**defaults, **fields}
    if "section" not in fields:
        fields["section"] = make_section()
    if "author" not in fields:
        fields["author"] = make_user()
    post = Post(title=title, **fields)
    post.save()
    if tags:
        post.tags.set(tags)
    return post


def make_update(post, age=timedelta(minutes=5), **fields):
    defaults = {"body": "A new development.", "published_at": timezone.now() - age}
    return StoryUpdate.objects.create(post=post, **{**defaults, **fields})
