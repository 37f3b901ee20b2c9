"""Tag hygiene in the admin (issue 13). Renaming is an action (and also
the tag's change form): a new slug keeps the old addresses answering
(Tag.save records it); merging is an action that asks which of the selected
tags survives."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.template.response import TemplateResponse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog.tag_moves import merge_tags
from blog.tagging import MAX_TAG_LENGTH


class RenameTagForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=MAX_TAG_LENGTH)
    slug = forms.SlugField(
        label=_("New slug"),
        max_length=100,
        allow_unicode=True,
        required=False,
        help_text=_("Left empty, it is made from the name."),
    )

    def __init__(self, *args, tag, **kwargs):
        super().__init__(*args, **kwargs)
        self.tag = tag

    def clean(self):
        from blog.models import Tag

        data = super().clean()
        name = (data.get("name") or "").strip()
        if not name:
            return data
        slug = data.get("slug") or self.tag.slugify(name)
        data["slug"] = slug
        others = Tag.objects.exclude(pk=self.tag.pk)
        if others.filter(name__iexact=name).exists():
            self.add_error("name", _("Another tag has this name: merge them instead."))
        if others.filter(slug=slug).exists():
            self.add_error("slug", _("Another tag has this slug: merge them instead."))
        return data


class RenameTagAction:
    """A ModelAdmin mixin: `actions = ["rename_tag"]`. One tag at a time;
    its old slug keeps its pages, feeds and intersections answering 301."""

    @admin.action(description=_("Rename the selected tag"), permissions=["change"])
    def rename_tag(self, request, queryset):
        tags = list(queryset[:2])
        if len(tags) != 1:
            self.message_user(
                request, _("Select exactly one tag to rename."), messages.WARNING
            )
            return None
        tag = tags[0]
        applying = "apply" in request.POST
        form = RenameTagForm(
            request.POST if applying else None,
            tag=tag,
            initial={"name": tag.name, "slug": tag.slug},
        )
        if not applying or not form.is_valid():
            return TemplateResponse(
                request,
                "admin/blog/tag/rename_tag.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Rename tag"),
                    "tag": tag,
                    "form": form,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        old_slug = tag.slug
        with transaction.atomic():
            tag.name = form.cleaned_data["name"].strip()
            tag.slug = form.cleaned_data["slug"] or slugify(tag.name)
            tag.save()  # records the old slug (blog/tag_moves.record_tag_slug)
        self.message_user(
            request,
            _("Renamed the tag to %(tag)s; its old address %(old)s now leads there.")
            % {"tag": tag.name, "old": f"/tag/{old_slug}/"},
            messages.SUCCESS,
        )
        return None


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
