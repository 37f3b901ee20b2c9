"""reverse(), once per URL shape per process, then a string format (issue 8).

An article printed about forty addresses (the sections in the navigation, four
listings' feeds in three formats, its tags, authors and neighbours), a listing
page as many: each reverse() walked Django's resolver (~10 µs), a quarter of
the article's render path. `reverse` reverses a URL name once per URLconf,
script prefix and language with sample arguments, keeps the answer as a
format string, and fills in each call's values converted and quoted as the
path converters and reverse() write them: so every post's address costs a
format, not only those asked for before. A shape whose samples do not come
back verbatim is reversed on every call. Bounded (a flood of shapes empties
it); a changed ROOT_URLCONF (tests) forgets it. tests/test_reversing.py holds
it equal to reverse().
"""

from __future__ import annotations

from urllib.parse import quote

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import get_language

# What reverse() leaves unquoted in a path.
_SAFE = RFC3986_SUBDELIMS + "/~:@"


def _year(value) -> str:
    return f"{int(value):04d}"  # converters.FourDigitYear


def _two_digits(value) -> str:
    return f"{int(value):02d}"  # converters.TwoDigits


def _text(value) -> str:
    return quote(str(value), safe=_SAFE)  # Django's slug and str converters


def _tag_slugs(value) -> str:
    return _text(value if isinstance(value, str) else "+".join(value))  # TagSlugs


# Each keyword argument our URLs take: how it is written into a path, and two
# samples its converter accepts that nothing else in an address contains.
ARGUMENTS = {
    "year": (_year, 9753, 8642),
    "month": (_two_digits, "86", "97"),
    "day": (_two_digits, "42", "31"),
    "slug": (_text, "zqslugqz", "yqslugqy"),
    "slugs": (_tag_slugs, ["zqtagqz"], ["yqtagqy"]),
}

_memo: dict[tuple, str | None] = {}
MAX_MEMO = 4096


def _template(viewname: str, names: tuple[str, ...]) -> str | None:
    """reverse(viewname) with a placeholder for each of `names`, or None."""
    if any(name not in ARGUMENTS for name in names):
        return None
    first = {name: ARGUMENTS[name][1] for name in names}
    second = {name: ARGUMENTS[name][2] for name in names}
    try:
        url = django_reverse(viewname, kwargs=first)
        expected = django_reverse(viewname, kwargs=second)
    except NoReverseMatch:
        return None
    if not names:
        return url
    template = url.replace("{", "{{").replace("}", "}}")
    for name in names:
        sample = ARGUMENTS[name][0](first[name])
        if template.count(sample) != 1:
            return None
        template = template.replace(sample, "{" + name + "}")
    filled = template.format_map(
        {name: ARGUMENTS[name][0](second[name]) for name in names}
    )
    return template if filled == expected else None


def reverse(viewname: str, kwargs: dict | None = None) -> str:
    """django.urls.reverse(viewname, kwargs=kwargs), reversed once per shape."""
    kwargs = kwargs or {}
    key = (viewname, tuple(kwargs), get_urlconf(), get_script_prefix(), get_language())
    try:
        template = _memo[key]
    except KeyError:
        if len(_memo) >= MAX_MEMO:
            _memo.clear()
        template = _memo[key] = _template(viewname, key[1])
    if template is None:
        return django_reverse(viewname, kwargs=kwargs)
    if not kwargs:
        return template
    return template.format_map(
        {name: ARGUMENTS[name][0](value) for name, value in kwargs.items()}
    )


@receiver(setting_changed)
def forget(setting=None, **kwargs):
    if setting == "ROOT_URLCONF":
        _memo.clear()
