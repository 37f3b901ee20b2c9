"""The site header and footer of base.html, copied once rendered
(blog/chrome.py)."""

from django import template

from blog import chrome

register = template.Library()


def _served(context) -> bool:
    """Whether a view of ours renders the page (inside blog/caching.public_cache,
    where the request's validator read SiteState). Error pages render after
    it, in Django's handlers: live."""
    return "view" in context


@register.simple_tag(takes_context=True)
def site_header(context):
    """The skip link and the site header, with the page's section current."""
    meta = context.get("meta")
    return chrome.site_header(
        nav_section=getattr(meta, "nav_section", None),
        nav_current=getattr(meta, "nav_current", "page"),
        query=context.get("query") or "",
        memo=_served(context),
    )


@register.simple_tag(takes_context=True)
def site_footer(context):
    """The site footer (its feeds' addresses need the request: a template
    rendered without one lists none)."""
    return chrome.site_footer(context.get("request"), memo=_served(context))
