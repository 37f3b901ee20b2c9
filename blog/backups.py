"""Backups that restore (issue 9): `manage.py backup PATH` and `manage.py restore PATH`.

A backup is a folder: `data.json` (Django's serialised rows, portable between
SQLite and PostgreSQL), `media/` (every stored file, read through the storage
API so S3 works too) and `manifest.json` (row counts per model and a SHA-256
per file). Restore checks every checksum first, loads into an empty database,
then rebuilds the search index, which is derived data and never dumped.
Primary keys are kept: feed GUIDs are built from them.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

from django.apps import apps
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
# Everything the site needs, in dependency order. Content types and
# permissions are made by migrate and referenced by natural key; sessions,
# login attempts and the FTS table are left behind (the index is rebuilt).
MODELS = [
    "auth.group",
    "auth.user",
    "otp_totp.totpdevice",
    "blog.section",
    "blog.tag",
    "blog.post",
    "blog.taggedpost",
    "blog.oldslug",
    "blog.oldtagslug",
    "blog.author",
    "blog.byline",
    "blog.storyupdate",
    "blog.page",
    "blog.ping",  # the WebSub outbox: sent ones are not sent again
    "admin.logentry",
]
# Must be empty before a restore: the content and the accounts.
MUST_BE_EMPTY = ["auth.user", "blog.section", "blog.tag", "blog.post"]
# Derived, never dumped: the search document is rebuilt on restore, a tag
# row's public and change dates are set by the database as the row is loaded
# (blog/tag_dates.py), as are the archive's month counts (blog/archive.py).
DERIVED_FIELDS = {
    "blog.post": ["search_vector"],
    "blog.taggedpost": ["public_from", "post_changed_at"],
}


class BackupProblem(Exception):
    """Why a backup cannot be written or restored."""


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stored_files(folder: str = ""):
    """Every file name in the default storage, recursively."""
    try:
        directories, files = default_storage.listdir(folder)
    except FileNotFoundError:  # nothing uploaded yet: no media folder
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from stored_files(f"{folder}/{directory}" if folder else directory)


def counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in MODELS}


def write_backup(target: Path) -> dict:
    """Write a backup folder at `target` (new or empty) and return its manifest."""
    if target.exists() and any(target.iterdir()):
        raise BackupProblem(f"{target} exists and is not empty")
    (target / "media").mkdir(parents=True, exist_ok=True)
    rows = io.StringIO()
    # One transaction, so rows and counts describe the same moment.
    with transaction.atomic():
        call_command("dumpdata", *MODELS, natural_foreign=True, indent=1, stdout=rows)
        row_counts = counts()
    data = json.loads(rows.getvalue())
    for row in data:
        for name in DERIVED_FIELDS.get(row["model"], []):
            row["fields"].pop(name, None)
    (target / "data.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    files = {"data.json": sha256(target / "data.json")}
    for name in stored_files():
        copy = target / "media" / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as source, copy.open("wb") as out:
            shutil.copyfileobj(source, out)
        files[f"media/{name}"] = sha256(copy)
    manifest = {
        "format": FORMAT,
        "created_at": timezone.now().isoformat(),
        "database": connection.vendor,
        "counts": row_counts,
        "files": files,
    }
    (target / "manifest.json").write_text(
        json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8"
    )
    return manifest


def read_manifest(source: Path) -> dict:
    """The manifest of the backup at `source`, after checking every file."""
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupProblem(
            f"{source} has no readable manifest.json: {error}"
        ) from error
    if manifest.get("format") != FORMAT:
        raise BackupProblem(f"unknown backup format {manifest.get('format')!r}")
    on_disk = {
        path.relative_to(source).as_posix()
        for path in source.rglob("*")
        if path.is_file() and path.name != "manifest.json"
    }
    if on_disk != set(manifest["files"]):
        extra = sorted(on_disk ^ set(manifest["files"]))[:5]
        raise BackupProblem(f"files differ from the manifest: {extra}")
    for name, expected in manifest["files"].items():
        if sha256(source / name) != expected:
            raise BackupProblem(f"{name} is damaged (checksum mismatch)")
    return manifest


def restore_backup(source: Path) -> dict:
    """Load the backup at `source` into this (migrated, empty) database and storage."""
    manifest = read_manifest(source)
    occupied = [
        label for label in MUST_BE_EMPTY if apps.get_model(label).objects.exists()
    ]
    if occupied:
        raise BackupProblem(
            f"the database is not empty ({', '.join(occupied)} have rows): "
            "restore into a new database"
        )
    media = [name for name in manifest["files"] if name.startswith("media/")]
    for name in media:
        stored = name.removeprefix("media/")
        if default_storage.exists(stored):
            raise BackupProblem(f"media file {stored} already exists")
    with transaction.atomic():
        call_command("loaddata", str(source / "data.json"), verbosity=0)
        restored = counts()
        if restored != manifest["counts"]:
            raise BackupProblem(
                f"row counts differ after loading: {restored} != {manifest['counts']}"
            )
        rebuild_search_index()
        apps.get_model("blog.sitestate").touch()
    for name in media:
        stored = name.removeprefix("media/")
        with (source / name).open("rb") as handle:
            saved = default_storage.save(stored, File(handle))
        if saved != stored:
            raise BackupProblem(f"media file {stored} was stored as {saved}")
    return manifest


def rebuild_search_index() -> None:
    """Derived data is rebuilt, not restored: the FTS5 table on SQLite, the
    weighted search document on PostgreSQL."""
    if connection.vendor == "sqlite":
        from blog.models import FTS_TABLE

        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
    elif connection.vendor == "postgresql":
        from blog.models import Post, weighted_search_vector

        Post.objects.update(search_vector=weighted_search_vector())
