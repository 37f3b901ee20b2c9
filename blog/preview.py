"""The live preview beside the post form's Markdown body (issue 7).

`render_preview` is the one place the preview renders: the same pipeline as
a saved post (blog/markup.py, under the render budget, sanitised, with the
library's figures resolved as on save: blog/media.py), so what the
editor sees while typing is what readers will get. `preview_view` is the
staff-only endpoint the post form's static script (static/js/live-preview.js)
posts the body to; it answers JSON, and text the pipeline refuses answers a
clear message for the preview pane, never an error page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from blog.markup import MarkupRefused, normalize_newlines, render_within_budget
from blog.media import body_figures


def reading_time_label(word_count: int, minutes: int) -> str:
    return ngettext(
        "%(words)d word, about %(minutes)d min",
        "%(words)d words, about %(minutes)d min",
        word_count,
    ) % {"words": word_count, "minutes": minutes}


def render_preview(body: str) -> dict:
    """The body as readers would see it: sanitised HTML, its table of contents,
    word count and reading time, or `error` (the pipeline's refusal, for the
    editor) with empty HTML. Never raises for any text."""
    try:
        text = normalize_newlines(body or "")
        rendered = render_within_budget(text, figures=body_figures(text))
    except MarkupRefused as refusal:
        return {
            "html": "",
            "toc": [],
            "word_count": 0,
            "reading_minutes": 0,
            "reading_time": "",
            "error": str(refusal),
        }
    return {
        "html": rendered.html,
        "toc": list(rendered.toc),
        "word_count": rendered.word_count,
        "reading_minutes": rendered.reading_minutes,
        "reading_time": reading_time_label(
            rendered.word_count, rendered.reading_minutes
        ),
        "error": "",
    }


def may_use_preview(model_admin, request) -> bool:
    """Staff who may write or edit posts (the admin's add or change permission,
    which the roles grant to Authors and Editors; blog/roles.py)."""
    return model_admin.has_add_permission(request) or model_admin.has_change_permission(
        request
    )


def preview_view_for(model_admin):
    """The endpoint, bound to the post admin (wrapped by admin_view there:
    login required, staff only, CSRF-protected, never cached)."""

    @require_POST
    def preview_view(request):
        if not may_use_preview(model_admin, request):
            raise PermissionDenied
        try:
            body = request.POST.get("body", "")
        except RequestDataTooBig:
            return JsonResponse(
                {
                    **render_preview(""),
                    "error": _("The text is too large to preview."),
                }
            )
        return JsonResponse(render_preview(body))

    return preview_view
