"""blog/articles.py: an article's own parts are stored on its row and are
exactly what the templates render live; a stored part whose key is not current
(another stamp, or a row, section, tag or author that changed since) is never
served; every edit path stores them again."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from blog import articles
from blog.corrections import Correction
from blog.listings import _public_posts
from blog.models import Post
from tests.factories import (
    make_author,
    make_post,
    make_section,
    make_tag,
    make_update,
)

pytestmark = pytest.mark.django_db

RENDITIONS = [
    {
        "name": "renditions/harbour-480w-abc.jpg",
        "width": 480,
        "height": 270,
        "type": "image/jpeg",
    },
    {
        "name": "renditions/harbour-960w-def.jpg",
        "width": 960,
        "height": 540,
        "type": "image/jpeg",
    },
]


@pytest.fixture
def committed(monkeypatch):
    """What waits for the transaction to commit (the refresh) runs at once, as
    it does in production after each save (tests run inside a transaction
    that never commits)."""
    monkeypatch.setattr(
        articles.transaction, "on_commit", lambda func, *args, **kwargs: func()
    )


def page_row(post) -> Post:
    """The post as the article page reads it."""
    return _public_posts().get(pk=post.pk)


def is_stored(post) -> bool:
    return articles.stored_article(page_row(post)) is not None


def get_page(client, post):
    cache.clear()  # what is tested is the render, not the page cache
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def live_page(client, post):
    """The page as it renders with nothing stored."""
    with mock.patch.object(articles, "stored_article", return_value=None):
        return get_page(client, post)


@pytest.fixture
def story(committed):
    """A post with everything its own parts show: tags, two credited authors,
    a standfirst, a lead image, a correction, story updates and a link of the
    author's own to the feeds' stand-in origin."""
    world = make_section("World")
    post = make_post(
        "Talks <resume> & stall",
        section=world,
        summary="Delegations meet again after a year.",
        body="See [the draft](https://dateline.invalid/draft).\n\n## One\n\nA.\n\n"
        "## Two\n\nB.",
        tags=[make_tag("Iran"), make_tag("Énergie")],
        authors=[make_author("Zoë Q"), make_author("Ann O'Neil")],
        age=timedelta(days=3),
    )
    # As the renditions job writes them (no lead image file in tests).
    Post.objects.filter(pk=post.pk).update(
        lead_image_renditions=RENDITIONS,
        lead_image_alt="Cranes at dusk",
        lead_image_caption="The harbour",
        lead_image_credit="Desk",
    )
    make_update(post, body="Talks *resumed*.")
    Correction.objects.create(post=post, text="It was **four**, not three.")
    return post


def test_stored_parts_are_what_the_templates_render_live(client, story):
    """The page from stored parts is byte for byte the live render: metadata,
    header, byline, lead image, contents, body, correction, tags and feeds."""
    assert is_stored(story)
    stored = get_page(client, story)
    assert stored == live_page(client, story)
    assert "Talks &lt;resume&gt; &amp; stall" in stored
    assert "Cranes at dusk" in stored and "It was <strong>four</strong>" in stored
    # Absolute URLs carry the request's origin; the body's link stays as written.
    assert 'rel="canonical" href="http://testserver/' in stored
    assert "https://dateline.invalid/draft" in stored
    assert stored.count("dateline.invalid") == 1


def test_the_page_serves_the_stored_parts_while_their_key_is_current(client, story):
    """What is stored is what is served, as long as its key is current."""
    html = page_row(story).article_html.replace("Cranes at dusk", "Stored cranes")
    Post.objects.filter(pk=story.pk).update(article_html=html)
    assert "Stored cranes" in get_page(client, story)


def test_a_stale_key_renders_live(client, story):
    """Another stamp (a template, setting or language changed) or a key that
    is not the row's: the page renders its parts live, never the stored ones."""
    html = page_row(story).article_html.replace("Cranes at dusk", "Stale cranes")
    Post.objects.filter(pk=story.pk).update(article_html=html)
    with mock.patch.object(articles.ARTICLE, "stamp", return_value="another"):
        assert "Stale cranes" not in get_page(client, story)
    Post.objects.filter(pk=story.pk).update(article_key="stale")
    page = get_page(client, story)
    assert "Stale cranes" not in page and "Cranes at dusk" in page


def test_changes_that_skip_save_are_never_served_stale(client, story):
    """A job's write (renditions, body), a renamed section, tag or author: the
    key no longer matches, so the very next page shows the change, before
    anything is stored again."""
    with (
        mock.patch.object(articles, "refresh_later"),
        mock.patch.object(articles, "refresh"),
    ):
        Post.objects.filter(pk=story.pk).update(lead_image_alt="New alt text")
        assert "New alt text" in get_page(client, story)
        story.section.name = "Foreign desk"
        story.section.save()
        assert "Foreign desk</a></li>" in get_page(client, story)
        tag = story.tags.get(name="Iran")
        tag.name = "Persia"
        tag.save()
        assert ">Persia</a>" in get_page(client, story)
    assert not is_stored(story)


def test_story_updates_and_corrections_store_the_article_again(client, story):
    """A new update (the article's modified time) or correction: stored again,
    and the page shows it."""
    make_update(story, body="Talks *collapsed*.")
    assert is_stored(story)
    Correction.objects.create(post=story, text="The date was wrong.")
    assert is_stored(story)
    page = get_page(client, story)
    assert "Talks <em>collapsed</em>" in page and "The date was wrong." in page
    assert page == live_page(client, story)


def test_renames_and_retags_store_the_article_again(client, story):
    """Section, tag and author renames and tags added are stored again."""
    story.section.name = "Foreign desk"
    story.section.save()
    assert is_stored(story)
    tag = story.tags.get(name="Iran")
    tag.name = "Persia"
    tag.save()
    assert is_stored(story)
    story.tags.add(make_tag("Oil"))
    assert is_stored(story)
    author = story.bylines.first().author
    author.display_name = "Zoë Quinn"
    author.save()
    assert is_stored(story)
    page = get_page(client, story)
    assert "Foreign desk" in page and "Persia" in page and "Oil" in page
    assert "Zoë Quinn" in page
    assert page == live_page(client, story)


def test_an_edit_stores_the_article_again(client, story):
    """An edit saved through the model is stored with its final modified time."""
    story.title = "Talks end"
    story.save()
    assert is_stored(story)
    assert '<h1 class="article-title">Talks end</h1>' in get_page(client, story)


def test_rerender_and_the_refresh_job_store_what_is_stale(client, story):
    """`manage.py rerender` and the refresh job store every stale article."""
    Post.objects.update(article_html="", article_key="")
    call_command("rerender", stdout=mock.Mock(), stderr=mock.Mock())
    assert is_stored(story)
    Post.objects.update(article_key="")
    assert articles.refresh() == 1
    assert articles.refresh() == 0  # idempotent
    assert get_page(client, story) == live_page(client, story)


def test_generated_posts_are_stored(committed):
    """generate_posts stores each article's parts with its tags and updates."""
    call_command("generate_posts", 3, stdout=mock.Mock(), stderr=mock.Mock())
    assert all(is_stored(post) for post in Post.objects.all())


def test_a_scheduled_post_never_shows_stored_preview_parts(client, committed):
    """A post stored while scheduled goes live with no preview banner (the
    banner is live, never stored)."""
    post = make_post("Embargoed", age=-timedelta(minutes=5))
    assert "preview-banner" not in Post.objects.get(pk=post.pk).article_html
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - timedelta(minutes=1)
    )
    articles.refresh([post.pk])
    assert is_stored(post)
    assert "preview-banner" not in get_page(client, Post.objects.get(pk=post.pk))


def test_an_import_stores_the_article_with_its_restored_times(client, committed):
    """An imported post (its times restored after the save) is stored too."""
    from blog.importing import import_markdown

    text = (
        "---\ntitle: Imported talks\nsection: World\nstatus: published\n"
        "published: 2024-05-01T10:00:00Z\nupdated: 2024-05-02T10:00:00Z\n"
        "tags: [Iran]\n---\n\nBody.\n\n## One\n\nA.\n\n## Two\n\nB.\n"
    )
    post = import_markdown(text).post
    assert is_stored(post)
    assert get_page(client, post) == live_page(client, post)


def test_a_body_rendered_again_by_a_job_updates_the_standfirst(client, committed):
    """A job that renders the body again (its text) without saving: the
    standfirst it implies is never served stale, and is stored again."""
    post = make_post("Plain", summary="The talks resumed.", body="The talks resumed.")
    assert is_stored(post) and "standfirst" not in get_page(client, post)
    Post.objects.filter(pk=post.pk).update(body_text="Other words first.")
    assert '<p class="standfirst">The talks resumed.</p>' in get_page(client, post)
    assert articles.refresh([post.pk]) == 1
    assert is_stored(post)
