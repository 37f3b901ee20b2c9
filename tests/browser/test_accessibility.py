"""axe-core on every page type, in light and dark colour schemes (WCAG 2.1 A and AA)."""

import json

import pytest

from tests.browser.conftest import AXE, DESKTOP, PHONE
from tests.conftest import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the brief holds us to: WCAG 2.1 levels A and AA.
WCAG = {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
# And the structural best practices axe files outside WCAG's tags, which
# screen-reader users feel at once: landmarks, heading outline, one <h1>.
STRUCTURE = {
    "type": "rule",
    "values": [
        "heading-order",
        "landmark-banner-is-top-level",
        "landmark-contentinfo-is-top-level",
        "landmark-main-is-top-level",
        "landmark-no-duplicate-banner",
        "landmark-no-duplicate-contentinfo",
        "landmark-no-duplicate-main",
        "landmark-one-main",
        "landmark-unique",
        "page-has-heading-one",
        "region",
        "skip-link",
    ],
}


def page_types(newsroom):
    """Every kind of page a reader can land on, with the status it should answer."""
    election = newsroom["election"]
    published = election.published_at
    return {
        "home": ("/", 200),
        "home page 2": ("/?page=2", 200),
        "article (TOC and updates)": (election.get_absolute_url(), 200),
        "section": (election.section.get_absolute_url(), 200),
        "tag": ("/tag/iran/", 200),
        "tag intersection": ("/tag/iran+russia/", 200),
        "archive": ("/archive/", 200),
        "year": (f"/{published:%Y}/", 200),
        "month": (f"/{published:%Y/%m}/", 200),
        "search with results": ("/search/?q=sanctions", 200),
        "search without results": ("/search/?q=zebrafish+quasar", 200),
        "search form": ("/search/", 200),
        "author": (election.bylines.first().author.get_absolute_url(), 200),
        "static page": ("/page/about/", 200),
        "404": ("/no-such-page/", 404),
    }


DARK = "matchMedia('(prefers-color-scheme: dark)').matches"


def slug(name):
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def run_axe(page, run_only):
    return page.evaluate(
        """options => axe.run(document, options).then(results =>
            results.violations.map(v => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "),
                    summary: n.failureSummary,
                    html: n.html.slice(0, 200),
                })),
            })))""",
        {"runOnly": run_only},
    )


def run_axe_on(page, selector, run_only):
    """axe-core on one part of the page (the admin's own pages are Django's)."""
    return page.evaluate(
        """([selector, options]) => axe.run({include: [[selector]]}, options)
            .then(results => results.violations.map(v => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                nodes: v.nodes.map(n => ({
                    target: n.target.join(" "),
                    summary: n.failureSummary,
                    html: n.html.slice(0, 200),
                })),
            })))""",
        [selector, run_only],
    )


def describe(violations_by_page):
    lines = []
    for name, violations in violations_by_page.items():
        for violation in violations:
            lines.append(
                f"\n[{name}] {violation['id']} ({violation['impact']}): {violation['help']}"
            )
            for node in violation["nodes"][:5]:
                lines.append(f"    at {node['target']}\n      {node['html']}")
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_type_passes_axe(
    open_page, live_server, newsroom, settings, artifacts, scheme, viewport
):
    """No page type has a WCAG 2.1 A/AA or landmark/heading violation that
    axe-core can detect, in either colour scheme, at desktop or phone width."""
    require_tool(AXE.exists(), f"{AXE} is missing: run `npm ci` to install axe-core")
    axe_source = AXE.read_text(encoding="utf-8")
    # Eight demo articles, three to a page: a second page of the home listing.
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 3}
    # The site's CSP forbids inline and injected scripts; axe is ours to inject.
    page = open_page(bypass_csp=True, color_scheme=scheme, viewport=viewport)
    violations_by_page = {}
    for name, (path, status) in page_types(newsroom).items():
        response = page.goto(live_server.url + path)
        assert response.status == status, f"{name}: {path} answered {response.status}"
        assert page.evaluate(DARK) == (scheme == "dark")
        page.screenshot(
            path=str(artifacts / f"{viewport['width']}-{scheme}-{slug(name)}.png")
        )
        page.add_script_tag(content=axe_source)
        violations = run_axe(page, WCAG) + run_axe(page, STRUCTURE)
        if violations:
            violations_by_page[name] = violations
    print(
        json.dumps({k: [v["id"] for v in vs] for k, vs in violations_by_page.items()})
    )
    assert not violations_by_page, describe(violations_by_page)
