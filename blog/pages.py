"""Static pages (About, Ethics, Corrections policy, Contact), issue 13.

Markdown through the same pipeline as posts (rendered once on save, within
the budget the admin form enforces), at /page/<slug>/ (no clash with /<yyyy>/
or any other address in DESIGN.md), listed in the footer and the sitemap.
Any page change touches SiteState (blog/caching.py): the footer on every page
and each page's validator follow it.
"""

from __future__ import annotations

from django.db import models
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from blog import reversing
from blog.markup import html_to_text, render_markdown


class PageQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)


class Page(models.Model):
    title = models.CharField(_("title"), max_length=120)
    slug = models.SlugField(
        _("slug"),
        max_length=80,
        unique=True,
        help_text=_("The page lives at /page/<slug>/."),
    )
    body = models.TextField(_("body"), help_text=_("Markdown."))
    body_html = models.TextField(editable=False, default="")
    published = models.BooleanField(_("published"), default=True)
    in_footer = models.BooleanField(
        _("in the footer"), default=True, help_text=_("Linked from every page.")
    )
    position = models.PositiveSmallIntegerField(
        _("position"), default=0, help_text=_("Order in the footer, smallest first.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("static page")
        verbose_name_plural = _("static pages")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body).html
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reversing.reverse("blog:page", kwargs={"slug": self.slug})

    @property
    def summary(self) -> str:
        """Its opening words: the meta description."""
        return Truncator(html_to_text(self.body_html)).words(30)


_footer_memo: tuple = (None, [])


def footer_pages() -> list[Page]:
    """The footer's pages, memoised per process under the SiteState time this
    request's validator read (as nav_sections is): no query on cached paths."""
    from blog.caching import SITE_STATE

    global _footer_memo
    state = SITE_STATE.get()
    if state is not None and _footer_memo[0] == state:
        return _footer_memo[1]
    pages = list(Page.objects.published().filter(in_footer=True).only("title", "slug"))
    if state is not None:
        _footer_memo = (state, pages)
    return pages
