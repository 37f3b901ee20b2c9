"""HTML fragments rendered at save time and stored beside their row (issue 8).

A listing page used to render every card through the template language on
every request (about two thirds of the home page's time). A `Fragment` names
the templates a piece of HTML comes from; the row stores the HTML together
with the fragment's *stamp*: a short hash of everything the HTML depends on
besides the row itself:

- the sources of the templates (and of the templates they include),
- the active language and the translation catalogues of LOCALE_PATHS (and
  Django's version, for its month names),
- TIME_ZONE, the storage's base URL (MEDIA_URL, an object store's domain),
  SITE_URL,
- a version constant, raised when Python code that shapes the HTML changes
  (a model property, a filter).

A stored fragment is used only when its stamp equals the one this process
computes; otherwise (an empty stamp, a deploy with a changed template or
setting, another language) the page renders the template live, exactly as
before, so a stale fragment can never be served. `manage.py rerender` and the
`refresh_fragments` job (blog/tasks.py) write them again.

Stamps are computed once per process and language (template sources are read
once: templates change with a deploy, which starts new processes) and
forgotten when a setting changes (tests' override_settings).

The mechanism knows nothing about posts: the post card (blog/cards.py) is one
user, and the article page may be another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import django
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import get_template
from django.utils import translation

# Raise when Python code (not a template) that shapes any fragment changes.
VERSION = "1"

T = TypeVar("T")

_fragments: list[Fragment] = []


class Fragment:
    """A piece of HTML derived from one row, stored with its stamp."""

    def __init__(self, name: str, templates: tuple[str, ...], version: str = "1"):
        # Every template the HTML comes from, included ones too: their sources
        # count towards the stamp.
        self.name = name
        self.templates = templates
        self.version = version
        self._stamps: dict[str, str] = {}
        _fragments.append(self)

    def stamp(self) -> str:
        """The stamp a fragment rendered now, in the active language, gets."""
        language = translation.get_language() or settings.LANGUAGE_CODE
        try:
            return self._stamps[language]
        except KeyError:
            stamp = self._stamps[language] = self._compute(language)
            return stamp

    def is_fresh(self, stamp: str | None) -> bool:
        """Whether HTML stored with `stamp` is what rendering now would give."""
        return bool(stamp) and stamp == self.stamp()

    def render_stored(self, render: Callable[[], T]) -> tuple[T, str]:
        """(what `render` returns, the stamp) to store: rendered in the site's
        language, whatever the language of the request or job saving the row.
        `render` renders the templates without a request (a fragment may not
        depend on one)."""
        with translation.override(settings.LANGUAGE_CODE):
            return render(), self.stamp()

    def stored_stamp(self) -> str:
        """The stamp of fragments rendered for storage (the site's language)."""
        with translation.override(settings.LANGUAGE_CODE):
            return self.stamp()

    def _compute(self, language: str) -> str:
        digest = hashlib.sha256()

        def add(*parts):
            for part in parts:
                value = part if isinstance(part, bytes) else str(part).encode()
                digest.update(len(value).to_bytes(8, "big") + value)

        add(VERSION, self.name, self.version, django.__version__)
        for name in self.templates:
            add(name, get_template(name).template.source)
        add(language, *catalogues(language))
        add(settings.TIME_ZONE, settings.USE_TZ, settings.MEDIA_URL)
        add(default_storage.url("fragment-stamp"), getattr(settings, "SITE_URL", ""))
        return digest.hexdigest()[:12]


def catalogues(language: str) -> list[bytes]:
    """The project's compiled translations for `language` (and its base
    language), as bytes: a new catalogue changes the stamp."""
    names = {translation.to_locale(language), translation.to_locale(language)[:2]}
    found = []
    for root in settings.LOCALE_PATHS:
        for name in sorted(names):
            for path in sorted(Path(root, name, "LC_MESSAGES").glob("*.mo")):
                found.append(path.read_bytes())
    return found


@receiver(setting_changed)
def forget_stamps(**kwargs):
    """Settings changed (tests): every stamp is computed again."""
    for fragment in _fragments:
        fragment._stamps.clear()


def forget_all():
    """For tests that change a template or a catalogue on disk."""
    forget_stamps()
