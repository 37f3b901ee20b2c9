"""Post revisions (issue 7), kept by django-reversion.

Every save of a post through the admin (the form, with its story updates and
bylines, and the list's actions) and through the importers is a revision:
`recorded(comment, user)` is the block they write in. Bulk generation for
benchmarks (generate_posts) inserts rows without saving them one by one and
records nothing.

A revision stores the post's editorial fields, its story updates and its
bylines (followed). Editors compare any two revisions (`diff_html`: title and
summary word by word, the body line by line then word by word, escaped, with
<ins> and <del>) and restore one (`restore`): a restore is itself a new
revision, and brings back the text (title, summary, body, section, lead image
texts), never the publication state (status, time, author), which stays the
desk's to change, nor the address (slug), which readers' links depend on,
nor story updates, which other reporters may have added since.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from difflib import SequenceMatcher

import reversion
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reversion.models import Version

from blog.authors import Byline
from blog.markup import MarkupRefused, render_within_budget
from blog.models import Post, Section, StoryUpdate

# What a revision keeps of a post: what people write and decide, not what is
# derived from it on save (rendered HTML, search vectors, renditions, times).
POST_FIELDS = (
    "title",
    "slug",
    "section",
    "author",
    "summary",
    "body",
    "lead_image",
    "lead_image_alt",
    "lead_image_caption",
    "status",
    "published_at",
    "last_edited_by",
)
# What a restore brings back (see the module's docstring).
RESTORED_FIELDS = (
    "title",
    "summary",
    "body",
    "section_id",
    "lead_image_alt",
    "lead_image_caption",
)
# What the diff shows, in order.
COMPARED_FIELDS = ("title", "summary", "body")


def register() -> None:
    """Called once when the app is ready (blog/apps.py)."""
    if reversion.is_registered(Post):
        return
    reversion.register(Post, fields=POST_FIELDS, follow=("updates", "bylines"))
    reversion.register(StoryUpdate, fields=("post", "published_at", "body"))
    reversion.register(Byline, fields=("post", "author", "position"))


@contextmanager
def recorded(comment: str, user=None):
    """Every post (with its updates and bylines) saved inside the block is one
    revision, with this comment and user. Nested inside another block, it
    joins the outer one. In a transaction of its own."""
    with reversion.create_revision():
        reversion.set_comment(comment)
        if user is not None and getattr(user, "pk", None) is not None:
            reversion.set_user(user)
        yield


def set_comment(comment: str) -> None:
    """Name the revision being recorded, if one is (the admin's change message)."""
    if reversion.is_active():
        reversion.set_comment(comment)


def versions_of(post):
    """The post's revisions, newest first, with who made them (one query)."""
    return (
        Version.objects.get_for_object(post)
        .select_related("revision__user")
        .order_by("-revision__date_created", "-pk")
    )


def when(version: Version) -> str:
    """The revision's time as the admin shows times."""
    return date_format(
        timezone.localtime(version.revision.date_created), "DATETIME_FORMAT"
    )


def version_of(post, version_id) -> Version | None:
    """One of the post's revisions, or None for any other id (or junk)."""
    try:
        version_id = int(version_id)
    except (TypeError, ValueError):
        return None
    if not 0 < version_id < 2**63:
        return None
    return versions_of(post).filter(pk=version_id).first()


# --- Diff -------------------------------------------------------------------

_TOKEN_RE = re.compile(r"\s+|[^\s]+")
# Word-level diffing inside a changed block is quadratic at worst: past this
# many words a side, the block is shown as removed and added whole.
WORD_DIFF_LIMIT = 3000
# Unchanged runs of the body longer than this show their first and last lines.
CONTEXT_LINES = 2


def _marked(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>" if text else ""


def diff_words(old: str, new: str) -> SafeString:
    """`new` against `old`, word by word: escaped text with <del> and <ins>."""
    a, b = _TOKEN_RE.findall(old or ""), _TOKEN_RE.findall(new or "")
    if len(a) > WORD_DIFF_LIMIT or len(b) > WORD_DIFF_LIMIT:
        if a == b:
            return mark_safe(escape(new))  # noqa: S308 - escaped
        return mark_safe(_marked("del", old) + _marked("ins", new))  # noqa: S308
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
        else:
            out.append(_marked("del", "".join(a[i1:i2])))
            out.append(_marked("ins", "".join(b[j1:j2])))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped


def diff_lines(old: str, new: str) -> SafeString:
    """Long text (the body): lines first, then words inside changed lines;
    long unchanged stretches are folded to their first and last lines."""
    a = (old or "").splitlines(keepends=True)
    b = (new or "").splitlines(keepends=True)
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            lines = a[i1:i2]
            if len(lines) > 2 * CONTEXT_LINES + 1:
                hidden = len(lines) - 2 * CONTEXT_LINES
                out.append(escape("".join(lines[:CONTEXT_LINES])))
                out.append(
                    '<span class="dateline-diff-fold">'
                    + escape(
                        ngettext(
                            "⋯ %(count)d unchanged line ⋯",
                            "⋯ %(count)d unchanged lines ⋯",
                            hidden,
                        )
                        % {"count": hidden}
                    )
                    + "</span>\n"
                )
                out.append(escape("".join(lines[-CONTEXT_LINES:])))
            else:
                out.append(escape("".join(lines)))
        else:
            out.append(diff_words("".join(a[i1:i2]), "".join(b[j1:j2])))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped


def diff_versions(old: Version, new: Version) -> list[dict]:
    """Title, summary and body of two revisions side by side in one text:
    [{"name", "label", "changed", "html"}]."""
    labels = {name: Post._meta.get_field(name).verbose_name for name in COMPARED_FIELDS}
    rows = []
    for name in COMPARED_FIELDS:
        before = str(old.field_dict.get(name) or "")
        after = str(new.field_dict.get(name) or "")
        differ = diff_lines if name == "body" else diff_words
        rows.append(
            {
                "name": name,
                "label": labels[name],
                "changed": before != after,
                "html": differ(before, after),
            }
        )
    return rows


# --- Restore ----------------------------------------------------------------


class RestoreRefused(ValueError):
    """The revision cannot be restored; the message is for the editor."""


def restore(post: Post, version: Version, user) -> Post:
    """Bring back `version`'s text onto `post` as a new revision by `user`.
    The caller has checked `user` may edit the post (blog/roles.py)."""
    data = version.field_dict
    values = {name: data[name] for name in RESTORED_FIELDS if name in data}
    try:
        render_within_budget(values.get("body") or "")
    except MarkupRefused as refusal:
        raise RestoreRefused(str(refusal)) from refusal
    comment = _("Restored the revision of %(time)s.") % {"time": when(version)}
    with transaction.atomic(), recorded(comment, user=user):
        current = Post.objects.select_for_update().get(pk=post.pk)
        if not Section.objects.filter(pk=values.get("section_id")).exists():
            values.pop("section_id", None)  # the section is gone: keep today's
        for name, value in values.items():
            setattr(current, name, value)
        current.last_edited_by = user
        current.save()
    return current
