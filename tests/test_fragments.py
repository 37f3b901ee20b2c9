"""blog/fragments.py: a stored fragment's stamp changes with everything the
HTML depends on besides its row (templates, language, catalogues, time zone,
media URL, SITE_URL, version), so stale HTML is never taken for fresh."""

import struct

import pytest
from django.utils import translation

from blog import fragments
from blog.fragments import Fragment

CARD = ("blog/_post_card.html", "blog/_byline.html")


@pytest.fixture
def fragment():
    made = Fragment("test-card", CARD)
    yield made
    fragments._fragments.remove(made)


def test_a_stamp_is_short_stable_and_per_fragment(fragment):
    """Twelve hex digits, the same on every call and in every process (no
    randomness), and another name or version gives another stamp."""
    stamp = fragment.stamp()
    assert len(stamp) == 12 and int(stamp, 16) >= 0
    assert fragment.stamp() == stamp
    assert fragment._compute(translation.get_language()) == stamp
    other = Fragment("test-card", CARD, version="2")
    try:
        assert other.stamp() != stamp
    finally:
        fragments._fragments.remove(other)


def test_only_the_current_stamp_is_fresh(fragment):
    """An empty or older stamp means: render live."""
    assert fragment.is_fresh(fragment.stamp())
    assert not fragment.is_fresh("")
    assert not fragment.is_fresh(None)
    assert not fragment.is_fresh("0123456789ab")


@pytest.mark.parametrize(
    "setting, value",
    [
        ("TIME_ZONE", "Europe/Paris"),
        ("LANGUAGE_CODE", "fr"),
        ("MEDIA_URL", "https://media.example.org/"),
        ("SITE_URL", "https://news.example.org"),
    ],
)
def test_settings_the_html_depends_on_change_the_stamp(
    fragment, settings, setting, value
):
    """A deploy with another time zone, language, media host or site URL
    makes every stored fragment stale (and override_settings is followed)."""
    before = fragment.stored_stamp()
    setattr(settings, setting, value)
    assert fragment.stored_stamp() != before


def test_the_active_language_is_part_of_the_stamp(fragment):
    """A fragment stored in the site's language is not fresh for a reader in
    another one."""
    stored = fragment.stored_stamp()
    with translation.override("fr"):
        assert not fragment.is_fresh(stored)
    assert fragment.is_fresh(stored)


def test_a_template_source_changes_the_stamp(fragment, monkeypatch):
    """Another template source (a deploy) gives another stamp."""
    before = fragment.stamp()
    real = fragments.get_template

    class Changed:
        def __init__(self, template):
            self.template = type("T", (), {"source": template.template.source + "x"})

    monkeypatch.setattr(fragments, "get_template", lambda name: Changed(real(name)))
    fragments.forget_all()
    assert fragment.stamp() != before


def test_the_version_constant_changes_the_stamp(fragment, monkeypatch):
    """Python code that shapes the HTML changed: raise VERSION."""
    before = fragment.stamp()
    monkeypatch.setattr(fragments, "VERSION", fragments.VERSION + "-next")
    fragments.forget_all()
    assert fragment.stamp() != before


def test_a_new_catalogue_changes_the_stamp(fragment, settings, tmp_path):
    """New translations (a compiled .mo) make stored fragments stale."""
    before = fragment.stored_stamp()
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    # An empty catalogue: magic, revision 0, no messages.
    empty = struct.pack("<7I", 0x950412DE, 0, 0, 28, 28, 0, 28)
    (folder / "django.mo").write_bytes(empty)
    settings.LOCALE_PATHS = [*settings.LOCALE_PATHS, tmp_path / "locale"]
    assert fragment.stored_stamp() != before


def test_stored_fragments_are_rendered_in_the_site_language(fragment):
    """Whatever the language of the request or job that saves a row."""
    with translation.override("fr"):
        language, stamp = fragment.render_stored(translation.get_language)
    assert language == "en"
    assert stamp == fragment.stored_stamp()
