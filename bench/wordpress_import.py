"""The WordPress import at scale (issue 13): writes a WXR export of N posts
(default 5,000) with an uploads folder, imports it into a fresh database and
reports time, peak memory (RSS), posts per second and what was skipped.

    DATABASE_URL=sqlite:////tmp/wxr/db.sqlite3 .venv/bin/python bench/wordpress_import.py 5000 /tmp/wxr

The export mixes what real ones hold: 90% published posts, drafts, pending,
scheduled, private and trashed ones, pages, menu items, attachments; bodies
of eight paragraphs with a [caption] every 10th post, a YouTube iframe every
20th, a script every 25th, an in-body image every 5th and a featured image
every 10th post; 1 in 50 images refers to a file that is not in uploads.
"""

from __future__ import annotations

import io
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORDS = [
    "harbour",
    "tanker",
    "insurance",
    "premium",
    "broker",
    "route",
    "sanction",
    "cargo",
    "crane",
    "port",
    "minister",
    "market",
    "freight",
    "vessel",
    "crew",
    "weather",
    "season",
    "policy",
    "trade",
    "report",
]


def paragraph(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(40, 80))]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def write_export(path: Path, uploads: Path, posts: int, seed: int = 13) -> dict:
    from PIL import Image

    rng = random.Random(seed)
    images = []
    folder = uploads / "2020" / "01"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(20):
        name = f"picture-{n}.jpg"
        Image.new("RGB", (800, 500), (n * 12 % 255, 80, 160)).save(
            folder / name, "JPEG"
        )
        images.append(f"2020/01/{name}")
    site = "http://old.example.com"
    statuses = ["publish"] * 90 + ["draft"] * 3 + ["pending"] * 2 + ["future"] * 2
    statuses += ["private"] * 2 + ["trash"]
    expected: dict[str, int] = {}
    attachment_ids = {}
    with open(path, "w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            f"<title>Bench</title><link>{site}</link>"
            f"<wp:base_site_url>{site}</wp:base_site_url>\n"
        )
        for n in range(5):
            out.write(
                f"<wp:author><wp:author_login>{cdata(f'writer{n}')}</wp:author_login>"
                f"<wp:author_display_name>{cdata(f'Writer Number {n}')}"
                "</wp:author_display_name></wp:author>\n"
            )
        for n in range(10):
            out.write(
                f"<wp:category><wp:category_nicename>cat-{n}</wp:category_nicename>"
                f"<wp:cat_name>{cdata(f'Category {n}')}</wp:cat_name></wp:category>\n"
            )
        # Attachments first for half the images, the rest after the posts.
        next_id = 100_000
        for n, image in enumerate(images):
            attachment_ids[image] = next_id + n
        missing = "2020/01/not-there.jpg"
        attachment_ids[missing] = next_id + 99

        def attachment(image):
            return (
                f"<item><title>{escape(image)}</title><wp:post_id>{attachment_ids[image]}"
                f"</wp:post_id><wp:status>inherit</wp:status>"
                f"<wp:post_type>attachment</wp:post_type><wp:attachment_url>"
                f"{site}/wp-content/uploads/{image}</wp:attachment_url>"
                f"<wp:postmeta><wp:meta_key>_wp_attached_file</wp:meta_key>"
                f"<wp:meta_value>{image}</wp:meta_value></wp:postmeta>"
                f"<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>"
                f"<wp:meta_value>Alt of {escape(image)}</wp:meta_value></wp:postmeta>"
                "</item>\n"
            )

        for image in images[:10]:
            out.write(attachment(image))
        for n in range(1, posts + 1):
            status = rng.choice(statuses)
            expected[status] = expected.get(status, 0) + 1
            parts = [paragraph(rng) for _ in range(8)]
            image = missing if n % 50 == 0 else images[n % 20]
            url = f"{site}/wp-content/uploads/{image}"
            if n % 5 == 0:
                parts[2] += f' <img src="{url}" alt="Picture {n}" />'
            if n % 10 == 0:
                parts.insert(
                    1,
                    f'[caption id="attachment_{n}" width="800"]<img src="{url}" '
                    f'alt="Captioned {n}" width="800" height="500" /> Caption {n}[/caption]',
                )
            if n % 20 == 0:
                parts.append(
                    '<iframe src="https://www.youtube.com/embed/vid'
                    + str(n)
                    + '"></iframe>'
                )
            if n % 25 == 0:
                parts.append("<script>alert(1)</script>")
            parts.insert(4, f"<h2>Part {n}</h2>")
            body = "\n\n".join(parts)
            year = 2010 + n % 14
            date = f"{year}-{1 + n % 12:02d}-{1 + n % 28:02d} {n % 24:02d}:00:00"
            if status == "future":
                date = f"2099-{1 + n % 12:02d}-01 06:00:00"
            meta = ""
            if n % 10 == 0:
                meta = (
                    "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
                    f"<wp:meta_value>{attachment_ids[image]}</wp:meta_value></wp:postmeta>"
                )
            tags = "".join(
                f'<category domain="post_tag" nicename="tag-{t}">{cdata(f"Tag {t}")}</category>'
                for t in {rng.randrange(50) for _ in range(3)}
            )
            out.write(
                f"<item><title>{escape(f'Post number {n} about the harbour')}</title>"
                f"<link>{site}/{date[:4]}/{date[5:7]}/post-{n}/</link>"
                f"<dc:creator>{cdata(f'writer{n % 5}')}</dc:creator>"
                f'<guid isPermaLink="false">{site}/?p={n}</guid>'
                f"<content:encoded>{cdata(body)}</content:encoded>"
                f"<excerpt:encoded>{cdata('')}</excerpt:encoded>"
                f"<wp:post_id>{n}</wp:post_id><wp:post_date_gmt>{date}</wp:post_date_gmt>"
                f"<wp:post_name>post-{n}</wp:post_name><wp:status>{status}</wp:status>"
                f"<wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="cat-{n % 10}">'
                f"{cdata(f'Category {n % 10}')}</category>{tags}{meta}</item>\n"
            )
        for n in range(20):
            out.write(
                f"<item><title>Page {n}</title><link>{site}/page-{n}/</link>"
                f"<content:encoded>{cdata(paragraph(rng))}</content:encoded>"
                f"<wp:post_id>{50_000 + n}</wp:post_id><wp:post_name>page-{n}</wp:post_name>"
                f"<wp:status>publish</wp:status><wp:post_type>page</wp:post_type></item>\n"
            )
            out.write(
                f"<item><title>Menu {n}</title><wp:post_id>{60_000 + n}</wp:post_id>"
                "<wp:status>publish</wp:status><wp:post_type>nav_menu_item</wp:post_type>"
                "</item>\n"
            )
        for image in images[10:]:
            out.write(attachment(image))
        out.write("</channel>\n</rss>\n")
    return expected


def main() -> None:
    posts = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    work = Path(sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp("-wxr"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'db.sqlite3'}")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MEDIA_ROOT = work / "media"
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    export = work / "export.xml"
    started = time.monotonic()
    expected = write_export(export, work / "uploads", posts)
    print(
        f"wrote {export} ({export.stat().st_size / 1e6:.1f} MB) in "
        f"{time.monotonic() - started:.1f} s; statuses {expected}"
    )
    call_command("migrate", verbosity=0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = io.StringIO()
    started = time.monotonic()
    call_command(
        "import_wordpress",
        str(export),
        "--uploads",
        str(work / "uploads"),
        "--progress-every",
        "1000",
        stdout=out,
    )
    seconds = time.monotonic() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(out.getvalue())
    from blog.models import Post

    imported = Post.objects.count()
    print(
        f"{posts} posts in the export, {imported} imported in {seconds:.1f} s: "
        f"{imported / seconds:.1f} posts/s; peak RSS {rss / 1024:.0f} MB "
        f"(before the import {rss_before / 1024:.0f} MB)"
    )


if __name__ == "__main__":
    main()
