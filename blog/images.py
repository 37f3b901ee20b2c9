"""Lead-image renditions: a few JPEG widths for `srcset`, made once on save."""

from __future__ import annotations

import hashlib
import io
import posixpath
from typing import TypedDict

from django.core.files.base import ContentFile
from PIL import Image, ImageOps

WIDTHS = (480, 960, 1440)
JPEG_QUALITY = 82


class Rendition(TypedDict):
    url: str
    width: int
    height: int
    bytes: int
    type: str


def make_renditions(field) -> list[Rendition]:
    """Resize the image in `field` (an ImageFieldFile) to each width it exceeds.

    The original is never served as is: it may be huge, or carry metadata
    (location, camera) a newsroom does not mean to publish.
    """
    storage = field.storage
    field.open("rb")
    try:
        with Image.open(field) as original:
            image = ImageOps.exif_transpose(original).convert("RGB")
    finally:
        field.close()
    stem, _ = posixpath.splitext(field.name)
    widths = [w for w in WIDTHS if w < image.width] + [min(image.width, WIDTHS[-1])]
    renditions: list[Rendition] = []
    for width in sorted(set(widths)):
        height = round(image.height * width / image.width)
        resized = image.resize((width, height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        resized.save(
            buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
        )
        # The content hash in the name lets browsers and CDNs keep a rendition
        # forever: a new image gets a new address.
        digest = hashlib.blake2b(buffer.getvalue(), digest_size=5).hexdigest()
        name = f"{stem.replace('lead/', 'renditions/', 1)}-{width}w-{digest}.jpg"
        saved = (
            name
            if storage.exists(name)
            else storage.save(name, ContentFile(buffer.getvalue()))
        )
        renditions.append(
            {
                "url": storage.url(saved),
                "width": width,
                "height": height,
                "bytes": buffer.tell(),
                "type": "image/jpeg",
            }
        )
    return renditions
