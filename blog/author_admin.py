"""Authors in the admin (issue 13): editors manage every profile; any staff
user may edit their own. Bylines are edited on the post, in order."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from blog.authors import Author, Byline


class BylineInline(admin.TabularInline):
    model = Byline
    extra = 1
    fields = ["author", "position"]
    ordering = ["position", "id"]
    verbose_name = _("author")
    verbose_name_plural = _("bylines (in order; left empty, the post credits you)")


def edits_any_profile(request) -> bool:
    return request.user.has_perm("blog.change_author")


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["display_name", "slug", "user"]
    search_fields = ["display_name", "slug"]
    prepopulated_fields = {"slug": ["display_name"]}
    fields = ["display_name", "slug", "user", "bio", "photo_media", "photo", "links"]
    autocomplete_fields = ["photo_media"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user")
        if edits_any_profile(request):
            return queryset
        return queryset.filter(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        # Only an editor ties a profile to an account.
        return [] if edits_any_profile(request) else ["user"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) or self.owns(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or self.owns(request, obj)

    @staticmethod
    def owns(request, obj) -> bool:
        """Staff may open their own profile (and the list showing only it)."""
        if not (request.user.is_active and request.user.is_staff):
            return False
        return obj is None or obj.user_id == request.user.pk
