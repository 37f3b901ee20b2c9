from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from blog.backups import BackupProblem, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a folder written by `manage.py backup` into an empty database "
        "(migrated first) and media storage; checksums are verified before "
        "anything is written, and the search index is rebuilt."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="A folder made by backup.")

    def handle(self, *args, path, **options):
        call_command("migrate", interactive=False, verbosity=0)
        try:
            manifest = restore_backup(path)
        except BackupProblem as problem:
            raise CommandError(str(problem)) from problem
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"Restored {rows} rows and {len(manifest['files']) - 1} media files "
            f"from {path} (backed up {manifest['created_at']} on "
            f"{manifest['database']})."
        )
