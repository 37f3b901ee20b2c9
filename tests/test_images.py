"""blog/images.py: lead-image renditions for srcset and feeds."""

import io

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from tests.factories import make_post

pytestmark = pytest.mark.django_db


def png_bytes(width, height, colour=(40, 90, 160)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_renditions_are_made_on_save_at_each_width():
    """A 1600px image yields 480, 960 and 1440px JPEGs with their sizes in bytes."""
    post = make_post()
    post.lead_image.save("big.png", ContentFile(png_bytes(1600, 900)), save=False)
    post.lead_image_alt = "Blue"
    post.save()
    widths = [r["width"] for r in post.lead_image_renditions]
    assert widths == [480, 960, 1440]
    for rendition in post.lead_image_renditions:
        stored = post.lead_image.storage.open(rendition["url"].removeprefix("/media/"))
        with Image.open(stored) as image:
            assert image.format == "JPEG"
            assert image.size == (rendition["width"], rendition["height"])
        assert rendition["bytes"] == post.lead_image.storage.size(
            rendition["url"].removeprefix("/media/")
        )
    assert post.lead_image_srcset.count("w,") == 2


def test_small_image_is_not_upscaled():
    """An image narrower than every width gets one rendition at its own size."""
    post = make_post()
    post.lead_image.save("small.png", ContentFile(png_bytes(300, 200)), save=False)
    post.lead_image_alt = "Small"
    post.save()
    assert [(r["width"], r["height"]) for r in post.lead_image_renditions] == [
        (300, 200)
    ]


def test_renditions_are_kept_until_the_image_changes():
    """Saving again without a new image reuses the renditions."""
    post = make_post()
    post.lead_image.save("big.png", ContentFile(png_bytes(1000, 500)), save=False)
    post.lead_image_alt = "Blue"
    post.save()
    first = post.lead_image_renditions
    post.title = "New title"
    post.save()
    assert post.lead_image_renditions == first
    post.lead_image.save(
        "other.png", ContentFile(png_bytes(1000, 500, (200, 10, 10))), save=False
    )
    post.save()
    assert post.lead_image_renditions != first
