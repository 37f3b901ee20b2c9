"""blog/importing.py: Markdown files with front matter become posts."""

from datetime import UTC, datetime

import pytest

from blog.importing import ImportProblem, import_markdown, split_front_matter
from blog.models import Post, Section, StoryUpdate, Tag

pytestmark = pytest.mark.django_db

ARTICLE = """---
title: "Oil & gas: what changed"
slug: oil-gas
section: Economy
tags: [Energy, Russia]
published: 2026-11-20T08:30:00Z
summary: "A short standfirst."
status: published
updates:
  - published: 2026-11-21T10:00:00Z
    body: |
      First update.
---

Opening paragraph.

## Part one

Text.
"""


def test_split_front_matter():
    """Front matter is YAML between --- lines; the rest is the body."""
    meta, body = split_front_matter(ARTICLE)
    assert meta["title"] == "Oil & gas: what changed"
    assert body.startswith("Opening paragraph.")


def test_import_creates_post_section_tags_and_updates():
    """Import creates the post, its missing section and tags, and its updates."""
    result = import_markdown(ARTICLE)
    post = result.post
    assert result.created
    assert post.slug == "oil-gas" and post.section.name == "Economy"
    assert sorted(t.name for t in post.tags.all()) == ["Energy", "Russia"]
    assert post.published_at == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert post.is_live and post.summary == "A short standfirst."
    assert post.toc[0]["id"] == "part-one"
    assert StoryUpdate.objects.filter(post=post).count() == 1


def test_reimport_updates_instead_of_duplicating():
    """Importing the same file again updates the post (and its updates)."""
    import_markdown(ARTICLE)
    result = import_markdown(ARTICLE.replace("Opening paragraph.", "New opening."))
    assert not result.created
    assert Post.objects.count() == 1 and Section.objects.count() == 1
    assert Tag.objects.count() == 2 and StoryUpdate.objects.count() == 1
    assert "New opening." in result.post.body_html


def test_existing_section_and_tags_are_reused_case_insensitively():
    """'economy' and 'ENERGY' reuse Economy and Energy."""
    import_markdown(ARTICLE)
    other = (
        ARTICLE.replace("slug: oil-gas", "slug: other")
        .replace("section: Economy", "section: economy")
        .replace("[Energy, Russia]", "ENERGY, russia")
    )
    import_markdown(other)
    assert Section.objects.count() == 1 and Tag.objects.count() == 2


def test_slug_defaults_to_the_title_and_status_to_published():
    """Without slug or status: the slug comes from the title, the post is published."""
    post = import_markdown("---\ntitle: Hello World\nsection: World\n---\nBody.").post
    assert post.slug == "hello-world" and post.status == "published"


def test_draft_status_is_kept():
    """status: draft imports a draft."""
    post = import_markdown(
        "---\ntitle: Draft\nsection: World\nstatus: draft\n---\nBody."
    ).post
    assert not post.is_live


@pytest.mark.parametrize(
    "text,message",
    [
        ("---\nsection: World\n---\nBody.", "needs a title"),
        ("---\ntitle: T\n---\nBody.", "needs a section"),
        ("---\ntitle: T\nsection: W\n---\n", "no body"),
        ("---\ntitle: [unclosed\n---\nBody.", "not valid YAML"),
        ("---\ntitle: T\nsection: W\n", "never closes"),
        ("---\n- a list\n---\nBody.", "mapping"),
        ("---\ntitle: T\nsection: W\npublished: yesterday\n---\nBody.", "not a date"),
        ("---\ntitle: T\nsection: W\nstatus: maybe\n---\nBody.", "status must be"),
        ("---\ntitle: '!!!'\nsection: W\n---\nBody.", "slug"),
        ("---\ntitle: T\nsection: W\nupdates: 5\n---\nBody.", "updates must be"),
        ("---\ntitle: T\nsection: W\n---\n" + "[" * 50000, "takes more than"),
        ("---\ntitle: T\nsection: W\n---\n" + "> " * 500 + "x", "nested more"),
        ("---\ntitle: T\nsection: W\n---\n" + "x" * 200_001, "the limit is"),
        (
            "---\ntitle: T\nsection: W\nupdates:\n- published: 2026-01-01\n"
            "  body: '" + "*a" * 50000 + "'\n---\nBody.",
            "an update: This text takes more than",
        ),
    ],
)
def test_bad_files_are_refused_with_a_reason(text, message):
    """A file that cannot become a post is refused with a message saying why, and nothing is saved."""
    with pytest.raises(ImportProblem, match=message):
        import_markdown(text)
    assert Post.objects.count() == 0
    assert Section.objects.count() == 0


def test_shared_article_imports_with_five_subsections_and_five_tags(shared_article):
    """The shared article: section World, five tags, five h2 ids and a TOC."""
    post = import_markdown(shared_article).post
    assert post.section.name == "World"
    assert sorted(t.name for t in post.tags.all()) == sorted(
        ["Iran", "Russia", "Geopolitics", "Energy", "Defense"]
    )
    assert len(post.toc) == 5 and post.body_html.count("<h2 id=") == 5
    assert post.slug == "iran-russia-latest-news-updates"
    assert post.summary


def test_section_name_without_latin_letters_is_refused():
    """A section whose name gives no address is refused; nothing is created."""
    text = "---\ntitle: Hello\nslug: hello\nsection: Политика\n---\nBody."
    with pytest.raises(ImportProblem, match="create it in the admin first"):
        import_markdown(text)
    assert Section.objects.count() == 0 and Post.objects.count() == 0


def test_overlong_tag_is_refused():
    """Tag names over 100 characters are refused with a reason."""
    text = "---\ntitle: Hello\nsection: World\ntags: [" + "x" * 120 + "]\n---\nBody."
    with pytest.raises(ImportProblem, match="at most 100"):
        import_markdown(text)
