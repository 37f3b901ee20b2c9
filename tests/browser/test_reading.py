"""A reader's journey through Dateline in a real browser, at desktop and phone widths."""

import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


LOAD_LAZY_IMAGES = """() => Promise.all([...document.images].map(img => {
    img.loading = "eager";
    return img.complete ? null : new Promise(done => { img.onload = img.onerror = done; });
}))"""


def snap(page, artifacts, viewport, step, name):
    """A full-page screenshot named by width and step: 1280-03-toc.png."""
    page.evaluate(LOAD_LAZY_IMAGES)
    page.screenshot(
        path=str(artifacts / f"{viewport['width']}-{step:02d}-{name}.png"),
        full_page=True,
    )


def arrive(page, newsroom, artifacts, viewport, step, name):
    """Checks every page of the journey passes, then its screenshot: nothing
    wider than the window, and no trace of the draft or the scheduled post."""
    page.wait_for_load_state("load")  # measured with the stylesheet applied
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px"
    html = page.content()
    for post in newsroom["hidden"]:
        assert post.title not in html and post.slug not in html, (name, post.title)
    snap(page, artifacts, viewport, step, name)


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_reader_journey(open_page, live_server, newsroom, artifacts, viewport):
    """A reader goes home → lead story → a TOC section → its section → a tag →
    a search with highlighted hits → the RSS feed, without dead ends."""
    page = open_page(viewport=viewport)

    # 1. Home, led by the newest live story.
    page.goto(live_server.url + "/")
    expect(page.locator("h1")).to_have_text("Latest updates")
    arrive(page, newsroom, artifacts, viewport, 1, "home")

    # 2. The lead article.
    lead_link = page.locator(".card-lead .card-title a")
    lead_title = lead_link.inner_text()
    lead_link.click()
    expect(page.locator("h1")).to_have_text(lead_title)
    article_url = page.url
    arrive(page, newsroom, artifacts, viewport, 2, "article")

    # 3. A table-of-contents link: the address carries its anchor and the
    #    heading is on screen.
    toc_links = page.locator(".toc a")
    assert toc_links.count() >= 2, "the lead article should have a table of contents"
    target = toc_links.nth(toc_links.count() - 1)
    anchor = target.get_attribute("href")
    target.click()
    page.wait_for_url(article_url + anchor)
    expect(page.locator(f"[id='{anchor[1:]}']")).to_be_in_viewport()
    page.wait_for_timeout(400)  # let smooth scrolling settle for the picture
    page.screenshot(path=str(artifacts / f"{viewport['width']}-03-toc-target.png"))

    # 4. The breadcrumb leads to the article's section.
    section_link = page.locator(".breadcrumb a").nth(1)
    section_name = section_link.inner_text()
    section_link.click()
    expect(page.locator("h1")).to_have_text(section_name)
    expect(page.locator(".card-title a", has_text=lead_title)).to_have_count(1)
    arrive(page, newsroom, artifacts, viewport, 4, "section")

    # 5. Another story in that section, then one of its tags.
    page.locator(".card-title a").nth(1).click()
    tag_link = page.locator(".tags a").first
    tag_name = tag_link.inner_text()
    tag_link.click()
    expect(page.locator("h1")).to_have_text(tag_name)
    assert page.locator(".card-title a").count() >= 1
    arrive(page, newsroom, artifacts, viewport, 5, "tag")

    # 6. A query typed in the header's search box: hits are highlighted.
    search_box = page.locator("form[role=search] input[type=search]").first
    search_box.fill("sanctions")
    search_box.press("Enter")
    page.wait_for_url("**/search/?q=sanctions")
    expect(page.locator(".result").first).to_be_visible()
    marks = page.locator(".result mark")
    assert marks.count() >= 1, "search hits should be highlighted with <mark>"
    assert marks.first.inner_text().lower().startswith("sanction")
    arrive(page, newsroom, artifacts, viewport, 6, "search")

    # 7. The RSS link in the footer answers with an RSS 2.0 document, typed
    # application/xml for a browser so the XSL view turns it into a page.
    rss_link = page.locator(".site-footer a", has_text="RSS")
    with page.expect_response(lambda r: r.url.endswith("/feed/")) as answer:
        rss_link.click()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    # The browser's copy of the body may already be the XSL output, so read
    # the feed itself as a feed reader would.
    as_reader = page.request.get(
        response.url, headers={"Accept": "application/rss+xml"}
    )
    assert as_reader.headers["content-type"] == "application/rss+xml; charset=utf-8"
    feed = etree.fromstring(as_reader.body())
    assert feed.tag == "rss" and feed.get("version") == "2.0"
    feed_titles = [item.findtext("title") for item in feed.iter("item")]
    assert lead_title in feed_titles
    assert not {post.title for post in newsroom["hidden"]} & set(feed_titles)
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("This is a web feed")
    expect(page.locator("main ol li a").first).to_have_text(lead_title)
    snap(page, artifacts, viewport, 7, "feed")


def test_skip_link_is_the_first_tab_stop(open_page, live_server, newsroom, artifacts):
    """From a fresh page, Tab focuses a visible skip link and Enter moves focus to #dl-main."""
    page = open_page(viewport=DESKTOP)
    page.goto(live_server.url + newsroom["election"].get_absolute_url())
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "({cls: document.activeElement.className, text: document.activeElement.textContent})"
    )
    assert focused["cls"] == "skip-link", focused
    skip = page.locator(".skip-link")
    expect(skip).to_be_in_viewport()
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] >= 24, "the focused skip link is on screen"
    page.screenshot(path=str(artifacts / "1280-skip-link.png"))
    page.keyboard.press("Enter")
    expect(page.locator("#dl-main")).to_be_focused()
    page.screenshot(path=str(artifacts / "1280-skip-link-main.png"))
    assert page.url.endswith("#dl-main")
    # The next Tab continues inside the main content, not back in the header.
    page.keyboard.press("Tab")
    inside_main = page.evaluate(
        "document.getElementById('dl-main').contains(document.activeElement)"
    )
    assert inside_main


FOCUS_STATE = """() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        element: el.tagName.toLowerCase() + (el.className ? "." + el.className : ""),
        text: (el.textContent || el.value || "").trim().slice(0, 40),
        outline: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        opacity: parseFloat(style.opacity),
        onScreen: box.width > 0 && box.height > 0 && box.bottom > 0
            && box.top < window.innerHeight,
    };
}"""


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_keyboard_focus_is_always_visible(open_page, live_server, newsroom, viewport):
    """Each Tab stop on an article is on screen, opaque and outlined (WCAG 2.4.7)."""
    # Reduced motion: focus scrolls into view at once, not by smooth scrolling.
    page = open_page(viewport=viewport, reduced_motion="reduce")
    page.goto(live_server.url + newsroom["election"].get_absolute_url())
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state["element"] == "body":
            break
        seen.append(state)
        visible = (
            state["outline"] not in ("none", "hidden")
            and state["outlineWidth"] >= 2
            and state["opacity"] == 1
            and state["onScreen"]
        )
        assert visible, f"focus is not visible on {state}"
    assert len(seen) >= 15, f"expected many tab stops on an article, got {seen}"


def test_article_needs_no_javascript(open_page, live_server, newsroom, artifacts):
    """With JavaScript off, an article shows its title, standfirst, updates, TOC and body."""
    post = newsroom["election"]
    page = open_page(viewport=PHONE, java_script_enabled=False)
    response = page.goto(live_server.url + post.get_absolute_url())
    assert response.status == 200
    expect(page.locator("h1")).to_have_text(post.title)
    expect(page.locator(".standfirst")).to_be_visible()
    expect(page.locator(".updates")).to_be_visible()
    expect(page.locator(".toc")).to_be_visible()
    body = page.locator(".article-body")
    expect(body).to_be_visible()
    expect(body).to_contain_text("Before the vote")
    stylesheet_applied = page.evaluate(
        "getComputedStyle(document.querySelector('.article-title')).fontFamily"
    )
    assert "serif" in stylesheet_applied.lower()
    page.screenshot(path=str(artifacts / "390-article-no-js.png"), full_page=True)


def test_reader_follows_a_byline_and_subscribes_to_the_author(
    open_page, live_server, newsroom, artifacts
):
    """From an article's byline a reader reaches the author's page, which lists
    the article, and subscribes to the author's RSS feed (issue 13)."""
    election = newsroom["election"]
    author = election.bylines.first().author
    page = open_page(viewport=DESKTOP)
    page.goto(live_server.url + election.get_absolute_url())
    page.locator(".byline a.author").first.click()
    page.wait_for_url(f"**/author/{author.slug}/")
    expect(page.locator("h1")).to_have_text(author.display_name)
    expect(page.locator(".card-title a", has_text=election.title)).to_be_visible()
    arrive(page, newsroom, artifacts, DESKTOP, 8, "author")

    rss_link = page.locator(".page-header .feed-links a", has_text="RSS")
    with page.expect_response(
        lambda r: r.url.endswith(f"/author/{author.slug}/feed/")
    ) as answer:
        rss_link.click()
    assert answer.value.status == 200
    as_reader = page.request.get(
        answer.value.url, headers={"Accept": "application/rss+xml"}
    )
    feed = etree.fromstring(as_reader.body())
    assert election.title in [item.findtext("title") for item in feed.iter("item")]
    page.wait_for_load_state()
    expect(page.locator("body")).to_contain_text("This is a web feed")
    snap(page, artifacts, DESKTOP, 9, "author-feed")
