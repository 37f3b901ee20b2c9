"""blog/reversing.py: reverse() once per URL shape gives exactly what reverse()
gives, for every address pages print (listings, feeds, articles, tags with
unicode slugs), under another script prefix or URLconf too; bounded."""

import pytest
from django.test import override_settings
from django.urls import (
    NoReverseMatch,
    clear_script_prefix,
    reverse,
    set_script_prefix,
)

from blog import reversing
from blog.feeds import FORMATS
from blog.listings import AuthorListing, LatestListing, SectionListing, TagListing
from tests.factories import make_author, make_section, make_tag


def listings():
    return [
        LatestListing(),
        SectionListing(make_section("World")),
        TagListing([make_tag("Energy"), make_tag("Iran")]),
        AuthorListing(make_author("Ana Ruiz", slug="ana-ruiz")),
    ]


def every_url(listing):
    kwargs = listing.url_kwargs()
    if listing.kind != "latest":  # the home page is blog:home
        yield f"blog:{listing.kind}", kwargs
    for fmt in FORMATS:
        yield f"blog:{listing.kind}_feed_{fmt.name}", kwargs


@pytest.mark.django_db
def test_remembered_urls_equal_reverse():
    """Pages and feeds of every kind of listing, asked twice (the second
    answer is the remembered one)."""
    for listing in listings():
        for name, kwargs in every_url(listing):
            assert reversing.reverse(name, kwargs) == reverse(name, kwargs=kwargs)
            assert reversing.reverse(name, kwargs) == reverse(name, kwargs=kwargs)
        for fmt in FORMATS:
            assert listing.feed_url(fmt) == reverse(
                f"blog:{listing.kind}_feed_{fmt.name}", kwargs=listing.url_kwargs()
            )
    assert LatestListing().get_absolute_url() == reverse("blog:home")


@pytest.mark.django_db
def test_sections_and_bylines_link_as_reverse_does():
    section = make_section("Economy", slug="economy-2")
    assert section.get_absolute_url() == reverse(
        "blog:section", kwargs={"slug": section.slug}
    )


@pytest.mark.django_db
def test_the_script_prefix_is_followed():
    """A site served under /news/ gets /news/ URLs, a site at / does not."""
    section = make_section("World")
    plain = section.get_absolute_url()
    set_script_prefix("/news/")
    try:
        assert section.get_absolute_url() == "/news" + plain
        assert section.get_absolute_url() == reverse(
            "blog:section", kwargs={"slug": section.slug}
        )
    finally:
        clear_script_prefix()
    assert section.get_absolute_url() == plain


def test_another_urlconf_forgets_what_was_remembered():
    reversing.reverse("blog:home")
    assert reversing._memo
    with override_settings(ROOT_URLCONF="config.urls"):
        assert not reversing._memo


def test_the_memo_stays_bounded(monkeypatch):
    """A flood of distinct arguments empties it, never grows it."""
    monkeypatch.setattr(reversing, "MAX_MEMO", 5)
    for n in range(12):
        reversing.reverse("blog:section", {"slug": f"s-{n}"})
        assert len(reversing._memo) <= 5


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
    reversing._memo.clear()
    yield
    reversing._memo.clear()


@pytest.mark.parametrize(("name", "kwargs"), VALUES)
def test_every_shape_equals_reverse(name, kwargs):
    """Every address the pages print equals reverse()'s, quoting included,
    on the first call (which reverses) and on later ones (a format)."""
    expected = reverse(name, kwargs=kwargs)
    assert reversing.reverse(name, kwargs) == expected
    assert reversing.reverse(name, kwargs) == expected


def test_an_article_follows_the_script_prefix():
    """Served under a prefix (SCRIPT_NAME), addresses carry it, as reverse()'s do."""
    kwargs = {"year": 2026, "month": "03", "day": "04", "slug": "x"}
    plain = reversing.reverse("blog:post", kwargs)
    try:
        set_script_prefix("/news/")
        assert reversing.reverse("blog:post", kwargs) == reverse(
            "blog:post", kwargs=kwargs
        )
        assert reversing.reverse("blog:post", kwargs).startswith("/news/")
    finally:
        clear_script_prefix()
    assert reversing.reverse("blog:post", kwargs) == plain


def test_unknown_names_and_arguments_fail_as_reverse_does():
    """A wrong name or argument raises NoReverseMatch, never a made-up address."""
    with pytest.raises(NoReverseMatch):
        reversing.reverse("blog:nothing", {"slug": "x"})
    with pytest.raises(NoReverseMatch):
        reversing.reverse("blog:section", {"nope": "x"})


def test_a_shape_whose_samples_do_not_come_back_is_reversed_each_time(monkeypatch):
    """When a sample cannot be found in the reversed address (here, one that
    also occurs elsewhere in it), the shape falls back to reverse()."""
    monkeypatch.setitem(
        reversing.ARGUMENTS, "slug", (reversing._text, "section", "yqslugqy")
    )
    assert reversing._template("blog:section", ("slug",)) is None
    assert reversing.reverse("blog:section", {"slug": "world"}) == "/section/world/"
