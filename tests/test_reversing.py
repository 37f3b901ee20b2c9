"""blog/reversing.py: reverse() once per URL shape, then a string format."""

import pytest
from django.urls import NoReverseMatch, reverse, set_script_prefix

from blog import reversing
from blog.feeds import FORMATS
from blog.reversing import reverse_kwargs

VALUES = [
    ("blog:home", {}),
    ("blog:archive", {}),
    ("blog:post", {"year": 2026, "month": "03", "day": "04", "slug": "a-b_c-1"}),
    ("blog:post", {"year": 999, "month": 3, "day": 4, "slug": "x"}),
    ("blog:section", {"slug": "world"}),
    ("blog:tag", {"slugs": ["iran"]}),
    ("blog:tag", {"slugs": ["iran", "russia"]}),
    ("blog:tag", {"slugs": "россия"}),
    ("blog:tag", {"slugs": ["énergie", "россия"]}),
    ("blog:author", {"slug": "ann-o'neil"}),
    ("blog:author", {"slug": "zoë 50%"}),
    ("blog:page", {"slug": "about"}),
    *(
        (f"blog:{kind}_feed_{fmt.name}", kwargs)
        for fmt in FORMATS
        for kind, kwargs in [
            ("latest", {}),
            ("section", {"slug": "world"}),
            ("tag", {"slugs": ["iran", "россия"]}),
            ("post", {"year": 2026, "month": "12", "day": "31", "slug": "s"}),
            ("author", {"slug": "ann"}),
        ]
    ),
]


@pytest.fixture(autouse=True)
def fresh_templates():
    reversing._templates.clear()
    yield
    reversing._templates.clear()


@pytest.mark.parametrize(("name", "kwargs"), VALUES)
def test_equals_reverse(name, kwargs):
    """Every address the pages print equals reverse()'s, quoting included,
    on the first call (which reverses) and on later ones (a format)."""
    expected = reverse(name, kwargs=kwargs)
    assert reverse_kwargs(name, kwargs) == expected
    assert reverse_kwargs(name, kwargs) == expected


def test_follows_the_script_prefix():
    """Served under a prefix (SCRIPT_NAME), addresses carry it, as reverse()'s do."""
    kwargs = {"year": 2026, "month": "03", "day": "04", "slug": "x"}
    plain = reverse_kwargs("blog:post", kwargs)
    try:
        set_script_prefix("/news/")
        assert reverse_kwargs("blog:post", kwargs) == reverse(
            "blog:post", kwargs=kwargs
        )
        assert reverse_kwargs("blog:post", kwargs).startswith("/news/")
    finally:
        set_script_prefix("/")
    assert reverse_kwargs("blog:post", kwargs) == plain


def test_unknown_names_and_arguments_fail_as_reverse_does():
    """A wrong name or argument raises NoReverseMatch, never a made-up address."""
    with pytest.raises(NoReverseMatch):
        reverse_kwargs("blog:nothing", {"slug": "x"})
    with pytest.raises(NoReverseMatch):
        reverse_kwargs("blog:section", {"nope": "x"})


def test_a_shape_whose_samples_do_not_come_back_is_reversed_each_time(monkeypatch):
    """When a sample cannot be found in the reversed address (here, one that
    also occurs elsewhere in it), the shape falls back to reverse()."""
    monkeypatch.setitem(
        reversing.ARGUMENTS, "slug", (reversing._text, "section", "yqslugqy")
    )
    assert reversing._template("blog:section", ("slug",)) is None
    assert reverse_kwargs("blog:section", {"slug": "world"}) == "/section/world/"
