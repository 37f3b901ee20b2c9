"""manage.py generate_posts: a realistic, public, searchable archive by bulk insert."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone, translation

from blog import articles
from blog.models import Post, SiteState, StoryUpdate
from blog.search import as_posts, search_posts

pytestmark = pytest.mark.django_db


def generate(count, *args):
    out, err = StringIO(), StringIO()
    call_command("generate_posts", count, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_generated_posts_are_public_with_sections_tags_and_toc():
    """Every generated post is live, filed in a section, tagged, with a TOC."""
    out, err = generate(30)
    posts = Post.objects.published().for_listing()
    assert posts.count() == 30
    assert "Generated 30 posts" in out
    assert "30/30 posts" in err  # the progress bar
    for post in posts:
        assert post.section_id and post.has_toc and post.word_count >= 1200
        assert 2 <= len(post.tags.all()) <= 4
        assert post.body_html.startswith("<p>") and post.summary
    dates = sorted(post.published_at for post in posts)
    assert (dates[-1] - dates[0]).days > 365 * 5  # spread over years


def test_rows_are_what_save_would_store():
    """Saving a generated post through the model changes none of its columns
    (rendered HTML, outline, search vector, anything save() precomputes)."""
    generate(3)
    for post in Post.objects.all():
        before = columns(post)
        post.save()
        post.refresh_from_db()
        assert columns(post) == before


def test_story_updates_are_what_save_would_store():
    """Saving a generated story update changes none of its rendered columns:
    its HTML, and its feed HTML made absolute against its story's address."""
    generate(40)
    updates = StoryUpdate.objects.select_related("post")
    assert updates

    def rendered(update):
        return (update.body_html, update.feed_html, update.feed_path)

    for update in updates:
        before = rendered(update)
        update.save()
        update.refresh_from_db()
        assert rendered(update) == before


def test_article_parts_are_stored_current():
    """Each generated article's stored parts are what articles.refresh would
    store, under the key its page computes from the row it reads: the page
    serves them instead of rendering them live."""
    generate(25)
    posts = list(articles.article_rows().order_by("pk"))
    assert len(posts) == 25
    for post in posts:
        assert post.article_key == articles.article_key(post)
        with translation.override(settings.LANGUAGE_CODE):
            assert post.article_html == articles.render_article(post)
        assert articles.stored_article(post) == post.article_html


def test_writers_never_query_the_database():
    """A writer process given work that queries fails the run (its inherited
    connections are the parent's) instead of running the query."""
    from blog.management.commands import generate_posts

    generate_posts._start_writer(1, [], [], [], timezone.now())
    try:
        with pytest.raises(RuntimeError, match="queried the database"):
            Post.objects.count()
    finally:
        for alias in connections:
            connections[alias].execute_wrappers.remove(generate_posts._no_queries)


def test_ids_are_reserved_past_existing_posts():
    """Generated posts take the ids reserved for them; a post saved afterwards
    takes a new one after them."""
    generate(3)
    generate(2)
    ids = sorted(Post.objects.values_list("pk", flat=True))
    assert ids == list(range(ids[0], ids[0] + 5))
    first = Post.objects.first()
    later = Post.objects.create(
        title="Later", slug="later", author=first.author, section=first.section
    )
    assert later.pk > ids[-1]


def columns(post) -> dict:
    return {
        field.attname: getattr(post, field.attname)
        for field in Post._meta.concrete_fields
        if field.attname != "updated_at"
    }


def test_generated_posts_are_searchable():
    """A generated post is found by a word from its title (FTS5 or tsvector)."""
    generate(12)
    post = Post.objects.order_by("pk")[5]
    word = max(post.title.split(), key=len).strip(":,")
    assert post in as_posts(search_posts(word))


def test_generated_posts_appear_on_pages(client):
    """Home, section, tag and article pages show generated posts."""
    generate(20)
    newest = Post.objects.published().first()
    assert newest.title in client.get(reverse("blog:home")).content.decode()
    section = client.get(newest.section.get_absolute_url())
    assert newest.title in section.content.decode()
    tag = newest.tags.order_by("slug").first()
    assert (
        newest.get_absolute_url() in client.get(tag.get_absolute_url()).content.decode()
    )
    article = client.get(newest.get_absolute_url())
    assert article.status_code == 200
    assert newest.toc[0]["id"] in article.content.decode()


def test_some_posts_get_story_updates_after_publication():
    """About one post in twenty is a developing story; updates follow the post."""
    generate(120)
    updates = StoryUpdate.objects.published().select_related("post")
    assert 1 <= updates.values("post").distinct().count() <= 20
    assert all(u.published_at > u.post.published_at for u in updates)


def test_running_again_adds_posts_with_new_slugs():
    """A second run adds more posts instead of clashing; --clear starts over."""
    generate(5)
    generate(5)
    assert Post.objects.count() == 10
    generate(4, "--clear")
    assert Post.objects.count() == 4


def test_it_moves_every_validator():
    """Bulk inserts send no signals, so the command touches SiteState itself."""
    SiteState.touch()
    before = SiteState.objects.get(pk=1).changed_at
    generate(2)
    assert SiteState.objects.get(pk=1).changed_at > before


def test_bounds_are_checked():
    """Absurd counts or batch sizes are refused before anything is written."""
    for args in ([-1], [2_000_000], [5, "--batch", "0"]):
        with pytest.raises(CommandError):
            generate(*args)
    assert not Post.objects.exists()
