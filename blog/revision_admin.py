"""The post admin's revisions (issue 7): every save through the form or the
list's actions is recorded (blog/revisions.py); the post's revisions page
lists them, compares any two and restores one with a click.

Who: the revisions of a post are shown to whoever the admin shows the post to
(an author their own posts, an editor all); a restore is an edit, so it asks
what an edit asks (`has_change_permission`, blog/roles.py `may_edit`): an
author may not restore a published post.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from blog import revisions


class RevisionsAdmin:
    """Mixin for the post admin (after the classes that refine its forms)."""

    revisions_template = "admin/blog/post/revisions.html"
    compare_template = "admin/blog/post/revision_compare.html"

    # --- Recording -----------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with revisions.recorded("", user=request.user):
            return super().changeform_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        if request.method != "POST":
            return super().changelist_view(request, extra_context)
        action = request.POST.get("action", "")
        actions = self.get_actions(request)
        description = str(actions[action][2]) if action in actions else ""
        with revisions.recorded(description, user=request.user):
            return super().changelist_view(request, extra_context)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if entry is not None:
            revisions.set_comment(entry.get_change_message())
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if entry is not None:
            revisions.set_comment(entry.get_change_message())
        return entry

    # --- Views ---------------------------------------------------------------

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(function)

        return [
            path(
                "<path:object_id>/revisions/",
                view(self.revisions_view),
                name="blog_post_revisions",
            ),
            path(
                "<path:object_id>/revisions/compare/",
                view(self.compare_view),
                name="blog_post_compare",
            ),
            path(
                "<path:object_id>/revisions/restore/",
                view(require_POST(self.restore_view)),
                name="blog_post_restore",
            ),
            *super().get_urls(),
        ]

    def _post_or_404(self, request, object_id):
        post = self.get_object(request, object_id)  # None for junk ids too
        if post is None or not self.has_view_or_change_permission(request, post):
            raise Http404(_("No such post."))
        return post

    def _context(self, request, post, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "post": post,
            "may_restore": self.has_change_permission(request, post),
            **extra,
        }

    def revisions_view(self, request, object_id):
        post = self._post_or_404(request, object_id)
        versions = list(revisions.versions_of(post))
        context = self._context(
            request,
            post,
            title=_("Revisions of “%(title)s”") % {"title": post.title},
            versions=versions,
        )
        return render(request, self.revisions_template, context)

    def compare_view(self, request, object_id):
        post = self._post_or_404(request, object_id)
        old = revisions.version_of(post, request.GET.get("from"))
        new = revisions.version_of(post, request.GET.get("to"))
        if old is None or new is None:
            raise Http404(_("No such revision of this post."))
        context = self._context(
            request,
            post,
            title=_("Changes to “%(title)s”") % {"title": post.title},
            old=old,
            new=new,
            rows=revisions.diff_versions(old, new),
        )
        return render(request, self.compare_template, context)

    def restore_view(self, request, object_id):
        post = self._post_or_404(request, object_id)
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        version = revisions.version_of(post, request.POST.get("version"))
        if version is None:
            raise Http404(_("No such revision of this post."))
        try:
            revisions.restore(post, version, request.user)
        except revisions.RestoreRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return HttpResponseRedirect(
                reverse("admin:blog_post_revisions", args=[post.pk])
            )
        message = _("Restored the text of the revision of %(time)s.") % {
            "time": revisions.when(version)
        }
        self.log_change(request, post, message)
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:blog_post_change", args=[post.pk]))
