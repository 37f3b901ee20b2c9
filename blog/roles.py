"""Newsroom roles: who may write, edit, publish and preview what (issue 7).

Roles are Django groups declared once here; the data migration creates them
from this registry and the admin, the article preview and the tests ask the
questions below, so a role's powers live in one place. Enforced on the server:
querysets, form fields, actions and object permissions, never hidden buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from blog.models import Post

PUBLISH = "blog.publish_post"
# The statuses a writer without publish rights may give a post.
WRITER_STATUSES = (Post.Status.DRAFT, Post.Status.REVIEW)


@dataclass(frozen=True)
class Role:
    group: str
    # (app_label, model, codename) of every model permission the group holds.
    permissions: tuple[tuple[str, str, str], ...]


def _model_perms(model: str, *actions: str) -> tuple[tuple[str, str, str], ...]:
    return tuple(("blog", model, f"{action}_{model}") for action in actions)


ALL = ("add", "change", "delete", "view")

# Authors hold no publish_post: that absence is what keeps them to their own
# posts, drafts and reviews (see `sees_every_post`).
AUTHORS = Role(
    group="Authors",
    permissions=(
        *_model_perms("post", "add", "change", "view"),
        *_model_perms("storyupdate", "add", "change", "view"),
        *_model_perms("section", "view"),
        *_model_perms("tag", "view"),
        # Co-bylines on their own posts (the post's own rules apply); their
        # own profile needs no permission (blog/author_admin.py).
        *_model_perms("byline", "add", "change", "delete", "view"),
        # The media library: they see it all (to use a picture), upload, and
        # change only what they uploaded (`may_change_media`).
        *_model_perms("mediaimage", "add", "change", "view"),
    ),
)
EDITORS = Role(
    group="Editors",
    permissions=(
        *_model_perms("post", *ALL, "publish"),
        *_model_perms("storyupdate", *ALL),
        *_model_perms("section", *ALL),
        *_model_perms("tag", *ALL),
        *_model_perms("author", *ALL),
        *_model_perms("byline", *ALL),
        *_model_perms("page", *ALL),
        *_model_perms("oldtagslug", "view"),
        *_model_perms("mediaimage", *ALL),
        *_model_perms("correction", *ALL),
    ),
)
ROLES = (AUTHORS, EDITORS)


def may_publish(user) -> bool:
    """Publish, schedule, unpublish, and set any author: editors and superusers."""
    return user.is_active and user.is_staff and user.has_perm(PUBLISH)


def may_correct(user) -> bool:
    """Append, change or delete correction notes: editors and superusers."""
    return may_publish(user) and user.has_perm("blog.add_correction")


def may_retract(user) -> bool:
    """Retract an article (blog/corrections.py): editors and superusers."""
    return may_publish(user)


def may_pin(user) -> bool:
    """Pin stories on the home and section pages: editors and superusers."""
    return may_publish(user)


def sees_every_post(user) -> bool:
    """Without publish rights a writer works on their own posts only."""
    return may_publish(user)


def may_edit(user, post) -> bool:
    """May change this post: an editor any post; a writer their own draft or
    piece in review (a published one is the desk's to change)."""
    if not (user.is_active and user.is_staff and user.has_perm("blog.change_post")):
        return False
    if may_publish(user):
        return True
    return post.author_id == user.pk and post.status in WRITER_STATUSES


def may_preview(user, post) -> bool:
    """Reads this post before it is public, at its public address: whoever may
    edit it (an editor, its author), not every staff session."""
    if not (user.is_active and user.is_staff and user.has_perm("blog.view_post")):
        return False
    return may_publish(user) or post.author_id == user.pk


def sync_groups(apps, schema_editor=None) -> None:
    """Create or align every role's group with its declared permissions (run by
    a data migration; a later change to ROLES ships with another migration
    calling this again). Permissions are created first: on a fresh database
    Django would only make them after the last migration."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips an app without a models module (as a
        # migration's app states are). Restored afterwards: called with the
        # real registry (tests), leaving None would make Django skip every
        # app's post_migrate, so a flush stopped re-creating content types
        # and permissions and later tests failed on stale content type IDs.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.group)
        # A model a later migration creates has no permissions yet: skipped
        # here, granted when that migration calls this again.
        granted = (
            Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename=codename,
            ).first()
            for app_label, model, codename in role.permissions
        )
        group.permissions.set([permission for permission in granted if permission])


def may_change_media(user, image) -> bool:
    """Change a library image's words: editors (who may publish) any; a
    writer the pictures they uploaded."""
    if not (
        user.is_active and user.is_staff and user.has_perm("blog.change_mediaimage")
    ):
        return False
    if image is None or may_publish(user):
        return True
    return image.uploaded_by_id == user.pk


def review_recipients() -> list[str]:
    """The addresses a piece submitted for review is announced to: the Editors."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model()
        .objects.filter(groups__name=EDITORS.group, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def announce_review(request, post) -> None:
    """Once the save is committed, queue the Editors' email for this piece."""
    from django.db import transaction
    from django.urls import reverse

    from blog.tasks import notify_editors_of_review

    url = request.build_absolute_uri(reverse("admin:blog_post_change", args=[post.pk]))
    transaction.on_commit(lambda: notify_editors_of_review.enqueue(post.pk, url))
