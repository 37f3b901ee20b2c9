from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from blog.exporting import export_site


class Command(BaseCommand):
    help = (
        "Write every post and static page as Markdown with YAML front matter (all "
        "fields, story updates, feed ids, old slugs and addresses), site.yaml "
        "(sections, tags, authors) and the images they use, into DIR. "
        "`import_markdown DIR` reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)

    def handle(self, *args, directory, **options):
        if directory.exists() and not directory.is_dir():
            raise CommandError(f"{directory} is not a directory.")
        if directory.is_dir() and any(directory.iterdir()):
            raise CommandError(f"{directory} is not empty: export into a new folder.")
        summary = export_site(directory)
        self.stdout.write(
            f"Exported {summary.posts} posts, {summary.pages} pages and "
            f"{summary.images} images to {directory}."
        )
        for name in summary.missing_images:
            self.stderr.write(f"missing image file (not exported): {name}")
