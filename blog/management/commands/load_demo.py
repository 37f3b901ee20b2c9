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


def abstract_art(seed: str, size=(1600, 900)) -> bytes:
    """A deterministic abstract illustration (bands and circles) for a demo
    post: our own picture, made here, so the demo ships no one else's work."""
    digest = hashlib.sha256(seed.encode()).digest()
    palette = [tuple(digest[i : i + 3]) for i in range(0, 24, 3)]
    image = Image.new("RGB", size, palette[0])
    draw = ImageDraw.Draw(image)
    width, height = size
    for band in range(6):
        top = band * height // 6
        draw.rectangle([0, top, width, top + height // 6], fill=palette[1 + band % 4])
    for circle in range(5):
        x = digest[8 + circle] * width // 255
        y = digest[14 + circle] * height // 255
        radius = 60 + digest[20 + circle] * 2
        draw.ellipse(
            [x - radius, y - radius, x + radius, y + radius],
            fill=palette[5 + circle % 3],
        )
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


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
                post.lead_image.save(
                    f"{post.slug}.png", ContentFile(abstract_art(post.slug)), save=False
                )
                post.save()
        for name, description in SECTION_DESCRIPTIONS.items():
            Section.objects.filter(name=name).update(description=description)
        for name, description in TAG_DESCRIPTIONS.items():
            Tag.objects.filter(name=name).update(description=description)
        self.stdout.write(f"Demo content: loaded {len(files)} articles.")
