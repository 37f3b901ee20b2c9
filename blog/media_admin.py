"""The media library in the admin (issue 7): a grid of thumbnails with their
alt text, caption, credit and size; search; an upload form (alt required,
checked by content through the bounded upload handler, blog/images.py); and
the picker the post form opens to insert a picture at the cursor
(static/js/media-picker.js reads `picker/`).

Authors upload and change the pictures they uploaded; Editors manage all
(blog/roles.py); everyone with the view permission may use any picture.
"""

from __future__ import annotations

import posixpath

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from blog import roles
from blog.admin import NewsroomAdmin
from blog.media import MediaImage

PICKER_PAGE_SIZE = 24
MAX_QUERY = 100


class MediaImageForm(forms.ModelForm):
    class Meta:
        model = MediaImage
        fields = ["file", "alt", "caption", "credit"]

    def clean_alt(self):
        alt = self.cleaned_data["alt"].strip()
        if not alt:
            raise forms.ValidationError(
                _("Describe the picture for readers who cannot see it."),
                code="required",
            )
        return alt


@admin.register(MediaImage)
class MediaImageAdmin(NewsroomAdmin):
    form = MediaImageForm
    list_display = ["thumbnail_tag", "alt", "caption", "credit", "dimensions"]
    list_select_related = ["uploaded_by"]
    search_fields = ["alt", "caption", "credit", "original_name"]
    list_per_page = 48
    readonly_fields = [
        "preview_tag",
        "dimensions",
        "original_name",
        "uploaded_by",
        "created_at",
        "markdown_code",
    ]
    # A grid of cards (the template), not a table of rows: no bulk actions.
    change_list_template = "admin/blog/mediaimage/change_list.html"
    actions = None

    class Media:
        css = {"all": ["css/admin.css"]}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in {"alt", "caption", "credit"}:
            field.widget.attrs["class"] = "dateline-wide"
        return field

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["file", "alt", "caption", "credit"]
        # The stored original never changes (nor is it deleted): a different
        # picture is a new library image.
        return [
            "preview_tag",
            "alt",
            "caption",
            "credit",
            "markdown_code",
            "dimensions",
            "original_name",
            "uploaded_by",
            "created_at",
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["fields"] = [
            name
            for name in self.get_fields(request, obj)
            if name in self.form._meta.fields
        ]
        return super().get_form(request, obj, change, **kwargs)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and roles.may_change_media(request.user, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.uploaded_by = request.user
            upload = form.cleaned_data.get("file")
            obj.original_name = posixpath.basename(getattr(upload, "name", "") or "")[
                :255
            ]
        super().save_model(request, obj, form, change)

    def delete_queryset(self, request, queryset):
        # One by one, so each picture's posts are rendered again without it.
        for image in queryset:
            image.delete()

    # -- Columns --------------------------------------------------------------

    @admin.display(description=_("picture"))
    def thumbnail_tag(self, image):
        thumb = image.thumbnail
        if thumb is None:
            return _("Renditions pending")
        return format_html(
            '<img class="dateline-thumb" src="{}" width="{}" height="{}" alt="">',
            thumb["url"],
            thumb["width"],
            thumb["height"],
        )

    @admin.display(description=_("picture"))
    def preview_tag(self, image):
        sources = image.sources
        if not sources:
            return _("Renditions pending: the queue is making them.")
        middle = sources[min(1, len(sources) - 1)]
        return format_html(
            '<img class="dateline-media-preview" src="{}" width="{}" height="{}" alt="{}">',
            middle["url"],
            middle["width"],
            middle["height"],
            image.alt,
        )

    @admin.display(description=_("size"))
    def dimensions(self, image):
        if not (image.width and image.height):
            return "—"
        return f"{image.width} \N{MULTIPLICATION SIGN} {image.height}"

    @admin.display(description=_("Markdown for an article body"))
    def markdown_code(self, image):
        return format_html("<code>{}</code>", image.markdown())

    # -- The picker -------------------------------------------------------------

    def get_urls(self):
        picker = path(
            "picker/",
            self.admin_site.admin_view(self.picker_view),
            name="blog_mediaimage_picker",
        )
        return [picker, *super().get_urls()]

    def picker_view(self, request):
        """Library images as JSON for the post form's picker: newest first,
        searched by ?q=, PICKER_PAGE_SIZE a ?page=. Staff with the view
        permission only (admin_view checks staff; this checks the rest)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "")[:MAX_QUERY].replace("\x00", "")
        images = MediaImage.objects.search(query).only(
            "pk", "alt", "caption", "credit", "width", "height", "renditions"
        )
        paginator = Paginator(images, PICKER_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        results = []
        for image in page.object_list:
            thumb = image.thumbnail
            results.append(
                {
                    "id": image.pk,
                    "alt": image.alt,
                    "caption": image.caption,
                    "credit": image.credit,
                    "width": image.width,
                    "height": image.height,
                    "thumbnail": thumb["url"] if thumb else None,
                    "markdown": image.markdown(),
                }
            )
        return JsonResponse(
            {
                "results": results,
                "page": page.number,
                "pages": paginator.num_pages,
                "count": paginator.count,
                "has_previous": page.has_previous(),
                "has_next": page.has_next(),
            }
        )
