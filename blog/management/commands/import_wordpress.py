from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from blog.importing import ImportProblem
from blog.wordpress import DEFAULT_SECTION, WordPressImport


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR): posts, pages (as static pages), categories "
        "(as sections), tags, authors (as bylines), featured and in-body images from "
        "a local copy of wp-content/uploads, and redirects from the old addresses. "
        "Importing the same file again updates what it imported before."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", type=Path, help="The WXR file (.xml).")
        parser.add_argument(
            "--uploads",
            type=Path,
            help="A local copy of the old site's wp-content/uploads folder.",
        )
        parser.add_argument(
            "--owner",
            help="Username owning the imported posts (default: the desk account).",
        )
        parser.add_argument(
            "--section",
            default=DEFAULT_SECTION,
            help="Section for posts without a category (default: %(default)s).",
        )
        parser.add_argument(
            "--progress-every",
            type=int,
            default=250,
            help="A progress line every N items (default: %(default)s).",
        )

    def handle(self, *args, export, uploads=None, owner=None, **options):
        if not export.is_file():
            raise CommandError(f"No file at {export}.")
        if uploads is not None and not uploads.is_dir():
            raise CommandError(f"No folder at {uploads}.")
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user called {owner!r}.")
        tty = self.stdout.isatty()

        def progress(line):
            if tty:
                self.stdout.write(f"\r{line}", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(line)

        importer = WordPressImport(
            export,
            uploads=uploads,
            owner=user,
            default_section=options["section"],
            progress=progress,
            every=max(1, options["progress_every"]),
        )
        try:
            summary = importer.run()
        except ImportProblem as problem:
            raise CommandError(str(problem)) from problem
        if tty:
            self.stdout.write("")
        for line in summary.lines():
            self.stdout.write(line)
