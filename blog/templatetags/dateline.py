import json

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

# What json_script escapes, so a "</script>" inside a headline cannot end the block.
_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.filter
def machine_time(value) -> str:
    """A `<time datetime>` value: ISO 8601 in the site's zone, to the second
    (HTML rejects the microseconds `isoformat()` would carry)."""
    if not value:
        return ""
    return timezone.localtime(value).replace(microsecond=0).isoformat()


@register.filter
def json_ld(data) -> str:
    """One <script type="application/ld+json"> block, safe for any text inside."""
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True).translate(
        _JSON_ESCAPES
    )
    block = '<script type="application/ld+json">{}</script>'
    return format_html(block, mark_safe(payload))  # noqa: S308 - escaped above
