"""`{% post_card post %}` and `{% desk_item post %}`: stored when fresh, live
otherwise (blog/cards.py)."""

from django import template

from blog import cards

register = template.Library()


@register.simple_tag
def post_card(post, lead=False, eager=False):
    """What `{% include "blog/_post_card.html" with level=2 %}` renders."""
    return cards.card(post, lead=lead, eager=eager)


@register.simple_tag
def desk_item(post):
    """What `{% include "blog/_desk_item.html" %}` renders."""
    return cards.desk_item(post)
