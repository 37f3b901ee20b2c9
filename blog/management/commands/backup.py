from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.backups import BackupProblem, write_backup


class Command(BaseCommand):
    help = (
        "Write a backup folder: every row the site needs (data.json, portable "
        "between SQLite and PostgreSQL), every media file, and a manifest with "
        "row counts and SHA-256 checksums. Restore it with `manage.py restore`."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A new or empty folder.")

    def handle(self, *args, path, **options):
        try:
            manifest = write_backup(path)
        except BackupProblem as problem:
            raise CommandError(str(problem)) from problem
        rows = sum(manifest["counts"].values())
        files = len(manifest["files"]) - 1
        self.stdout.write(f"Backed up {rows} rows and {files} media files to {path}.")
