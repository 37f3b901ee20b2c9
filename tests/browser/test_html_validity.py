"""Every page type is valid HTML, and the stylesheet valid CSS, by the Nu HTML Checker."""

import json
import subprocess
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.utils import timezone
from lxml import html as lxml_html

from tests.browser.conftest import VNU, java_available
from tests.browser.test_accessibility import page_types
from tests.conftest import require_tool
from tests.factories import make_post, make_update

pytestmark = pytest.mark.django_db


def require_vnu():
    require_tool(
        java_available(), "java is not installed: the Nu HTML Checker needs it"
    )
    require_tool(VNU.exists(), f"{VNU} is missing: run `npm ci` to install vnu-jar")


def vnu(*args: str) -> list[dict]:
    """Run the checker once; return its messages (errors only)."""
    result = subprocess.run(
        [
            "java",
            "-jar",
            str(VNU),
            "--errors-only",
            "--format",
            "json",
            "--stdout",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        pytest.fail(f"vnu did not run: exit {result.returncode}\n{result.stderr}")
    return json.loads(result.stdout)["messages"]


def describe(messages, names=None) -> str:
    lines = []
    for message in messages:
        where = message.get("url", "").rsplit("/", 1)[-1]
        where = (names or {}).get(where, where)
        line = message.get("lastLine", "?")
        lines.append(
            f"{where}:{line}: {message['type']}: {message['message']}\n"
            f"    {message.get('extract', '').strip()}"
        )
    return "\n".join(lines)


def test_every_page_type_is_valid_html(client, newsroom, settings, tmp_path):
    """The Nu HTML Checker finds no error on any page type."""
    require_vnu()
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 3}
    pages = page_types(newsroom)
    files, names = [], {}
    for number, (name, (path, status)) in enumerate(pages.items(), start=1):
        response = client.get(path)
        assert response.status_code == status, f"{name}: {path}"
        file = tmp_path / f"page-{number:02d}.html"
        file.write_bytes(response.content)
        files.append(str(file))
        names[file.name] = f"{name} ({path})"
    messages = vnu(*files)
    print(f"vnu checked {len(files)} pages: {len(messages)} errors")
    assert not messages, describe(messages, names)


# Outline → (top-level TOC entries, entries nested under them).
TOC_SHAPES = {
    "flat": ("## One\n\nA.\n\n## Two\n\nB.", ["One", "Two"], []),
    "ends nested": (
        "## One\n\n### One a\n\n## Two\n\n### Two a\n\nD.",
        ["One", "Two"],
        ["One a", "Two a"],
    ),
    "nested between": (
        "## One\n\n### One a\n\n### One b\n\n## Two\n\n## Three",
        ["One", "Two", "Three"],
        ["One a", "One b"],
    ),
    "opens with a sub-section": (
        "### Before\n\nA.\n\n## One\n\nB.\n\n## Two\n\nC.",
        ["Before", "One", "Two"],
        [],
    ),
}


def whole_seconds_ago(**delta):
    # The byline's datetime is pinned to published_at.isoformat() by
    # tests/test_views.py, which is valid HTML only without microseconds.
    return timezone.now().replace(microsecond=0) - timedelta(**delta)


def test_tables_of_contents_of_every_shape_are_valid(client, tmp_path):
    """Sub-sections nest under their section in the TOC, whatever the outline,
    and the nested lists (and update times) are valid HTML."""
    require_vnu()
    files, names = [], {}
    for number, (shape, (body, top, nested)) in enumerate(TOC_SHAPES.items(), 1):
        post = make_post(body=body, published_at=whole_seconds_ago(hours=2))
        make_update(post)  # its time carries microseconds
        content = client.get(post.get_absolute_url()).content
        toc = lxml_html.fromstring(content).cssselect(".toc")[0]
        assert [a.text for a in toc.cssselect(".toc > ol > li > a")] == top, shape
        assert [a.text for a in toc.cssselect("ol ol > li > a")] == nested, shape
        file = tmp_path / f"toc-{number}.html"
        file.write_bytes(content)
        files.append(str(file))
        names[file.name] = shape
    messages = vnu(*files)
    assert not messages, describe(messages, names)


def test_article_published_mid_second_is_valid_html(client, tmp_path):
    """An article published at a time with microseconds (any made in the admin) is valid HTML."""
    require_vnu()
    post = make_post()
    file = tmp_path / "article.html"
    file.write_bytes(client.get(post.get_absolute_url()).content)
    messages = vnu(str(file))
    assert not messages, describe(messages)


def test_500_page_is_valid_html(tmp_path):
    """The bare 500 page, rendered without the database, is valid HTML too."""
    require_vnu()
    from django.template import loader

    file = tmp_path / "500.html"
    file.write_text(loader.get_template("500.html").render(), encoding="utf-8")
    messages = vnu(str(file))
    assert not messages, describe(messages)


def test_stylesheet_is_valid_css():
    """site.css has no CSS errors by the Nu checker's CSS validator."""
    require_vnu()
    messages = vnu("--css", finders.find("css/site.css"))
    assert not messages, describe(messages)
