"""reverse() for the addresses a page prints many times, at the cost of a
string format.

An article printed about forty addresses (the sections in the navigation, four
listings' feeds in three formats, its tags, authors and neighbours), and each
reverse() walked the resolver: a quarter of the page's time on the render
path (issue 8). `reverse_kwargs` reverses a URL name once per process, script
prefix and URLconf with sample arguments, keeps the result as a format string,
and fills in each call's values converted and quoted as the path converters
and reverse() write them. A shape whose samples do not come back verbatim is
reversed on every call. tests/test_reversing.py holds it equal to reverse().
"""

from __future__ import annotations

from urllib.parse import quote

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.http import RFC3986_SUBDELIMS

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

_templates: dict[tuple, str | None] = {}
MAX_TEMPLATES = 1024


def _template(viewname: str, names: tuple[str, ...]) -> str | None:
    """reverse(viewname) with placeholders for `names`, or None."""
    if any(name not in ARGUMENTS for name in names):
        return None
    first = {name: ARGUMENTS[name][1] for name in names}
    second = {name: ARGUMENTS[name][2] for name in names}
    try:
        url = reverse(viewname, kwargs=first)
        expected = reverse(viewname, kwargs=second)
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


def reverse_kwargs(viewname: str, kwargs: dict | None = None) -> str:
    """reverse(viewname, kwargs=kwargs), reversed once per shape."""
    kwargs = kwargs or {}
    key = (viewname, tuple(kwargs), get_script_prefix(), get_urlconf())
    try:
        template = _templates[key]
    except KeyError:
        if len(_templates) >= MAX_TEMPLATES:
            _templates.clear()
        template = _templates[key] = _template(viewname, key[1])
    if template is None:
        return reverse(viewname, kwargs=kwargs)
    if not kwargs:
        return template
    return template.format_map(
        {name: ARGUMENTS[name][0](value) for name, value in kwargs.items()}
    )
