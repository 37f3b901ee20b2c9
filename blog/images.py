"""Lead images: uploads checked from their header, renditions made in the queue.

Bounds (issue 9): an upload is refused before anything is decoded when it is
larger than UPLOAD_MAX_BYTES, wider and taller than UPLOAD_MAX_PIXELS, or not
a JPEG, PNG, WebP or GIF by its content (never by its extension: an SVG named
.png is refused). Renditions decode JPEGs at a reduced scale (draft mode) and
never copy the full-size bitmap, so the worker's memory stays bounded.

Names, never URLs (issue 11): renditions are stored by name; their URLs come
from the storage when a page is rendered, so a new media host is one setting.
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
import warnings
from typing import TypedDict

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import models
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

WIDTHS = (480, 960, 1440)
JPEG_QUALITY = 82
# Sniffed from the content by Pillow; anything else (SVG, TIFF, PDF…) is refused.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
EXIF_ORIENTATION = 0x0112
ROTATED = {5, 6, 7, 8}  # orientations that swap width and height


class Rendition(TypedDict):
    name: str
    width: int
    height: int
    bytes: int
    type: str


def limits() -> tuple[int, int]:
    return settings.DATELINE["UPLOAD_MAX_BYTES"], settings.DATELINE["UPLOAD_MAX_PIXELS"]


def open_header(file) -> Image.Image:
    """Pillow reads only the header here; pixels are decoded on load()."""
    with warnings.catch_warnings():
        # Our own pixel bound is far below Pillow's bomb limits; its warning
        # would only repeat what we check next.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(file, formats=FORMATS)
        except Image.DecompressionBombError as error:
            raise ValidationError(
                "This picture has too many pixels.", code="image_pixels"
            ) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise ValidationError(
                "Upload a JPEG, PNG, WebP or GIF picture "
                "(this file is not one, whatever its name says).",
                code="image_format",
            ) from error


def check_upload(file) -> tuple[int, int]:
    """Refuse a file that is too big, too many pixels or not a picture we
    take; return its (width, height). Reads the header only."""
    max_bytes, max_pixels = limits()
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            f"This file is {filesizeformat(size)}; pictures can be at most "
            f"{filesizeformat(max_bytes)}.",
            code="image_bytes",
        )
    file.seek(0)
    try:
        with open_header(file) as image:
            width, height = image.size
    finally:
        file.seek(0)
    if width * height > max_pixels:
        raise ValidationError(
            f"This picture is {width:,} x {height:,} pixels "
            f"({width * height / 1e6:.0f} megapixels); the most is "
            f"{max_pixels / 1e6:.0f} megapixels.",
            code="image_pixels",
        )
    return width, height


class BoundedUploadHandler(TemporaryFileUploadHandler):
    """Uploads past the small in-memory size stream to a temporary file, which
    stops growing at UPLOAD_MAX_BYTES: the rest is counted, not kept, so the
    form can still say how large the file was (check_upload), and a huge
    upload costs neither memory nor disk."""

    def receive_data_chunk(self, raw_data, start):
        max_bytes, _ = limits()
        if start < max_bytes:
            self.file.write(raw_data[: max_bytes - start])


def validate_image_upload(value) -> None:
    """Model-field validator: new uploads only (a stored file was checked when
    it came in, and reading it again would fetch it from the storage)."""
    if value and not getattr(value, "_committed", True):
        check_upload(value.file)


class BoundedImageFormField(forms.ImageField):
    """The form field checks bytes, pixels and format from the header first,
    before Django's own ImageField opens and verifies the file, and its help
    text states the limits before anyone uploads."""

    def __init__(self, **kwargs):
        if not kwargs.get("help_text"):
            max_bytes, max_pixels = limits()
            kwargs["help_text"] = (
                f"JPEG, PNG, WebP or GIF, at most {filesizeformat(max_bytes)} and "
                f"{max_pixels / 1e6:.0f} megapixels."
            )
        super().__init__(**kwargs)

    def to_python(self, data):
        if data is not None and hasattr(data, "size"):
            check_upload(data)
        return super().to_python(data)


class StoredImageField(models.ImageField):
    """An ImageField that never opens its file when a row is loaded.

    Django's ImageField reads the picture on every load whose width or height
    is empty (issue 11: 7 file opens to list 9 posts, and a 500 on a node
    without the file). Here dimensions are read only when a file is assigned;
    rows saved without them get them from `manage.py rerender`.
    """

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": BoundedImageFormField, **kwargs})

    def update_dimension_fields(self, instance, force=False, *args, **kwargs):
        if not force:
            return
        try:
            super().update_dimension_fields(instance, *args, force=True, **kwargs)
        except OSError as error:  # a file that is gone is a missing image
            logger.warning("Cannot read the size of %s: %s", self.attname, error)


def display_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    if image.getexif().get(EXIF_ORIENTATION) in ROTATED:
        return height, width
    return width, height


def largest_rendition(image: Image.Image) -> Image.Image:
    """The picture as readers see it, at most WIDTHS[-1] wide, in RGB.

    JPEGs are decoded at 1/2…1/8 scale when that is still large enough
    (draft), and the full-size bitmap is never copied: resize() reads it once
    into the small result, and the EXIF rotation happens on that."""
    width, _ = display_size(image)
    target = min(width, WIDTHS[-1])
    scale = target / width
    stored = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image.draft("RGB", stored)
    if image.mode not in {"RGB", "RGBA", "L", "LA"}:
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    small = image.resize(stored, Image.Resampling.LANCZOS, reducing_gap=1.0)
    small.info = {**small.info, "exif": image.info.get("exif", b"")}
    small = ImageOps.exif_transpose(small)
    return small.convert("RGB")


def make_renditions(name: str, storage=default_storage) -> list[Rendition]:
    """Resize the stored image `name` to each width it exceeds, store the
    JPEGs next to it and return their names and sizes.

    The original is never served as is: it may be huge, or carry metadata
    (location, camera) a newsroom does not mean to publish. Names carry a
    content hash, so making them twice stores nothing new (jobs may run more
    than once) and browsers and CDNs may keep them forever."""
    with storage.open(name, "rb") as source:
        image = open_header(source)
        _, max_pixels = limits()
        if image.width * image.height > max_pixels:
            raise ValidationError(f"{name} has too many pixels for a rendition")
        largest = largest_rendition(image)
        image.close()
    stem, _ = posixpath.splitext(name)
    # Readers are served renditions/ only (blog/views.media): lead images'
    # sit beside their folder, anything else (the media library) under it.
    stem = (
        stem.replace("lead/", "renditions/", 1)
        if "lead/" in stem
        else f"renditions/{stem}"
    )
    widths = sorted({w for w in WIDTHS if w < largest.width} | {largest.width})
    renditions: list[Rendition] = []
    for width in widths:
        height = max(1, round(largest.height * width / largest.width))
        resized = (
            largest
            if width == largest.width
            else largest.resize((width, height), Image.Resampling.LANCZOS)
        )
        buffer = io.BytesIO()
        resized.save(
            buffer, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
        )
        digest = hashlib.blake2b(buffer.getvalue(), digest_size=5).hexdigest()
        wanted = f"{stem}-{width}w-{digest}.jpg"
        saved = (
            wanted
            if storage.exists(wanted)
            else storage.save(wanted, ContentFile(buffer.getvalue()))
        )
        renditions.append(
            {
                "name": saved,
                "width": width,
                "height": resized.height,
                "bytes": buffer.tell(),
                "type": "image/jpeg",
            }
        )
    return renditions


def with_urls(renditions: list[dict], storage=default_storage) -> list[dict]:
    """Renditions with their URLs, computed now from the storage (no file is
    opened, no request is made). Rows saved before names were stored carry a
    `url` of the form MEDIA_URL + name, which is turned back into the name."""
    sources = []
    for rendition in renditions:
        name = rendition.get("name") or rendition.get("url", "").removeprefix(
            settings.MEDIA_URL
        )
        if name:
            sources.append({**rendition, "name": name, "url": storage.url(name)})
    return sources
