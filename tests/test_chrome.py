"""blog/chrome.py: the site header and footer are copied once rendered, per
SiteState time, and never show a section, page, setting or address other
than the current one."""

from datetime import timedelta

import pytest
from lxml import html as lxml_html

from blog import chrome
from blog.caching import SITE_STATE
from blog.models import Section, SiteState
from blog.pages import Page
from tests.factories import make_post, make_section

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget():
    chrome._memo.clear()
    yield
    chrome._memo.clear()


@pytest.fixture
def world():
    return make_section("World")


def nav(response) -> list[tuple[str, str | None]]:
    """The navigation's sections: (name, aria-current)."""
    tree = lxml_html.fromstring(response.content)
    return [
        (a.text_content(), a.get("aria-current")) for a in tree.cssselect(".site-nav a")
    ]


def footer_links(response) -> list[str]:
    tree = lxml_html.fromstring(response.content)
    return [a.get("href") for a in tree.cssselect(".footer-links a")]


def test_remembered_chrome_is_what_rendering_gives(client, world):
    """A page served with the remembered header and footer is byte for byte
    the page rendered with them live."""
    post = make_post("Story", section=world)
    Page.objects.create(title="About", slug="about", body="Who we are.")
    for path in ["/", "/section/world/", post.get_absolute_url(), "/archive/"]:
        chrome._memo.clear()
        first = client.get(path).content
        assert chrome._memo, path  # remembered
        assert client.get(path).content == first, path


def test_remembered_partials_equal_live_ones(rf, world):
    """Under a SiteState time, the memo hands back exactly what rendering the
    partial now gives."""
    request = rf.get("/")
    token = SITE_STATE.set(Section.objects.get().updated_at)
    try:
        header = chrome.site_header(nav_section=world.pk)
        footer = chrome.site_footer(request)
        assert chrome.site_header(nav_section=world.pk) is header
        assert header == chrome.site_header(nav_section=world.pk, memo=False)
        assert footer == chrome.site_footer(request, memo=False)
    finally:
        SITE_STATE.reset(token)


def test_a_renamed_section_is_in_the_navigation_at_once(client, world):
    """A section renamed or added after the chrome was remembered shows on
    the very next page: the change touched SiteState, a new key."""
    make_post("Story", section=world)
    assert nav(client.get("/")) == [("World", None)]
    world.name = "Worldwide"
    world.save()
    assert nav(client.get("/")) == [("Worldwide", None)]
    make_section("Economy", position=0)
    assert nav(client.get("/")) == [("Economy", None), ("Worldwide", None)]


def test_a_new_footer_page_is_in_the_footer_at_once(client, world):
    """A static page published after the footer was remembered is linked on
    the next page; unpublished, it is gone."""
    make_post("Story", section=world)
    assert "/page/ethics/" not in footer_links(client.get("/"))
    ethics = Page.objects.create(title="Ethics", slug="ethics", body="Rules.")
    assert "/page/ethics/" in footer_links(client.get("/"))
    ethics.published = False
    ethics.save()
    assert "/page/ethics/" not in footer_links(client.get("/"))


def test_the_current_section_is_marked_on_its_pages_only(client, world):
    """The section page marks its section as the page, an article as its
    section; the home page marks none, whatever was remembered before."""
    economy = make_section("Economy")
    post = make_post("Story", section=world)
    make_post("Other", section=economy)
    for _ in range(2):  # live, then remembered
        assert nav(client.get("/section/world/")) == [
            ("World", "page"),
            ("Economy", None),
        ]
        assert nav(client.get(post.get_absolute_url())) == [
            ("World", "true"),
            ("Economy", None),
        ]
        assert nav(client.get("/")) == [("World", None), ("Economy", None)]


def test_the_search_box_repeats_each_query(client, world):
    """The header's search box holds the page's own query, never another's."""
    make_post("Story", section=world)
    for query in ["energy", "iran", "energy"]:
        tree = lxml_html.fromstring(client.get("/search/", {"q": query}).content)
        assert tree.cssselect("#dl-search")[0].get("value") == query
    tree = lxml_html.fromstring(client.get("/").content)
    assert tree.cssselect("#dl-search")[0].get("value") == ""


def test_footer_feeds_carry_the_requests_own_origin(client, world):
    """The footer's absolute feed addresses follow the Host of each request
    (checked against ALLOWED_HOSTS): one host's footer never reaches another."""
    make_post("Story", section=world)
    for host in ["localhost", "127.0.0.1", "localhost"]:
        links = footer_links(client.get("/", HTTP_HOST=host))
        assert f"http://{host}/feed/" in links


def test_a_changed_setting_is_in_the_chrome_at_once(client, settings, world):
    """A new site name (tests change settings; production restarts) is in
    the header and footer of the next page."""
    make_post("Story", section=world)
    client.get("/")
    settings.DATELINE = {**settings.DATELINE, "SITE_NAME": "The Wire"}
    tree = lxml_html.fromstring(client.get("/").content)
    assert tree.cssselect(".site-name")[0].text_content() == "The Wire"
    assert tree.cssselect(".site-name-small")[0].text_content() == "The Wire"


def test_error_pages_render_the_chrome_live(client, world):
    """A 404 is rendered by Django's handler, after the validator's request:
    its chrome is rendered live, even if a SiteState time was left behind in
    the context by code run outside a request (a test calling a validator)."""
    make_post("Story", section=world)
    client.get("/")
    earlier = SiteState.objects.get().changed_at - timedelta(days=1)
    left_behind = SITE_STATE.set(earlier)
    try:
        remembered = dict(chrome._memo)
        response = client.get("/section/nowhere/")
        assert response.status_code == 404
        assert nav(response) == [("World", None)]
        assert chrome._memo == remembered
    finally:
        SITE_STATE.reset(left_behind)


def test_the_memo_is_bounded(rf, world, monkeypatch):
    """A flood of keys (hosts, sections) empties the memo, never grows it."""
    monkeypatch.setattr(chrome, "MAX_MEMO", 3)
    token = SITE_STATE.set(Section.objects.get().updated_at)
    try:
        for n in range(10):
            chrome.site_header(nav_section=n)
            assert len(chrome._memo) <= 3
    finally:
        SITE_STATE.reset(token)


def test_a_remembered_desk_is_its_template_rendered_live(rf, world):
    """A desk from its remembered frame is byte for byte its template rendered
    with the same lines; a section name cannot pose as the lines' place."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    odd = make_section("<!--dateline:items--> & Co")
    items = mark_safe("<li>One</li>")
    token = SITE_STATE.set(Section.objects.first().updated_at)
    try:
        for section in [world, odd, world, odd]:
            live = render_to_string(
                chrome.DESK_TEMPLATE, {"section": section, "items": items}
            )
            assert chrome.desk(section, items) == live
    finally:
        SITE_STATE.reset(token)


def test_a_page_rendered_without_a_request_has_a_footer_without_feeds(world):
    """A template rendered outside a request (no origin for absolute feed
    addresses) still renders: its footer lists no feeds, as before."""
    from django.template.loader import render_to_string

    html = render_to_string("404.html", {})
    assert '<footer class="site-footer">' in html
    assert "/feed/" not in html


def test_site_feeds_are_the_latest_listings_for_each_origin(rf, settings):
    """The remembered site feeds are what LatestListing gives for the
    request's own origin and the current site name."""
    from blog.listings import LatestListing

    for host in ["localhost", "127.0.0.1", "localhost"]:
        request = rf.get("/", HTTP_HOST=host)
        assert list(chrome.site_feeds(request)) == LatestListing().feed_links(request)
    settings.DATELINE = {**settings.DATELINE, "SITE_NAME": "The Wire"}
    request = rf.get("/", HTTP_HOST="localhost")
    assert all(feed.title.startswith("The Wire") for feed in chrome.site_feeds(request))
