"""locale/: the interface speaks the site's language, all of it (issue 10).

The French catalogue is complete, compiled and current, and every page type,
feed and our own admin screens render with DJANGO_LANGUAGE_CODE=fr without a
single interface string left in English.

How "left in English" is found, whatever a template or view does: each page
is rendered twice, in English and in French, from the same database. Content
(titles, summaries, bodies, names, the search query) is the same in both and is
cut out; what remains is interface text, and any piece of it that reads the
same in both languages is untranslated, unless the French catalogue itself
says it is spelled the same (Publication, Site, JSON Feed…). So a string
nobody marked for translation is caught as surely as a missing translation.
"""

import gettext
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation
from lxml import html as lxml_html

from blog.models import Author, Page, Post, Section, StoryUpdate, Tag
from tests.conftest import require_tool, which
from tests.factories import make_staff

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
FRENCH_PO = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
FRENCH_MO = FRENCH_PO.with_suffix(".mo")

# Content, not interface: its text is the author's, in whatever language.
CONTENT_SELECTORS = (
    "textarea",
    ".article-body",
    ".update-body",
    ".snippet",
    ".card-summary",
    ".standfirst",
    "figcaption",
    ".dateline-preview",  # the admin's rendered body
)
INTERFACE_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")
META_NAMES = ("description", "og:title", "og:description", "twitter:title")
# Names of formats and products, the same in every language.
PROPER_NAMES = ("JSON Feed", "RSS", "Atom")
# Django's admin writes alt="Search" on its search icon, untranslated, in
# admin/search_form.html: not ours to translate.
NOT_OURS = {"Search"}


def require_msgfmt():
    require_tool(
        which("msgfmt") is not None,
        "GNU gettext's msgfmt is missing: install Debian's gettext package",
    )


def test_the_french_catalogue_is_complete():
    """Every message of locale/fr is translated; none is fuzzy."""
    require_msgfmt()
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", FRENCH_PO],
        capture_output=True,
        text=True,
        check=True,
    )
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


def test_the_committed_mo_is_the_compiled_po(tmp_path):
    """The committed .mo (so installs need no gettext) is exactly what msgfmt
    makes of the .po: a translation edited without `make compilemessages`
    fails here."""
    require_msgfmt()
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", fresh, FRENCH_PO], check=True)
    with FRENCH_MO.open("rb") as committed, fresh.open("rb") as compiled:
        assert (
            gettext.GNUTranslations(committed)._catalog
            == gettext.GNUTranslations(compiled)._catalog
        )


def test_every_marked_string_is_in_the_catalogue(tmp_path):
    """makemessages, run on a copy of the code, finds no string the French
    catalogue lacks and none it keeps for nothing."""
    require_msgfmt()
    for name in ("config", "blog", "templates", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "manage.py", tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SECRET_KEY": "makemessages-only",
            "DATELINE_VAR_DIR": str(tmp_path / "var"),
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    extracted = tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    statistics = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", extracted],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    assert "untranslated" not in statistics and "fuzzy" not in statistics, (
        f"strings marked in the code but not translated in {FRENCH_PO}: "
        f"{statistics.strip()} (run `make messages`, translate, `make compilemessages`)"
    )
    obsolete = [
        line for line in extracted.read_text().splitlines() if line[:3] == "#~ "
    ]
    assert obsolete == [], "catalogue entries no code uses any more: " + "\n".join(
        obsolete
    )


# -- every page, feed and admin screen, in English and in French -------------


@pytest.fixture
def newsroom(db):
    """The demo newsroom, a draft (for the preview banner) and an editor."""
    call_command("load_demo", stdout=io.StringIO())
    election = Post.objects.get(slug="how-election-observers-work")
    draft = Post.objects.create(
        title="Unfinished draft",
        slug="unfinished-draft",
        section=election.section,
        author=election.author,
        body="Body.",
        status=Post.Status.DRAFT,
    )
    Page.objects.create(title="Qui sommes-nous", slug="about", body="Une rédaction.")
    return {"election": election, "draft": draft, "staff": make_staff()}


def content_strings() -> list[str]:
    """Everything an author or editor typed, longest first (so a title is cut
    out before a tag name inside it)."""
    found = {"Dateline", "sanctions", "zzyzx", *PROPER_NAMES}
    for user in get_user_model().objects.all():
        found |= {user.get_username(), user.first_name, user.last_name}
    for post in Post.objects.select_related("author"):
        author = post.author
        found |= {
            post.title,
            post.summary,
            post.lead_image_alt,
            post.lead_image_caption,
            post.lead_image.name,
            author.get_full_name(),
            author.get_username(),
        }
        found |= {entry["title"] for entry in post.toc}
    for section in Section.objects.all():
        found |= {section.name, section.slug, section.description}
    for tag in Tag.objects.all():
        found |= {tag.name, tag.slug, tag.description}
    for static_page in Page.objects.all():
        found |= {static_page.title, static_page.slug, static_page.summary}
    for author in Author.objects.all():
        found |= {author.display_name, author.slug, author.bio, *author.link_list}
    return sorted((s for s in found if s), key=len, reverse=True)


def interface_texts(document: bytes, content: list[str]) -> set[str]:
    """The interface text of a page: every text node, interface attribute,
    metadata and JSON-LD name, with content cut out and only pieces that
    still hold a letter kept."""
    doc = lxml_html.fromstring(document)
    for selector in CONTENT_SELECTORS:
        for element in doc.cssselect(selector):
            element.drop_tree()
    pieces = []
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script":
            if element.get("type") == "application/ld+json":
                pieces.extend(json_ld_names(json.loads(element.text)))
        elif element.tag != "style":
            pieces.append(element.text)
        pieces.append(element.tail)
        pieces.extend(element.get(name) for name in INTERFACE_ATTRIBUTES)
        if element.tag == "input" and element.get("type") in {"submit", "button"}:
            pieces.append(element.get("value"))
        if element.tag == "meta" and (
            element.get("name") in META_NAMES or element.get("property") in META_NAMES
        ):
            pieces.append(element.get("content"))
    return {text for piece in pieces if (text := without_content(piece, content))}


def json_ld_names(node) -> list[str]:
    if isinstance(node, list):
        return [name for item in node for name in json_ld_names(item)]
    if isinstance(node, dict):
        found = [node["name"]] if isinstance(node.get("name"), str) else []
        return found + [
            name
            for key, value in node.items()
            if key != "name"
            for name in json_ld_names(value)
        ]
    return []


def without_content(text: str | None, content: list[str]) -> str:
    """`text` with content cut out and numbers as #, or "" if no letter is left."""
    text = " ".join((text or "").split())
    for piece in content:
        text = text.replace(piece, " ")
    text = " ".join(re.sub(r"\d+", "#", text).split())
    return text if re.search(r"[^\W\d_]", text) else ""


def pages(newsroom) -> dict[str, tuple[str, bool]]:
    """Every page type (address, seen by an editor?), our admin screens included."""
    election = newsroom["election"]
    tags = sorted(election.tags.all(), key=lambda tag: tag.slug)
    day = election.published_at
    return {
        "home": ("/", False),
        "home, page 2": ("/?page=2", False),
        "article": (election.get_absolute_url(), False),
        "draft preview": (newsroom["draft"].get_absolute_url(), True),
        "section": (election.section.get_absolute_url(), False),
        "tag": (tags[0].get_absolute_url(), False),
        "tag intersection": (f"/tag/{tags[0].slug}+{tags[1].slug}/", False),
        "author": (election.bylines.first().author.get_absolute_url(), False),
        "static page": ("/page/about/", False),
        "archive": ("/archive/", False),
        "year": (f"/{day:%Y}/", False),
        "month": (f"/{day:%Y}/{day:%m}/", False),
        "search form": ("/search/", False),
        "search": ("/search/?q=sanctions", False),
        "search without hits": ("/search/?q=zzyzx", False),
        "404": ("/no-such-page/", False),
        "admin: posts": ("/admin/blog/post/", True),
        "admin: post": (f"/admin/blog/post/{election.pk}/change/", True),
        "admin: sections": ("/admin/blog/section/", True),
        "admin: tags": ("/admin/blog/tag/", True),
        "admin: authors": ("/admin/blog/author/", True),
        "admin: pages": ("/admin/blog/page/", True),
        "admin: author": (
            f"/admin/blog/author/{election.bylines.first().author_id}/change/",
            True,
        ),
        "admin: index": ("/admin/", True),
    }


FEEDS = {
    "latest feed": "/feed/",
    "latest Atom feed": "/feed/atom/",
    "latest JSON Feed": "/feed/json/",
}


def render(newsroom, settings, language: str) -> dict[str, set[str]]:
    settings.LANGUAGE_CODE = language
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 3}  # pagination shows
    content = content_strings()
    reader, editor = Client(HTTP_ACCEPT="text/html"), Client()
    editor.force_login(newsroom["staff"])
    rendered = {}
    for name, (address, staff) in pages(newsroom).items():
        response = (editor if staff else reader).get(address)
        assert response.status_code == (404 if name == "404" else 200), (name, address)
        assert lxml_html.fromstring(response.content).get("lang") == language, name
        rendered[name] = interface_texts(response.content, content)
    election = newsroom["election"]
    feeds = {
        **FEEDS,
        "section feed": f"{election.section.get_absolute_url()}feed/",
        "author feed": f"{election.bylines.first().author.get_absolute_url()}feed/",
        "story feed": f"{election.get_absolute_url()}feed/",
    }
    for name, address in feeds.items():
        body = reader.get(address, HTTP_ACCEPT="*/*").content
        if address.endswith("/json/"):
            feed = json.loads(body)
            declared = feed["language"]
            texts = [feed["title"], feed["description"]]
            texts += [item["title"] for item in feed["items"]]
        else:
            feed = feedparser.parse(body)
            declared = feed.feed.language
            texts = [feed.feed.title, feed.feed.get("subtitle")]
            texts += [entry.title for entry in feed.entries]
        assert declared.lower() == language, (name, declared)
        rendered[name] = {
            text for piece in texts if (text := without_content(piece, content))
        }
    return rendered


def po_entries(path: Path) -> list[dict[str, str]]:
    """msgid, msgid_plural and msgstr / msgstr[N] of each entry of a .po file."""
    entries, entry, field = [], {}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith(("msg", '"')) and not line.startswith("#"):
            if line.startswith("msg"):
                field, _, line = line.partition(" ")
                entry[field] = ""
            entry[field] += json.loads(line)
    return entries


def same_in_french() -> set[str]:
    """What the French catalogues (ours, Django's, taggit's) spell as in
    English, numbers as #, in lower case."""
    catalog = translation.trans_real.translation("fr")._catalog
    same = {  # a key with a context is "context\x04msgid"
        value
        for key, value in catalog.items()
        if isinstance(key, str) and key.split("\x04")[-1] == value
    }
    for entry in po_entries(FRENCH_PO):
        english = {entry["msgid"], entry.get("msgid_plural")}
        same |= {
            text
            for name, text in entry.items()
            if name[:6] == "msgstr" and text in english
        }
    return {shape(re.sub(r"%(\(\w+\))?[sd]", "#", text)) for text in same}


def shape(text: str) -> str:
    """Text as compared with the catalogue: no numbers or placeholders
    (content was cut out of the page where a placeholder stood), any case."""
    return " ".join(text.replace("#", " ").split()).casefold()


def test_every_page_feed_and_admin_screen_is_in_french(newsroom, settings):
    """With LANGUAGE_CODE fr, no page type, feed or admin screen of ours shows
    an interface string in English (and each declares lang="fr")."""
    assert StoryUpdate.objects.filter(post=newsroom["election"]).exists()
    english = render(newsroom, settings, "en")
    french = render(newsroom, settings, "fr")
    allowed = same_in_french()
    untranslated = {
        name: sorted(
            text
            for text in french[name] & english[name]
            if shape(text) not in allowed and text not in NOT_OURS
        )
        for name in french
    }
    untranslated = {name: texts for name, texts in untranslated.items() if texts}
    assert untranslated == {}, (
        "interface strings left in English with fr:\n"
        + "\n".join(f"  {name}: {texts}" for name, texts in untranslated.items())
    )
    # The comparison really compared: each page (feeds may hold content
    # only) had interface text in French.
    silent = [name for name in pages(newsroom) if not french[name]]
    assert silent == [], silent
    assert french["story feed"] and french["latest feed"]


@pytest.mark.django_db
def test_reading_time_dates_and_pagination_follow_the_language(client, settings):
    """Reading time, dates and pagination are French with LANGUAGE_CODE fr."""
    from tests.factories import make_post

    settings.LANGUAGE_CODE = "fr"
    settings.DATELINE = {**settings.DATELINE, "PAGE_SIZE": 1}
    for _ in range(2):
        post = make_post(body="mot " * 500)
    doc = lxml_html.fromstring(client.get("/").content)
    assert (
        doc.cssselect(".card-meta")[0]
        .text_content()
        .endswith(f"{post.reading_minutes} min de lecture")
    )
    month = doc.cssselect(".card-meta time")[0].text_content().split()[1]
    french_months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    assert month in french_months
    assert doc.cssselect(".pagination span")[0].text_content() == "Page 1 sur 2"
    assert doc.cssselect(".pagination a[rel=next]")[0].text_content() == (
        "Plus anciens →"
    )


@pytest.mark.django_db
def test_the_page_declares_the_site_language(client, settings):
    """lang, og:locale and JSON-LD inLanguage come from LANGUAGE_CODE."""
    from tests.factories import make_post

    settings.LANGUAGE_CODE = "fr"
    doc = lxml_html.fromstring(client.get(make_post().get_absolute_url()).content)
    assert doc.get("lang") == "fr"
    assert doc.cssselect('meta[property="og:locale"]')[0].get("content") == "fr"
    article = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    assert article["@type"] == "NewsArticle" and article["inLanguage"] == "fr"


def test_the_error_page_is_in_french(settings):
    """500.html, rendered without a request or database, speaks French too."""
    settings.LANGUAGE_CODE = "fr"
    doc = lxml_html.fromstring(render_to_string("500.html"))
    assert doc.get("lang") == "fr"
    assert doc.cssselect("h1")[0].text_content() == "Un problème est survenu"
