"""blog/converters.py: the URL contract's path pieces."""

from django.urls import reverse

from blog.converters import TagSlugs


def test_tag_slugs_round_trip():
    """`a+b` ↔ ['a', 'b']; reverse() accepts a list or a string."""
    converter = TagSlugs()
    assert converter.to_python("iran+russia") == ["iran", "russia"]
    assert converter.to_url(["iran", "russia"]) == "iran+russia"
    assert (
        reverse("blog:tag", kwargs={"slugs": ["iran", "russia"]}) == "/tag/iran+russia/"
    )


def test_dates_are_zero_padded():
    """Article URLs always have four-digit years and two-digit months and days."""
    url = reverse("blog:post", kwargs={"year": 2026, "month": 3, "day": 4, "slug": "x"})
    assert url == "/2026/03/04/x/"
