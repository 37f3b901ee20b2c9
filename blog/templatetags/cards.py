"""Posts' cards and desk lines: stored when fresh, live otherwise
(blog/cards.py). `{% post_cards posts eager=3 %}` is the loop
`{% for post in posts %}{% post_card post eager=forloop.counter<=3 %}` in one
call."""

from django import template

from blog import cards

register = template.Library()


@register.simple_tag
def post_card(post, lead=False, eager=False):
    """What `{% include "blog/_post_card.html" with level=2 %}` renders."""
    return cards.card(post, lead=lead, eager=eager)


@register.simple_tag
def post_cards(posts, eager=0):
    """The cards of `posts`, the first `eager` of them without lazy loading."""
    return cards.card_list(posts, eager=eager)


@register.simple_tag
def desk_items(posts):
    """Every post's line in "From the desks"."""
    return cards.desk_list(posts)


@register.simple_tag
def desk_item(post):
    """What `{% include "blog/_desk_item.html" %}` renders."""
    return cards.desk_item(post)
