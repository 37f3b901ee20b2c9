"""blog/reversing.py: a remembered reverse() gives exactly what reverse() gives,
for every listing's URL and feed, under another script prefix or URLconf too."""

import pytest
from django.test import override_settings
from django.urls import clear_script_prefix, reverse, set_script_prefix

from blog import reversing
from blog.feeds import FORMATS
from blog.listings import AuthorListing, LatestListing, SectionListing, TagListing
from tests.factories import make_author, make_section, make_tag

pytestmark = pytest.mark.django_db


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


def test_sections_and_bylines_link_as_reverse_does():
    section = make_section("Economy", slug="economy-2")
    assert section.get_absolute_url() == reverse(
        "blog:section", kwargs={"slug": section.slug}
    )


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
