"""Static pages in the admin: Markdown validated under the rendering budget
by the same form as post bodies (blog/admin.MarkdownBodyForm)."""

from django.contrib import admin

from blog.admin import MarkdownBodyForm, NewsroomAdmin, render_posted_bodies
from blog.pages import Page


class PageForm(MarkdownBodyForm):
    class Meta:
        model = Page
        fields = ["title", "slug", "body", "published", "in_footer", "position"]


@admin.register(Page)
class PageAdmin(NewsroomAdmin):
    form = PageForm
    list_display = ["title", "slug", "position"]
    list_filter = ["published", "in_footer"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["title"]}
    search_fields = ["title", "slug", "body"]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            render_posted_bodies(request)  # no write lock held while it renders
        return super().changeform_view(request, object_id, form_url, extra_context)
