"""The admin post list at 10,000 posts, per role (issue 7): median time and
query count of the list, its filters, search and a deep page, through Django's
test client (no network), on the database DATABASE_URL names.

    DATABASE_URL=sqlite:////tmp/admin10k.sqlite3 .venv/bin/python bench/admin_list.py

Give it a throwaway database: it migrates it and fills it with generated posts.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from blog import roles  # noqa: E402
from blog.models import Post, Section, Tag, TaggedPost  # noqa: E402

POSTS = int(os.environ.get("BENCH_POSTS", "10000"))
ROUNDS = 5


def fill() -> None:
    """POSTS posts by 30 writers in 8 sections, 3 of 200 tags each; one in ten
    a draft, one in ten in review. Bulk rows: no rendering, no revisions."""
    User = get_user_model()
    sections = [Section.objects.create(name=f"S{i}", slug=f"s{i}") for i in range(8)]
    writers = [User.objects.create(username=f"w{i}", is_staff=True) for i in range(30)]
    tags = [Tag.objects.create(name=f"T{i}", slug=f"t{i}") for i in range(200)]
    now = timezone.now()
    statuses = ["published"] * 8 + ["draft", "review"]
    Post.objects.bulk_create(
        (
            Post(
                title=f"Post {i}",
                slug=f"p-{i}",
                section=sections[i % 8],
                author=writers[i % 30],
                last_edited_by=writers[(i + 1) % 30],
                summary="Summary.",
                body=f"Body {i} word",
                body_html=f"<p>Body {i}</p>",
                status=statuses[i % 10],
                published_at=now - timedelta(hours=i),
            )
            for i in range(POSTS)
        ),
        batch_size=1000,
    )
    TaggedPost.objects.bulk_create(
        (
            TaggedPost(content_object_id=pk, tag=tags[(pk * 7 + k) % 200])
            for pk in Post.objects.values_list("id", flat=True)
            for k in range(3)
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    if Post.objects.count() < POSTS:
        fill()
    User = get_user_model()
    users = {
        "superuser": User.objects.get_or_create(
            username="bench-superuser",
            defaults={"is_staff": True, "is_superuser": True},
        )[0],
        "editor": User.objects.get_or_create(
            username="bench-editor", defaults={"is_staff": True}
        )[0],
        "author": User.objects.get(username="w3"),
    }
    users["editor"].groups.add(Group.objects.get(name=roles.EDITORS.group))
    users["author"].groups.add(Group.objects.get(name=roles.AUTHORS.group))
    section, tag = Section.objects.first(), Tag.objects.first()
    paths = [
        "/admin/blog/post/",
        "/admin/blog/post/?state=review",
        "/admin/blog/post/?state=live",
        "/admin/blog/post/?q=Body+123",
        f"/admin/blog/post/?section__id__exact={section.pk}",
        f"/admin/blog/post/?tags__id__exact={tag.pk}",
        "/admin/blog/post/?p=100",
    ]
    print(f"{connection.vendor}, {Post.objects.count()} posts")
    print("| role | path | status | median ms | queries |")
    print("| --- | --- | --- | --- | --- |")
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        for path in paths:
            client.get(path)
            times = []
            for _ in range(ROUNDS):
                start = time.perf_counter()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(path)
                times.append(time.perf_counter() - start)
            median = statistics.median(times) * 1000
            print(
                f"| {role} | `{path}` | {response.status_code} | {median:.0f} "
                f"| {len(queries)} |"
            )


if __name__ == "__main__":
    main()
