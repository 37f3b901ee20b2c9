"""blog/markup.py: Markdown in, sanitised HTML, outline and word count out."""

import json

import pytest
from lxml import html as lxml_html

from blog.markup import (
    absolutize_urls,
    html_to_text,
    reading_minutes,
    render_markdown,
    sanitize_html,
)
from tests.conftest import SHARED
from tests.xss import script_vectors

# Always run, whether or not the shared corpus is beside the project.
CLASSIC_VECTORS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '<iframe src="https://evil.example"></iframe>',
    "<object data=javascript:alert(1)>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<p style="width: expression(alert(1))">x</p>',
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<base href=javascript:alert(1)//>",
    "<meta http-equiv=refresh content='0;url=javascript:alert(1)'>",
    '## Heading {onclick="alert(1)"}',
    'Text {: onmouseover="alert(1)" }',
    "<details open ontoggle=alert(1)>",
    "`<script>alert(1)</script>`",
    "```\n</code><script>alert(1)</script>\n```",
    "[a][1]\n\n[1]: javascript:alert(1)",
    "<a href='https://ok.example' onclick='alert(1)'>x</a>",
]


def test_headings_get_stable_ids_and_a_table_of_contents():
    """Each ## heading gets an id from its text and an entry in the outline."""
    result = render_markdown(
        "Intro.\n\n## Defense and Security Cooperation\n\nText.\n\n## Energy\n"
    )
    doc = lxml_html.fragment_fromstring(result.html, create_parent="div")
    assert [h.get("id") for h in doc.iter("h2")] == [
        "defense-and-security-cooperation",
        "energy",
    ]
    assert result.toc == [
        {
            "level": 2,
            "id": "defense-and-security-cooperation",
            "title": "Defense and Security Cooperation",
        },
        {"level": 2, "id": "energy", "title": "Energy"},
    ]


def test_same_text_renders_the_same_ids():
    """Ids are stable: rendering twice gives the same anchors, so links keep working."""
    source = "## Same\n\n## Same\n\n### Sub part\n"
    assert render_markdown(source).html == render_markdown(source).html
    ids = [entry["id"] for entry in render_markdown(source).toc]
    assert ids == ["same", "same_1", "sub-part"]


def test_headings_have_permalinks():
    """Each heading carries a link to its own anchor, hidden from assistive tech."""
    doc = lxml_html.fragment_fromstring(
        render_markdown("## Part one\n").html, create_parent="div"
    )
    link = doc.find(".//h2/a")
    assert link.get("href") == "#part-one"
    assert link.get("class") == "heading-link"
    # Out of the way of screen readers and the Tab key: the TOC has the same links.
    assert link.get("aria-hidden") == "true" and link.get("tabindex") == "-1"


def test_toc_titles_are_plain_text():
    """Outline entries are text: emphasis dropped, entities decoded (escaped later)."""
    toc = render_markdown("## Iran & *Russia* <b>now</b>\n").toc
    assert toc[0]["title"].startswith("Iran & Russia")


def test_tables_render_with_alignment_as_classes():
    """Pipe tables become <table> with header cells; column alignment is a
    class, never inline style (which the Content-Security-Policy refuses)."""
    result = render_markdown(
        "| a | b | c | d |\n|:--|--:|:-:|---|\n| 1 | 2 | 3 | 4 |\n"
    )
    doc = lxml_html.fragment_fromstring(result.html, create_parent="div")
    assert [th.text for th in doc.iter("th")] == ["a", "b", "c", "d"]
    assert [td.get("class") for td in doc.iter("td")] == [
        "align-left",
        "align-right",
        "align-center",
        None,
    ]
    assert doc.xpath("//@style") == []


def test_authors_cannot_style_or_class_table_cells():
    """Raw HTML cells keep only the alignment classes: no style, no other class."""
    result = render_markdown(
        '<table><tr><td class="x align-left" style="color: red">a</td>'
        '<th class="align-right">b</th></tr></table>'
    )
    doc = lxml_html.fragment_fromstring(result.html, create_parent="div")
    assert doc.xpath("//@style") == []
    assert [cell.get("class") for cell in doc.xpath("//td|//th")] == [
        None,
        "align-right",
    ]


def test_footnotes_render_with_links_both_ways():
    """A footnote reference links to its note and the note links back."""
    doc = lxml_html.fragment_fromstring(
        render_markdown("Claim.[^1]\n\n[^1]: Source.").html, create_parent="div"
    )
    assert doc.find(".//sup/a").get("href") == "#fn:1"
    assert doc.find(".//li[@id='fn:1']") is not None


def test_fenced_code_keeps_its_language_and_escapes_content():
    """```python blocks keep a language class and show <tags> as text."""
    result = render_markdown("```python\nprint('<b>')\n```\n")
    assert '<code class="language-python">' in result.html
    assert "&lt;b&gt;" in result.html


def test_smart_punctuation_and_sane_lists():
    """Quotes and dashes become typographic; a numbered list keeps its start."""
    result = render_markdown('"Quoted" -- and\n\n3. three\n4. four\n')
    assert "&ldquo;Quoted&rdquo;" in result.html
    assert "&ndash;" in result.html
    assert '<ol start="3">' in result.html


def test_images_get_alt_and_lazy_loading():
    """Body images always have an alt attribute and load lazily."""
    doc = lxml_html.fragment_fromstring(
        render_markdown(
            "![A chart](https://example.org/c.png)\n\n<img src=/x.png>"
        ).html,
        create_parent="div",
    )
    images = list(doc.iter("img"))
    assert [(i.get("alt"), i.get("loading")) for i in images] == [
        ("A chart", "lazy"),
        ("", "lazy"),
    ]


def test_raw_html_is_shown_as_text_not_run():
    """Raw HTML outside the allowlist is escaped: visible to the editor, inert for readers."""
    result = render_markdown("<script>alert(1)</script>")
    assert "<script" not in result.html
    assert "&lt;script&gt;" in result.html


def test_allowed_inline_html_survives():
    """Harmless inline HTML (abbr, sub, sup, kbd) an editor may type is kept."""
    result = render_markdown(
        'H<sub>2</sub>O, <abbr title="World Health Organization">WHO</abbr>'
    )
    assert "<sub>2</sub>" in result.html
    assert '<abbr title="World Health Organization">' in result.html


@pytest.mark.parametrize("payload", CLASSIC_VECTORS)
def test_classic_vectors_are_neutralised(payload):
    """Script tags, event handlers, javascript: URLs and raw HTML cannot run."""
    assert script_vectors(render_markdown(payload).html) == []


def test_shared_xss_corpus_is_neutralised_in_markdown():
    """None of the 8,509 published XSS vectors survives the pipeline (shared corpus)."""
    corpus = SHARED / "security" / "xss-corpus.jsonl"
    if not corpus.exists():
        pytest.skip(f"{corpus} is absent")
    failures = []
    for line in corpus.read_text(encoding="utf-8").splitlines():
        vector = json.loads(line)
        problems = script_vectors(render_markdown(vector["payload"]).html)
        if problems:
            failures.append((vector["source"], vector["id"], problems))
    assert failures == []


def test_sanitize_html_drops_disallowed_attributes():
    """The sanitiser keeps allowlisted attributes only."""
    assert sanitize_html('<p class="x" id="y">t</p>') == "<p>t</p>"


def test_word_count_and_reading_time():
    """Words are counted in the text readers see; reading time rounds up, minimum one."""
    result = render_markdown("## Heading\n\none two three " + "word " * 457)
    assert result.word_count == 1 + 3 + 457
    assert result.reading_minutes == 3
    assert reading_minutes(0) == 1


def test_html_to_text_strips_tags_and_decodes_entities():
    """Plain text for search and summaries has no markup and real characters."""
    assert html_to_text("<p>Iran &amp; Russia</p>\n<p>next</p>") == "Iran & Russia next"


def test_shared_article_has_five_subsections(shared_article):
    """The shared 2,000-word article renders five h2 sub-sections with ids and a TOC."""
    body = shared_article.split("---", 2)[2]
    result = render_markdown(body)
    doc = lxml_html.fragment_fromstring(result.html, create_parent="div")
    headings = list(doc.iter("h2"))
    assert len(headings) == 5
    assert all(h.get("id") for h in headings)
    assert [e["id"] for e in result.toc] == [h.get("id") for h in headings]
    assert "defense-and-security-cooperation" in [h.get("id") for h in headings]
    assert 1900 < result.word_count < 2100


@pytest.mark.parametrize(
    "live",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        '<p style="background:url(javascript:alert(1))">x</p>',
    ],
)
def test_the_checker_catches_live_vectors(live):
    """The hostile-input checker itself flags script that would run (it can fail)."""
    assert script_vectors(live) != []


def test_absolutize_urls_leaves_absolute_ones_and_escapes():
    """Relative href/src become absolute; absolute and mailto stay; & stays escaped."""
    fragment = (
        '<a href="/a?x=1&amp;y=2">a</a><a href="https://b.example/">b</a>'
        '<a href="mailto:x@y.z">m</a><img src="/i.png" alt="">'
    )
    assert absolutize_urls(fragment, "https://news.example/2026/01/01/s/") == (
        '<a href="https://news.example/a?x=1&amp;y=2">a</a>'
        '<a href="https://b.example/">b</a><a href="mailto:x@y.z">m</a>'
        '<img src="https://news.example/i.png" alt="">'
    )


def test_absolutize_urls_leaves_code_text_alone():
    """An href written inside a code sample is text, not a link: unchanged."""
    rendered = render_markdown('Use `<a href="/about">` like [this](#part).').html
    out = absolutize_urls(rendered, "https://news.example/x/")
    assert 'href="/about"' in out  # the escaped sample, as written
    assert 'href="https://news.example/x/#part"' in out


def test_absolutize_urls_keeps_markup_safe():
    """Rewriting never turns sanitised HTML into script."""
    for vector in CLASSIC_VECTORS:
        html_out = absolutize_urls(
            render_markdown(vector).html, "https://news.example/"
        )
        assert script_vectors(html_out) == []
