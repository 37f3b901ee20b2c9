"""Addresses an imported site used to have (issue 13): `/?p=123`,
`/?page_id=7` and the old permalink paths of each WordPress item answer 301
to the post or static page they became.

The lookup costs nothing on the pages the site serves: the middleware reads
the table only for `/` carrying a `p` or `page_id` parameter (before the
page cache, whose key ignores those parameters) and for a response that is
already a 404 (as django.contrib.redirects does), so every existing page
keeps its query budget and its cached copy.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import DatabaseError, models
from django.http import HttpResponsePermanentRedirect
from django.utils.translation import gettext_lazy as _

MAX_PATH = 500
# The query parameters of WordPress's plain permalinks.
ID_PARAMETERS = ("p", "page_id")


class LegacyAddress(models.Model):
    """An old address (a path, or `/?p=ID`) and what it became."""

    path = models.CharField(_("old address"), max_length=MAX_PATH, unique=True)
    post = models.ForeignKey(
        "blog.Post",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legacy_addresses",
    )
    page = models.ForeignKey(
        "blog.Page",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="legacy_addresses",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("old address")
        verbose_name_plural = _("old addresses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(post__isnull=False) ^ models.Q(page__isnull=False),
                name="legacy_address_has_one_target",
            )
        ]

    def __str__(self):
        return self.path

    @property
    def target(self):
        return self.post or self.page


def normalize_path(address: str) -> str | None:
    """An old address as stored: its path (with a trailing slash kept as
    written) or `/?p=ID` / `/?page_id=ID`; None for what cannot be one."""
    parts = urlsplit(address.strip())
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    if path == "/":
        for name in ID_PARAMETERS:
            for pair in parts.query.split("&"):
                key, _, value = pair.partition("=")
                if key == name and value.isdigit():
                    return f"/?{name}={int(value)}"
        return None
    return path[:MAX_PATH]


def id_address(kind: str, wp_id) -> str:
    """`/?p=ID` for a post, `/?page_id=ID` for a page."""
    return f"/?{'page_id' if kind == 'page' else 'p'}={int(wp_id)}"


def remember(address: str, target) -> bool:
    """Points `address` at `target` (a Post or Page). False if it cannot be one
    or is the target's own address."""
    from blog.models import Page

    path = normalize_path(address)
    if path is None or path == target.get_absolute_url():
        return False
    is_page = isinstance(target, Page)
    LegacyAddress.objects.update_or_create(
        path=path,
        defaults={
            "post": None if is_page else target,
            "page": target if is_page else None,
        },
    )
    return True


def lookup(path: str):
    """The live target of an old address, or None (also when the database
    cannot answer: the page itself then degrades as it would, blog/degrade.py)."""
    try:
        found = (
            LegacyAddress.objects.filter(path=path)
            .select_related("post", "page")
            .first()
        )
    except DatabaseError:
        return None
    if found is None:
        return None
    target = found.target
    if found.post is not None and not found.post.is_live:
        return None
    if found.page is not None and not found.page.published:
        return None
    return target


class LegacyAddressMiddleware:
    """301 from an imported site's old addresses; see the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/" and request.method in {"GET", "HEAD"}:
            for name in ID_PARAMETERS:
                value = request.GET.get(name)
                if value is not None:
                    target = lookup(normalize_path(f"/?{name}={value}") or "")
                    if target is not None:
                        return HttpResponsePermanentRedirect(target.get_absolute_url())
        response = self.get_response(request)
        if response.status_code == 404 and request.method in {"GET", "HEAD"}:
            path = normalize_path(request.path)
            target = lookup(path) if path and path != "/" else None
            if target is not None:
                return HttpResponsePermanentRedirect(target.get_absolute_url())
        return response


class ImportedImage(models.Model):
    """A file an import copied into the media library, by where it came from
    (its path under the old site's uploads folder): importing again reuses
    the library image instead of adding the picture twice. `media_id` is the
    MediaImage's primary key (blog/media.py)."""

    source = models.CharField(max_length=MAX_PATH, unique=True)
    media_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("imported image")
        verbose_name_plural = _("imported images")

    def __str__(self):
        return self.source
