import hashlib
import io
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from PIL import Image, ImageDraw

from blog.importing import import_markdown_file
from blog.models import Post, Section, Tag

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"

SECTION_DESCRIPTIONS = {
    "World": "Diplomacy, conflict and the alliances that shape them.",
    "Economy": "Markets, trade, energy and the policies behind the prices.",
    "Science": "Research, health and technology, explained without the hype.",
    "Culture": "Books, ideas and the places where people meet them.",
}
TAG_DESCRIPTIONS = {
    "Iran": "Iran's politics, economy and foreign relations.",
    "Russia": "Russia's politics, economy and foreign relations.",
    "Energy": "Oil, gas, power grids and the transition away from fossil fuels.",
    "Explainer": "How things work, from first principles.",
}


# A muted, newspaper-like palette, named so the alt text can say what is drawn.
PALETTE = [
    ("slate blue", (51, 101, 138)),
    ("pale blue", (134, 187, 216)),
    ("deep teal", (47, 72, 88)),
    ("sage", (135, 187, 162)),
    ("sand", (212, 180, 131)),
    ("ochre", (214, 158, 46)),
    ("brick red", (164, 74, 63)),
    ("charcoal", (54, 73, 88)),
    ("stone", (228, 223, 218)),
    ("olive", (118, 130, 84)),
]


def abstract_art(seed: str, size=(1600, 900)) -> tuple[bytes, str]:
    """A deterministic abstract illustration (bands and circles) for a demo
    post, and alt text saying what it shows: our own picture, made here, so
    the demo ships no one else's work."""
    digest = hashlib.sha256(seed.encode()).digest()
    bands = [PALETTE[digest[i] % len(PALETTE)] for i in range(2)]
    circles = [c for c in PALETTE if c not in bands]
    circle = circles[digest[2] % len(circles)]
    image = Image.new("RGB", size, bands[0][1])
    draw = ImageDraw.Draw(image)
    width, height = size
    for band in range(1, 6, 2):
        top = band * height // 6
        draw.rectangle([0, top, width, top + height // 6], fill=bands[1][1])
    for n in range(3):
        x = digest[8 + n] * width // 255
        y = digest[14 + n] * height // 255
        radius = 80 + digest[20 + n]
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=circle[1])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    names = bands[0][0] if bands[0] == bands[1] else f"{bands[0][0]} and {bands[1][0]}"
    alt = f"Abstract illustration: horizontal {names} bands with three {circle[0]} circles"
    return buffer.getvalue(), alt


class Command(BaseCommand):
    help = "Load Dateline's demo articles (blog/demo/*.md) the first time; then do nothing."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Load even if posts already exist."
        )

    @transaction.atomic
    def handle(self, *args, force=False, **options):
        if Post.objects.exists() and not force:
            self.stdout.write("Demo content: posts exist already, nothing loaded.")
            return
        files = sorted(DEMO_DIR.glob("*.md"))
        for path in files:
            post = import_markdown_file(path).post
            if not post.lead_image:
                picture, alt = abstract_art(post.slug)
                post.lead_image.save(
                    f"{post.slug}.png",
                    ContentFile(picture, name=f"{post.slug}.png"),
                    save=False,
                )
                post.lead_image_alt = alt
                post.save()
        for name, description in SECTION_DESCRIPTIONS.items():
            Section.objects.filter(name=name).update(description=description)
        for name, description in TAG_DESCRIPTIONS.items():
            Tag.objects.filter(name=name).update(description=description)
        self.stdout.write(f"Demo content: loaded {len(files)} articles.")
