"""blog/tagging.py: how editors type tags."""

import pytest

from blog.models import Tag
from blog.tagging import format_tags, parse_tags
from tests.factories import make_post, make_tag


def test_commas_separate_and_spaces_stay_inside_names():
    """'Middle East' is one tag; commas separate; quotes and duplicates go."""
    assert parse_tags("Middle East") == ["Middle East"]
    assert parse_tags(' Iran ,"Middle  East", iran, ,Oil') == [
        "Iran",
        "Middle East",
        "Oil",
    ]
    assert parse_tags("") == []


@pytest.mark.django_db
def test_format_is_what_parse_reads_back():
    """The admin shows tags as a string that parses back to the same tags."""
    tags = [make_tag("Middle East"), make_tag("Iran")]
    assert format_tags(tags) == "Iran, Middle East"
    assert parse_tags(format_tags(tags)) == ["Iran", "Middle East"]


@pytest.mark.django_db
def test_typing_a_tag_in_another_case_reuses_it(client):
    """Tagging 'iran' finds the existing 'Iran', so the post is on /tag/iran/."""
    make_tag("Iran")
    post = make_post()
    post.tags.add("iran")
    assert Tag.objects.count() == 1
    assert post.title in client.get("/tag/iran/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["🇺🇦", "?", "россия", "—"])
def test_any_tag_name_gets_an_address(client, name):
    """Tags with no Latin letters (Cyrillic, emoji, punctuation) get a working page."""
    post = make_post(tags=[make_tag(name), make_tag(name + "!")])
    for tag in post.tags.all():
        assert tag.slug
        assert client.get(tag.get_absolute_url()).status_code == 200
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/sitemap.xml").status_code == 200
