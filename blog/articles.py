"""An article's own parts, rendered once (issue 8).

Most of an article page depends on its post's row alone: breadcrumb, header,
byline, lead image, table of contents, body, corrections and tags
(templates/blog/_article.html). The rest is live on every request
(templates/blog/post_detail.html): the preview banner, the "Updated" time and
the story updates that have come due (both move with the clock), the story's
feeds, and the neighbours and related posts (other posts' rows).
`LIVE_PART` marks in the rendered parts where the live ones go.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

LIVE_PART = "<!--dateline:live-->"
# The pieces of _article.html between its markers: before the "Updated" time,
# before the story updates, and before the story's feed links.
PIECES = 3


def render_article(post) -> str:
    """The post's own parts, with LIVE_PART where live parts go."""
    return render_to_string("blog/_article.html", {"post": post})


def article_pieces(post) -> list[SafeString]:
    """The post's own parts, in PIECES pieces for post_detail.html."""
    html = render_article(post)
    return [mark_safe(piece) for piece in html.split(LIVE_PART)[:PIECES]]  # noqa: S308 - rendered from our template
