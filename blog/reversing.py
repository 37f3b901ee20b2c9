"""reverse(), remembered per process (issue 8).

A listing page reversed the same few URLs on every request (each section in
the navigation and the desks, each feed of the listing and of the site): ~10 µs
each in Django's resolver. The answer depends only on the arguments, the
URLconf, the script prefix and the language, so it is remembered under all of
them and is, by construction, what reverse() gives. Bounded: a flood of new
arguments empties it, never grows it. A changed ROOT_URLCONF (tests) forgets it.
"""

from __future__ import annotations

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django.utils.translation import get_language

_memo: dict[tuple, str] = {}
MAX_MEMO = 4096


def _frozen(value):
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value


def reverse(viewname: str, kwargs: dict | None = None) -> str:
    """django.urls.reverse(viewname, kwargs=kwargs), remembered."""
    key = (
        viewname,
        tuple((name, _frozen(value)) for name, value in (kwargs or {}).items()),
        get_urlconf(),
        get_script_prefix(),
        get_language(),
    )
    url = _memo.get(key)
    if url is None:
        url = django_reverse(viewname, kwargs=kwargs)
        if len(_memo) >= MAX_MEMO:
            _memo.clear()
        _memo[key] = url
    return url


@receiver(setting_changed)
def forget(setting=None, **kwargs):
    if setting == "ROOT_URLCONF":
        _memo.clear()
