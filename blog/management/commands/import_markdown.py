from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from blog.importing import (
    ImportProblem,
    import_markdown_file,
    import_site_file,
    markdown_files,
)
from blog.tasks import import_markdown_text


class Command(BaseCommand):
    help = (
        "Import Markdown files with YAML front matter (title, slug, section, tags, "
        "published, summary, status, updates) as posts. Sections and tags are created "
        "when missing; importing a file again updates the post with the same slug. "
        "A directory (as `export_markdown` writes it) imports its site.yaml first, "
        "then every .md file in it."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument(
            "--author", help="Username for the byline (default: the desk)."
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="Hand each file to the job queue (large imports); a worker "
            "imports it and logs the outcome.",
        )

    def handle(self, *args, files, author=None, queue=False, **options):
        user = None
        if author:
            user = get_user_model().objects.filter(username=author).first()
            if user is None:
                raise CommandError(f"No user called {author!r}.")
        failures = 0
        expanded = []
        for path in files:
            if not path.is_dir():
                expanded.append(path)
                continue
            if queue:
                raise CommandError(
                    f"{path} is a folder: import an export without --queue (its "
                    "images are read from the folder)."
                )
            if (path / "site.yaml").is_file():
                try:
                    counts = import_site_file(path / "site.yaml")
                except (ImportProblem, KeyError, TypeError, ValueError) as problem:
                    raise CommandError(f"{path / 'site.yaml'}: {problem}") from problem
                self.stdout.write(
                    f"{path / 'site.yaml'}: {counts['sections']} sections, "
                    f"{counts['tags']} tags, {counts['authors']} authors"
                )
            expanded += markdown_files(path)
        files = expanded
        for path in files:
            if queue:
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    failures += 1
                    self.stderr.write(f"{path}: cannot read it: {error}")
                    continue
                import_markdown_text.enqueue(text, str(path), user.pk if user else None)
                self.stdout.write(f"{path}: queued")
                continue
            try:
                result = import_markdown_file(path, author=user)
            except ImportProblem as problem:
                failures += 1
                self.stderr.write(f"{path}: {problem}")
                continue
            verb = "created" if result.created else "updated"
            self.stdout.write(f"{path}: {verb} {result.post.get_absolute_url()}")
        if failures:
            raise CommandError(
                f"{failures} of {len(files)} file(s) could not be imported."
            )
