"""blog/backups.py and `manage.py backup` / `restore`: a backup restores every
post, update, tag, section, author, account and image, on either database."""

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog import archive
from blog.backups import BackupProblem, read_manifest
from blog.models import Post, Tag, TaggedPost
from blog.search import as_posts, search_posts
from tests.factories import make_post, make_staff, make_tag, make_update
from tests.test_images import png_bytes

pytestmark = pytest.mark.django_db(transaction=True)
PROJECT = Path(__file__).resolve().parents[1]


def newsroom_content():
    chief = make_staff(username="chief")
    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.set(Permission.objects.filter(codename__endswith="_post"))
    chief.groups.add(editors)
    TOTPDevice.objects.create(user=chief, name="phone", confirmed=True)
    post = make_post(
        title="Pipeline talks stall",
        body="Opening.\n\n## Gas\n\nPipeline text.",
        tags=[make_tag("Energy"), make_tag("Russia")],
        author=chief,
        lead_image=SimpleUploadedFile("lead.png", png_bytes(1200, 700)),
        lead_image_alt="A pipeline",
    )
    make_update(post, body="Talks resume.")
    post.slug = "pipeline-talks-stall-again"
    post.save()  # leaves an old slug behind
    make_post(title="Second story", status=Post.Status.DRAFT)


def rows_and_files(path: Path) -> tuple[list, dict]:
    manifest = read_manifest(path)
    # Django's serializer writes times to the millisecond: a time whose
    # microseconds are 1-999 is written ".000" once and then, restored with
    # none, without them. Same instant; compared as such.
    text = re.sub(
        r'(T\d\d:\d\d:\d\d)\.000(Z|[+-]\d\d:\d\d)"',
        r'\1\2"',
        (path / "data.json").read_text(),
    )
    rows = json.loads(text)
    files = {k: v for k, v in manifest["files"].items() if k != "data.json"}
    return sorted(rows, key=lambda r: (r["model"], str(r.get("pk")))), files


def test_backup_restores_everything_into_an_empty_database(tmp_path, settings):
    """Backup, empty the database and storage, restore, back up again: the two
    backups hold the same rows and the same files, and search finds the post."""
    newsroom_content()
    call_command("backup", tmp_path / "one", stdout=io.StringIO())
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert manifest["counts"]["blog.post"] == 2
    assert manifest["counts"]["blog.storyupdate"] == 1
    assert any(name.startswith("media/lead/") for name in manifest["files"])

    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)
    call_command("restore", tmp_path / "one", stdout=io.StringIO())
    call_command("backup", tmp_path / "two", stdout=io.StringIO())

    assert rows_and_files(tmp_path / "two") == rows_and_files(tmp_path / "one")
    hits = as_posts(search_posts("pipeline"))
    assert [post.slug for post in hits] == ["pipeline-talks-stall-again"]
    restored = Post.objects.get(slug="pipeline-talks-stall-again")
    assert restored.lead_image.storage.exists(restored.lead_image.name)
    # Derived by the database as rows load: the archive's counts and the tag
    # rows' public dates (blog/archive.py, blog/tag_dates.py).
    assert [n for _, n in archive.months()] == [1]
    energy = Tag.objects.get(name="Energy")
    assert [row.public_from for row in TaggedPost.objects.filter(tag=energy)] == [
        restored.published_at
    ]


def test_restore_refuses_a_database_with_content(tmp_path):
    """Restoring over existing content is refused before anything is written."""
    newsroom_content()
    call_command("backup", tmp_path / "b", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", tmp_path / "b", stdout=io.StringIO())
    assert Post.objects.count() == 2


def test_damaged_backup_is_refused(tmp_path):
    """A file changed after the backup fails its checksum; nothing is loaded."""
    make_post()
    call_command("backup", tmp_path / "b", stdout=io.StringIO())
    data = tmp_path / "b" / "data.json"
    data.write_text(data.read_text().replace("Ada", "Eve", 1))
    with pytest.raises(BackupProblem, match="damaged"):
        read_manifest(tmp_path / "b")


def test_backup_never_writes_into_a_folder_in_use(tmp_path):
    """An existing, non-empty folder is refused."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("mine")
    with pytest.raises(CommandError, match="not empty"):
        call_command("backup", tmp_path / "b", stdout=io.StringIO())


# --- Across databases: SQLite -> PostgreSQL -> SQLite, through manage.py ----

POSTGRES = os.environ.get("DATELINE_TEST_POSTGRES_URL", "")


def manage(*args, database_url, media, var):
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATELINE_MEDIA_ROOT": str(media),
        "DATELINE_VAR_DIR": str(var),
        "DJANGO_SECRET_KEY": "test-only-not-secret",
    }
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )


def recreate_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}"')
        db.execute(f'CREATE DATABASE "{name}"')


@pytest.mark.skipif(
    not POSTGRES, reason="set DATELINE_TEST_POSTGRES_URL to a database it may recreate"
)
def test_backups_move_between_sqlite_and_postgresql(tmp_path):
    """The demo newsroom goes SQLite -> PostgreSQL -> SQLite with identical rows and files."""
    sqlite_a = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    sqlite_c = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    recreate_postgres_database(POSTGRES)
    kw = {"var": tmp_path}
    manage("migrate", "-v0", database_url=sqlite_a, media=tmp_path / "ma", **kw)
    manage("load_demo", database_url=sqlite_a, media=tmp_path / "ma", **kw)
    manage("backup", str(tmp_path / "b1"), database_url=sqlite_a, media=tmp_path / "ma", **kw)  # fmt: skip
    manage("restore", str(tmp_path / "b1"), database_url=POSTGRES, media=tmp_path / "mb", **kw)  # fmt: skip
    manage("backup", str(tmp_path / "b2"), database_url=POSTGRES, media=tmp_path / "mb", **kw)  # fmt: skip
    manage("restore", str(tmp_path / "b2"), database_url=sqlite_c, media=tmp_path / "mc", **kw)  # fmt: skip
    manage("backup", str(tmp_path / "b3"), database_url=sqlite_c, media=tmp_path / "mc", **kw)  # fmt: skip
    one, two, three = (rows_and_files(tmp_path / b) for b in ("b1", "b2", "b3"))
    assert one == two == three
    assert sum(1 for row in one[0] if row["model"] == "blog.post") == 8
    search = manage(
        "shell", "-c",
        "from blog.search import search_posts; print(search_posts('election').count())",
        database_url=POSTGRES, media=tmp_path / "mb", **kw,
    )  # fmt: skip
    assert int(search.stdout.split()[-1]) >= 1
