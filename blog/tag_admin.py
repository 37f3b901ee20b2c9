"""Tag hygiene in the admin (issue 13). Renaming is the tag's change form
(a new slug keeps the old addresses answering: Tag.save); merging is this
action, which asks which of the selected tags survives."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog.tag_moves import merge_tags


class MergeTagsAction:
    """A ModelAdmin mixin: `actions = ["merge_tags"]`."""

    @admin.action(description=_("Merge selected tags into one"), permissions=["change"])
    def merge_tags(self, request, queryset):
        tags = list(queryset.order_by("name"))
        if len(tags) < 2:
            self.message_user(
                request, _("Select at least two tags to merge."), messages.WARNING
            )
            return None
        target = next(
            (tag for tag in tags if str(tag.pk) == request.POST.get("target")), None
        )
        if target is None or "apply" not in request.POST:
            return TemplateResponse(
                request,
                "admin/blog/tag/merge_tags.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Merge tags"),
                    "tags": tags,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        merged = [tag for tag in tags if tag.pk != target.pk]
        gained = merge_tags(target, merged)
        self.message_user(
            request,
            ngettext(
                "Merged %(n)d tag into %(tag)s (%(posts)d posts moved); "
                "its old addresses now lead there.",
                "Merged %(n)d tags into %(tag)s (%(posts)d posts moved); "
                "their old addresses now lead there.",
                len(merged),
            )
            % {"n": len(merged), "tag": target.name, "posts": gained},
            messages.SUCCESS,
        )
        return None
