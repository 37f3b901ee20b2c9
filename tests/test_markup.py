"""blog/markup.py: Markdown in, sanitised HTML, outline and word count out."""

import json
import random
import string
import time

import hypothesis
import pytest
from hypothesis import strategies as st
from lxml import html as lxml_html

from blog import markup
from blog.markup import (
    MAX_BODY_CHARS,
    MarkupRefused,
    absolutize_urls,
    html_to_text,
    normalize_newlines,
    reading_minutes,
    render_markdown,
    render_within_budget,
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


# --- The render budget (issue 9) -------------------------------------------

PATHOLOGICAL = {
    "unclosed brackets": "[" * 50000,
    "unclosed links": "[a](" * 20000,
    "unclosed divs": "<div>" * 20000,
    "unclosed emphasis": "*a" * 50000,
}
# Time from the deadline to the answer: killing and reaping the child.
KILL_SLACK_SECONDS = 1.5


@pytest.mark.parametrize("source", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_pathological_markdown_is_refused_at_the_deadline(source):
    """Text that would render for minutes is refused when the budget runs out."""
    start = time.monotonic()
    with pytest.raises(MarkupRefused, match="takes more than 1 seconds"):
        render_within_budget(source, seconds=1)
    assert time.monotonic() - start < 1 + KILL_SLACK_SECONDS


def test_deep_nesting_is_refused_before_rendering():
    """A list or quote nested past the limit is refused at once, not by RecursionError."""
    deep_list = "".join("\t" * level + "- x\n" for level in range(300))
    for source in (deep_list, ">" * 1000 + " x"):
        start = time.monotonic()
        with pytest.raises(MarkupRefused, match="nested more than"):
            render_within_budget(source)
        assert time.monotonic() - start < 0.5


def test_recursion_in_the_renderer_is_a_refusal_not_a_crash():
    """Past the pre-check, the child's RecursionError still comes back as a refusal."""
    deep_list = "".join("\t" * level + "- x\n" for level in range(300))
    with pytest.raises(MarkupRefused, match="nested too deeply"):
        markup._render_in_child(deep_list, seconds=30)


def test_a_render_that_outgrows_its_memory_is_a_refusal(monkeypatch):
    """The child's memory is bounded: running out is a refusal, not a dead worker."""
    monkeypatch.setattr(markup, "CHILD_MEMORY_HEADROOM", 1024 * 1024)
    source = "\n\n".join(f"Paragraph {n} with *emphasis*." for n in range(20000))
    # Refused either way: the child dies of MemoryError ("could not be
    # rendered") or, when free memory it inherited lets it crawl on, hits
    # the deadline.
    with pytest.raises(MarkupRefused, match=r"could not be rendered|takes more than"):
        markup._render_in_child(source, seconds=10)


def test_indented_code_is_not_nesting():
    """Deeply indented code lines do not count as list levels."""
    code = "```\n" + "".join(" " * 120 + "x = 1\n" for _ in range(5)) + "```\n"
    assert "x = 1" in render_within_budget(code).html


def test_body_over_the_size_limit_is_refused_with_the_numbers():
    """The refusal names the length and the limit."""
    with pytest.raises(MarkupRefused, match="200,001 characters long; the limit is"):
        render_within_budget("a" * (MAX_BODY_CHARS + 1))


def test_budgeted_rendering_equals_the_inner_function():
    """The child renders exactly what the trusted inner function renders."""
    source = "## One\n\nText with *emphasis* and a [link](https://example.org).\n"
    assert render_within_budget(source) == markup.render_markdown.__wrapped__(source)


def test_a_long_varied_body_renders_within_the_budget():
    """A body at the size limit of ordinary prose fits the time budget."""
    rng = random.Random(9)  # noqa: S311 - reproducible text, not a secret
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 11))) for _ in range(4000)]  # fmt: skip
    paragraphs = []
    while sum(map(len, paragraphs)) < MAX_BODY_CHARS - 2000:
        paragraphs.append(" ".join(rng.choices(words, k=150)))
    rendered = render_within_budget("\n\n".join(paragraphs))
    assert rendered.word_count > 25_000


def test_validated_text_is_not_rendered_again_on_save():
    """The save after a validated form reuses the rendering (rendered once)."""
    source = "## Once\n\nRendered once, at validation.\n"
    validated = render_within_budget(source)
    assert markup.render_markdown(source) is validated


def test_newlines_are_normalised_for_counting():
    """Browsers send CRLF; a line end counts as one character."""
    assert normalize_newlines("a\r\nb\rc\n") == "a\nb\nc\n"


MARKDOWN_ALPHABET = st.sampled_from(
    [*"[]()<>*_`#>-+!|:\\\"'=&;/ \n\t.1aZé", "javascript:", "data:", "vbscript:", "<script>", "<img src=x onerror=", "<a href=",
       "<div>", "</div>", "<svg onload=", "{: onclick=x}", "](", "![", "    ", "```", "&#x6a;",
       "[^1]", "[^1]: ", "\n\n", "<!--", "-->", "<style>", " style=\"x:url(j)\""]
)  # fmt: skip


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
@hypothesis.given(
    st.one_of(
        st.text(max_size=400),
        st.lists(MARKDOWN_ALPHABET, max_size=200).map("".join),
        st.tuples(MARKDOWN_ALPHABET, st.integers(1, 40000)).map(lambda t: t[0] * t[1]),
    )
)
def test_any_markdown_renders_safely_within_the_budget(source):
    """Random and adversarial Markdown never raises anything but a refusal, never
    emits script, and always answers within the budget."""
    start = time.monotonic()
    try:
        rendered = render_within_budget(source, seconds=2)
    except MarkupRefused:
        rendered = None
    assert time.monotonic() - start < 2 + KILL_SLACK_SECONDS
    if rendered is not None:
        assert script_vectors(rendered.html) == []
