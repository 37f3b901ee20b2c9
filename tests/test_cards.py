"""blog/cards.py: a post's card and desk line are stored at save time and are
exactly what the templates render live; a stale stamp means a live render; a
change of anything else a card shows (section, author, owner, renditions)
reaches every listing on its next request."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from blog import cards, tasks
from blog.models import Byline, Post
from tests.factories import (
    make_author,
    make_post,
    make_section,
    make_tag,
    make_user,
)
from tests.test_images import png_bytes

pytestmark = pytest.mark.django_db

INCLUDE = Template(
    '{% include "blog/_post_card.html" with level=2 lead=lead eager=eager %}'
)


def live_card(post, lead=False, eager=False) -> str:
    """What the listings rendered before cards were stored."""
    return INCLUDE.render(Context({"post": post, "lead": lead, "eager": eager}))


def listed(post) -> Post:
    """The post as a listing reads it."""
    return Post.objects.for_listing().get(pk=post.pk)


def with_image(post) -> Post:
    """The post with a lead image whose renditions the (immediate) queue made."""
    post.lead_image.save("lead.png", ContentFile(png_bytes(1600, 900)), save=False)
    post.lead_image_alt = "A harbour at dawn"
    post.save()
    return post


@pytest.fixture
def world():
    return make_section("World")


@pytest.fixture
def posts(world):
    """Posts of every shape a card has: odd characters, two authors, an
    image, no summary; one pinned on the home and section fronts."""
    iran = make_tag("Iran")
    energy = make_tag("Energy")
    plain = make_post(
        'Talks "resume" <b>in</b> Vienna & Geneva',
        section=world,
        summary="Diplomats <meet> again & again.",
        tags=[iran, energy],
        age=timedelta(hours=5),
    )
    pair = make_post(
        "Two reporters",
        section=world,
        authors=[make_author("Ana Ruiz"), make_author("Bo Li")],
        tags=[iran],
        age=timedelta(hours=4),
        pinned_home_until=timezone.now() + timedelta(days=1),
        pin_position=2,
    )
    pictured = with_image(
        make_post("With a picture", section=world, tags=[iran], age=timedelta(hours=3))
    )
    short = make_post(
        "Body only", section=world, summary="", tags=[iran], age=timedelta(hours=2)
    )
    pinned = make_post(
        "Pinned lead",
        section=world,
        tags=[iran, energy],
        age=timedelta(hours=6),
        pinned_home_until=timezone.now() + timedelta(days=1),
        pinned_section_until=timezone.now() + timedelta(days=1),
    )
    with_image(pinned)
    older = with_image(make_post("Older", section=world, age=timedelta(hours=7)))
    return [plain, pair, pictured, short, pinned, older]


def listing_urls(posts, world):
    author = Byline.objects.filter(post=posts[1]).first().author
    return [
        "/",
        "/?page=2",
        world.get_absolute_url(),
        "/tag/iran/",
        "/tag/energy+iran/",
        author.get_absolute_url(),
        f"/{timezone.localtime().year}/",
    ]


@pytest.mark.parametrize("lead, eager", [(False, False), (True, False), (False, True)])
def test_the_stored_card_is_the_live_render(posts, lead, eager):
    """For every kind of post and each variant (plain, lead with srcset and
    sizes, eager without lazy loading), the card from the row is the
    template's output to the byte, and the row's is the one used."""
    for post in posts:
        post = listed(post)
        assert cards.stored(post, "card_html") is not None, post.title
        assert cards.card(post, lead=lead, eager=eager) == live_card(post, lead, eager)


def test_the_stored_desk_line_is_the_live_render(posts):
    """The home page's "From the desks" lines, as the desks query reads them."""
    for post in posts:
        post = Post.objects.latest_per_section(10).get(pk=post.pk)
        live = Template('{% include "blog/_desk_item.html" %}').render(
            Context({"post": post})
        )
        assert cards.stored(post, "desk_html") == live
        assert cards.desk_item(post) == live


def test_listing_pages_are_the_same_stored_or_live(client, posts, world, settings):
    """Every listing page, pins and pictures included, is the same whether
    its cards come from the rows or from the templates."""
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 5}
    urls = listing_urls(posts, world)
    stored = {}
    for url in urls:
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200, url
        stored[url] = response.content.decode()
    assert 'class="card card-lead"' in stored["/"]
    assert "srcset=" in stored["/"] and 'loading="lazy"' in stored["/"]
    assert stored["/tag/iran/"].count('loading="lazy"') == 1  # the fifth card
    Post.objects.update(card_stamp="")
    for url in urls:
        cache.clear()
        assert client.get(url).content.decode() == stored[url], url


def test_a_fresh_stamp_is_used_and_a_stale_one_is_not(client, world):
    """The row's HTML is served while its stamp is current; with any other
    stamp (a template or a setting changed since) the card is rendered live."""
    post = make_post("Real title", section=world)
    fresh = cards.LISTING.stored_stamp()
    marker = '<article class="card">MARKER</article>\n'
    Post.objects.filter(pk=post.pk).update(card_html=marker, card_stamp=fresh)
    cache.clear()
    assert "MARKER" in client.get("/").content.decode()
    Post.objects.filter(pk=post.pk).update(card_stamp="0123456789ab")
    cache.clear()
    body = client.get("/").content.decode()
    assert "MARKER" not in body and "Real title" in body


def test_a_template_change_falls_back_to_live(client, world, monkeypatch):
    """A deploy that changes the card's template makes every stored card
    stale at once, without touching a row."""
    make_post("Real title", section=world)
    before = cards.LISTING.stored_stamp()
    monkeypatch.setattr(cards.LISTING, "version", "changed")
    cards.LISTING._stamps.clear()
    assert not cards.LISTING.is_fresh(before)
    assert Post.objects.filter(card_stamp=before).exists()
    cache.clear()
    assert "Real title" in client.get("/").content.decode()
    assert cards.refresh() == 1
    assert Post.objects.get().card_stamp == cards.LISTING.stored_stamp()


@pytest.mark.parametrize("queued", [True, False])
def test_a_section_rename_shows_on_every_listing_at_once(
    client, posts, world, monkeypatch, queued
):
    """Renaming a section (more posts than are refreshed at once) clears
    its posts' stamps in one UPDATE: the next request of every listing shows
    the new name, whether or not the refresh job has run yet; the job then
    stores them again."""
    monkeypatch.setattr(cards, "AT_ONCE", 2)
    refresh_job = mock.Mock()
    if not queued:
        monkeypatch.setattr(tasks, "refresh_fragments", refresh_job)
    urls = listing_urls(posts, world)
    for url in urls:
        client.get(url)  # cached, and stored cards in use
    world.name = "Worldwide"
    world.save()
    for url in urls:
        body = client.get(url).content.decode()
        assert "Worldwide" in body, url
        assert ">World<" not in body, url
    stamps = set(Post.objects.values_list("card_stamp", flat=True))
    if queued:
        assert stamps == {cards.LISTING.stored_stamp()}
        assert "Worldwide" in Post.objects.first().card_html
    else:
        refresh_job.enqueue.assert_called_once_with()
        assert stamps == {""}


def test_saving_a_section_unchanged_keeps_the_cards(posts, world):
    """Its description or position changed: no card shows them."""
    world.description = "Diplomacy."
    world.position = 3
    with mock.patch.object(cards, "invalidate") as invalidate:
        world.save()
    invalidate.assert_not_called()


def test_an_author_rename_reaches_their_cards(client, world):
    """A new display name on every post crediting them, the next request."""
    author = make_author("Ana Ruiz", slug="ana-ruiz")
    post = make_post("Report", section=world, authors=[author])
    other = make_post("Other", section=world)
    other_card = listed(other).card_html
    author.display_name = "Ana Ruiz-Vega"
    author.slug = "ana-ruiz-vega"
    author.save()
    body = client.get("/").content.decode()
    assert "Ana Ruiz-Vega" in body and "/author/ana-ruiz-vega/" in body
    assert "Ana Ruiz-Vega" in listed(post).card_html
    assert listed(other).card_html == other_card


def test_a_byline_change_reaches_the_card(world):
    """Bylines are saved after their post (the admin's inlines): each change
    stores the card again."""
    post = make_post("Report", section=world)
    author = make_author("Co Writer")
    Byline.objects.create(post=post, author=author, position=5)
    assert "Co Writer" in listed(post).card_html
    Byline.objects.filter(post=post, author=author).delete()
    assert "Co Writer" not in listed(post).card_html
    assert cards.stored(listed(post), "card_html") is not None


def test_an_owner_rename_reaches_posts_without_bylines(world):
    """A post with no byline credits its owner's name."""
    owner = make_user(first_name="Old", last_name="Name")
    post = make_post("Uncredited", section=world, author=owner)
    Byline.objects.filter(post=post).delete()
    assert "Old Name" in listed(post).card_html
    owner.first_name = "New"
    owner.save()
    assert "New Name" in listed(post).card_html
    owner.save(update_fields=["last_login"])  # a login changes no card


def test_a_lead_image_rendition_arriving_updates_the_card(world, settings):
    """The queue makes renditions after the save: its job stores the card
    with the picture."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    post = with_image(make_post("Pictured", section=world))
    assert "<img" not in listed(post).card_html
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    assert tasks.make_lead_renditions.call(post.pk, post.lead_image.name) == "made"
    card = listed(post)
    assert "<img" in card.card_html
    assert card.lead_image_sources[0]["url"] in card.card_html
    assert cards.card(card) == live_card(card)


def test_rerender_stores_every_card(world):
    """`manage.py rerender` refreshes cards, stamp and all."""
    post = make_post("Report", section=world)
    Post.objects.update(card_html="", desk_html="", card_stamp="")
    call_command("rerender", stdout=mock.Mock(), stderr=mock.Mock())
    post = listed(post)
    assert post.card_stamp == cards.LISTING.stored_stamp()
    assert post.card_html == live_card(post)


def test_refresh_leaves_a_card_saved_meanwhile(world):
    """A refresh writes only rows still stale: a post saved (and so stored
    fresh) since the refresh read it keeps what its save wrote."""
    post = make_post("Report", section=world)
    Post.objects.filter(pk=post.pk).update(card_html="SAVED")
    assert cards.refresh() == 0
    assert listed(post).card_html == "SAVED"


def test_listing_query_counts_are_unchanged(client, django_assert_num_queries, world):
    """Stored cards add no query (tests/test_views.py locks the budget)."""
    iran = make_tag("Iran")
    for n in range(3):
        make_post(f"Post {n}", section=world, tags=[iran])
    cache.clear()
    client.get(reverse("blog:home"))
    Post.objects.update(card_stamp="")
    cache.clear()
    with django_assert_num_queries(3):
        client.get(reverse("blog:section", kwargs={"slug": world.slug}))


def test_an_imported_post_has_its_card_with_its_bylines(world):
    """Importers save posts, then their bylines: the stored card credits them."""
    from blog.importing import import_markdown

    text = (
        "---\ntitle: Imported report\nsection: World\nstatus: published\n"
        "published: 2024-05-01T10:00:00+00:00\n"
        "authors:\n  - Ana Ruiz\n  - Bo Li\n---\n\nBody text.\n"
    )
    import_markdown(text, author=make_user())
    post = listed(Post.objects.get(title="Imported report"))
    assert cards.stored(post, "card_html") is not None
    assert "Ana Ruiz" in post.card_html and "Bo Li" in post.card_html
    assert cards.card(post) == live_card(post)


def test_the_workers_sweep_stores_stale_cards_again(world, monkeypatch):
    """After a deploy that changed the card's template every stamp is stale:
    pages render live, and each sweep stores a bounded number again."""
    for n in range(3):
        make_post(f"Post {n}", section=world)
    Post.objects.update(card_stamp="")
    monkeypatch.setattr(cards, "BATCH", 2)
    monkeypatch.setattr(tasks, "SWEEP_CARDS", 2)
    assert tasks.sweep()["cards"] == 2
    assert tasks.sweep()["cards"] == 1
    assert tasks.sweep()["cards"] == 0
    assert not Post.objects.exclude(card_stamp=cards.LISTING.stored_stamp()).exists()
