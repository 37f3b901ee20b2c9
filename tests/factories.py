"""Small factories for tests: real rows in the real database, nothing mocked."""

import itertools
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.authors import Author, Byline, credit_owner
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


def make_author(display_name=None, **fields):
    n = next(_counter)
    display_name = display_name or f"Author {n}"
    defaults = {"slug": f"author-{n}"}
    return Author.objects.create(display_name=display_name, **{**defaults, **fields})


def make_post(title=None, *, tags=(), authors=(), age=timedelta(hours=1), **fields):
    """A live post by default, published `age` ago. Pass status="draft" or a
    negative age for drafts and scheduled posts. Credited to `authors` in
    order, or else to its owner (as the admin does)."""
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
    for position, author in enumerate(authors):
        Byline.objects.create(post=post, author=author, position=position)
    credit_owner(post)
    if tags:
        post.tags.set(tags)
    return post


def make_update(post, age=timedelta(minutes=5), **fields):
    defaults = {"body": "A new development.", "published_at": timezone.now() - age}
    return StoryUpdate.objects.create(post=post, **{**defaults, **fields})


def write_png(path, width, height, *, chunk_rows=256):
    """A valid RGB PNG of any size written row by row, so the test never holds
    the bitmap: 13,000 x 13,000 pixels take about half a megabyte on disk.
    Rows are a shifting stripe pattern (not blank, so decoding is real work)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pattern = bytes(range(0, 256, 5)) * (width * 3 // 52 + 2)
    compressor = zlib.compressobj(6)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        for start in range(0, height, chunk_rows):
            rows = b"".join(
                b"\x00" + pattern[(y // 64) % 52 :][: width * 3]
                for y in range(start, min(start + chunk_rows, height))
            )
            data = compressor.compress(rows)
            if data:
                out.write(chunk(b"IDAT", data))
        out.write(chunk(b"IDAT", compressor.flush()))
        out.write(chunk(b"IEND", b""))
    return path


def make_member(role=None, password="correct horse battery staple", **fields):
    """A staff user in a newsroom role's group (blog/roles.py), or in none."""
    from django.contrib.auth.models import Group

    user = make_user(is_staff=True, **fields)
    user.set_password(password)
    user.save()
    if role is not None:
        user.groups.add(Group.objects.get(name=role.group))
    return user
