from contextlib import suppress

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import (
    FieldDoesNotExist,
    PermissionDenied,
    ValidationError,
)
from django.db import connection
from django.db.models import Count
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from taggit.models import Tag as TaggitTag

from blog import roles
from blog.author_admin import BylineInline
from blog.authors import credit_owner
from blog.correction_admin import (
    PIN_FIELDS,
    CorrectionInline,
    RetractAction,
    check_pins,
    save_correction_formset,
)
from blog.markup import (
    MAX_BODY_CHARS,
    MarkupRefused,
    normalize_newlines,
    render_within_budget,
)
from blog.media import body_figures
from blog.models import Post, Section, StoryUpdate, Tag
from blog.preview import preview_view_for
from blog.revision_admin import RevisionsAdmin
from blog.tag_admin import MergeTagsAction, RenameTagAction
from blog.tagging import MAX_TAG_LENGTH

# taggit's own tag model is unused (we tag through blog.Tag); hide its admin.
admin.site.unregister(TaggitTag)


class TolerantChangeList(ChangeList):
    def get_filters(self, request):
        # Django turns a bad date-hierarchy value into "invalid lookup" only
        # for ValueError; a year like 10**20 overflows instead (issue 9).
        try:
            return super().get_filters(request)
        except OverflowError as error:
            raise IncorrectLookupParameters(error) from error


class TolerantAutocompleteSelect(AutocompleteSelect):
    """Shows a junk selected value (from ?section=abc or a refused POST) as
    nothing selected instead of failing to query it (issue 9)."""

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.get_field(
            self.field.remote_field.field_name
        )
        low, high = connection.ops.integer_field_range(target.get_internal_type())
        valid = []
        for item in value:
            try:
                key = target.to_python(item)
            except ValidationError:
                continue
            if not isinstance(key, int) or (low is None or low <= key <= high):
                valid.append(item)
        return super().optgroups(name, valid, attr)


class NewsroomAdmin(admin.ModelAdmin):
    """What every model admin shares: nothing an editor sends answers 5xx."""

    def get_changelist(self, request, **kwargs):
        return TolerantChangeList

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault(
                "widget",
                TolerantAutocompleteSelect(
                    db_field, self.admin_site, using=kwargs.get("using")
                ),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        """Initial values from the query string, keeping only those the field
        accepts (?published_at=abc is ignored, not a crash)."""
        initial = {}
        for name, value in super().get_changeform_initial_data(request).items():
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if field.many_to_many:
                initial[name] = value
                continue
            try:
                initial[name] = field.to_python(value)
            except ValidationError:
                continue
        return initial


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(state, capfirst(label)) for state, label in Post.STATE_LABELS.items()]

    def queryset(self, request, queryset):
        if self.value() == "draft":
            return queryset.filter(status=Post.Status.DRAFT)
        if self.value() == "review":
            return queryset.filter(status=Post.Status.REVIEW)
        if self.value() == "scheduled":
            return queryset.scheduled()
        if self.value() == "live":
            return queryset.published()
        if self.value() == "retracted":
            return queryset.retracted()
        return queryset


class MarkdownBodyForm(forms.ModelForm):
    """A Markdown `body` rendered under the budget (blog/markup.py) while the
    form validates: text over budget is a form error that keeps what was typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        body = self.fields.get("body")
        if body is None:  # read-only for this user: nothing to validate
            return
        # The browser stops at the limit too (maxlength), before a save is tried.
        body.widget.attrs["maxlength"] = MAX_BODY_CHARS
        limit = number_format(MAX_BODY_CHARS, force_grouping=True)
        body.help_text = format_lazy(
            "{} {}",
            body.help_text,
            _("At most %(limit)s characters.") % {"limit": limit},
        )

    # Post bodies show library figures (blog/media.py): rendered with them
    # here, so the save finds this very rendering remembered.
    with_figures = False

    def clean_body(self):
        body = normalize_newlines(self.cleaned_data["body"])
        try:
            render_within_budget(
                body, figures=body_figures(body) if self.with_figures else None
            )
        except MarkupRefused as refusal:
            raise forms.ValidationError(str(refusal), code="markup") from refusal
        return body


def render_posted_bodies(request, with_figures: bool = False) -> None:
    """Render every posted Markdown body before the admin opens its transaction
    (on SQLite that takes the write lock): the form's own validation then finds
    the outcome remembered and no lock is held while text renders (issue 9).
    `with_figures`: the main body shows library figures (a post's)."""
    for name, values in request.POST.lists():
        if name == "body" or name.endswith("-body"):
            for value in values:
                text = normalize_newlines(value)
                figures = (
                    body_figures(text) if with_figures and name == "body" else None
                )
                with suppress(MarkupRefused):
                    render_within_budget(text, figures=figures)


class StoryUpdateForm(MarkdownBodyForm):
    class Meta:
        model = StoryUpdate
        fields = ["published_at", "body"]


class PostAdminForm(MarkdownBodyForm):
    with_figures = True
    # Optimistic locking (issue 7): the version of the post the editor opened,
    # compared on save with the one in the database.
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Post
        fields = "__all__"  # noqa: DJ007 - the admin passes its fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["version"] = self.instance.updated_at.isoformat()
        if "pin_position" in self.fields:  # left out of a post: the lead (1)
            self.fields["pin_position"].required = False

    def clean_pin_position(self):
        return self.cleaned_data.get("pin_position") or 1

    def clean(self):
        cleaned_data = super().clean()
        sent = self.data.get(self.add_prefix("version"))
        current = self.initial.get("version")
        edited = [name for name in self.changed_data if name != "version"]
        # Saving only story updates (each its own row) or values equal to the
        # current ones overwrites nothing, so it never conflicts.
        if sent and current and sent != current and edited:
            self.refuse_stale_save(current)
        check_pins(self)
        return cleaned_data

    def refuse_stale_save(self, current):
        """Someone saved since this editor opened the post: refuse, keep what
        they typed, and let a second, informed save replace the other version."""
        post = self.instance
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = current
        editor = post.last_edited_by
        raise forms.ValidationError(
            format_html(
                '{} <a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
                _(
                    "%(editor)s saved this post at %(time)s, after you opened it. "
                    "Your text is kept below and nothing was saved: compare it "
                    "with their version, then save again to replace it."
                )
                % {
                    "editor": editor.get_username() if editor else _("Someone"),
                    "time": date_format(
                        timezone.localtime(post.updated_at), "DATETIME_FORMAT"
                    ),
                },
                reverse("admin:blog_post_history", args=[post.pk]),
                _("History"),
                reverse("admin:blog_post_revisions", args=[post.pk]),
                _("Revisions (compare the texts)"),
                post.get_absolute_url(),
                _("Their version as readers would see it"),
            ),
            code="stale",
        )

    def clean_tags(self):
        names = self.cleaned_data["tags"]
        too_long = [name for name in names if len(name) > MAX_TAG_LENGTH]
        if too_long:
            raise forms.ValidationError(
                _(
                    "A tag name has at most %(limit)d characters: "
                    "%(name)s… is %(length)d."
                )
                % {
                    "limit": MAX_TAG_LENGTH,
                    "name": too_long[0][:40],
                    "length": len(too_long[0]),
                }
            )
        return names


class EditableByRole:
    """Change and delete follow `roles.may_edit` for the post at hand: the
    post itself, or an inline's parent post (issue 7)."""

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or roles.may_edit(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or roles.may_edit(request.user, obj))


class StoryUpdateInline(EditableByRole, admin.StackedInline):
    model = StoryUpdate
    form = StoryUpdateForm
    extra = 0
    fields = ["published_at", "body"]
    verbose_name = _("story update")
    verbose_name_plural = _("story updates (newest first, shown above the article)")

    # A story's updates are written by whoever may edit the story (issue 7).
    def has_add_permission(self, request, obj=None):
        allowed = super().has_add_permission(request, obj)
        return allowed and (obj is None or roles.may_edit(request.user, obj))


@admin.register(Post)
class PostAdmin(RetractAction, EditableByRole, RevisionsAdmin, NewsroomAdmin):
    form = PostAdminForm
    list_display = [
        "title",
        "section",
        "desk_state",
        "published_at",
        "tag_list",
        "author",
        "last_edited_by",
        "updated_at",
    ]
    list_filter = [StateFilter, "section", "tags", "author"]
    list_select_related = ["section", "author", "last_edited_by"]
    search_fields = ["title", "summary", "body", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["section", "lead_media"]
    readonly_fields = [
        "state_label",
        "updated_at",
        "created_at",
        "reading_time",
        "preview",
        "retracted_at",
        "retraction_reason",
    ]
    inlines = [BylineInline, StoryUpdateInline, CorrectionInline]
    actions = ["publish_now", "unpublish", "submit_for_review", "retract"]
    save_on_top = True
    list_per_page = 50
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "section",
                    "tags",
                    "summary",
                    "body",
                    "version",
                ]
            },
        ),
        (
            _("Publication"),
            {"fields": ["status", "published_at", "state_label", "author"]},
        ),
        (
            _("Front page"),
            {
                "fields": list(PIN_FIELDS),
                "classes": ["collapse"],
                "description": _(
                    "Pinned stories lead the home page or their section's page, "
                    "in position order, until the time given (at most 4 each)."
                ),
            },
        ),
        (
            _("Lead image"),
            {
                "fields": [
                    "lead_media",
                    "lead_image",
                    "lead_image_alt",
                    "lead_image_caption",
                    "lead_image_credit",
                ],
                "classes": ["collapse"],
            },
        ),
        (
            _("As readers see it (after saving)"),
            {
                "fields": ["preview", "reading_time", "updated_at", "created_at"],
                "classes": ["collapse"],
            },
        ),
    ]

    # Long articles want room: wide single-line fields, a tall monospace body
    # (classes from css/admin.css: the admin runs under the CSP, no style="").
    WIDGET_ATTRS = {
        "title": {"class": "dateline-wide"},
        "slug": {"class": "dateline-wide"},
        "tags": {"class": "dateline-wide", "placeholder": _("Iran, Russia, Energy")},
        "lead_image_alt": {"class": "dateline-wide"},
        "lead_image_caption": {"class": "dateline-wide"},
        "summary": {"rows": 3, "class": "dateline-wide"},
        "body": {
            "rows": 30,
            "class": "dateline-body",
            # The texts of js/draft-keeper.js, in the editor's language.
            "data-draft-offer": _(
                "Text you typed in this form at %(time)s was never saved "
                "(your session may have expired)."
            ),
            "data-draft-restore": _("Restore my text"),
            "data-draft-discard": _("Discard it"),
            # js/media-picker.js: the library picker and its texts.
            "data-media-picker": reverse_lazy("admin:blog_mediaimage_picker"),
            "data-media-open": _("Insert a picture from the library"),
            "data-media-title": _("Media library"),
            "data-media-search": _("Search alt text, caption, credit, file name"),
            "data-media-close": _("Close"),
            "data-media-previous": _("Previous"),
            "data-media-next": _("Next"),
            "data-media-empty": _("No pictures found."),
            "data-media-failed": _("The library could not be loaded."),
            # The live preview beside it (js/live-preview.js, blog/preview.py).
            "data-preview-url": reverse_lazy("admin:blog_post_preview"),
            "data-preview-title": _("Live preview"),
            "data-preview-toc": _("Sub-sections"),
            "data-preview-empty": _("Start typing: the article appears here."),
            "data-preview-failed": _(
                "The preview could not be updated (the connection or your "
                "session may have been lost). Your text is unchanged."
            ),
        },
        "lead_image_credit": {"class": "dateline-wide"},
    }

    class Media:
        css = {"all": ["css/admin.css"]}
        js = ["js/draft-keeper.js", "js/media-picker.js", "js/live-preview.js"]

    def get_urls(self):
        preview = self.admin_site.admin_view(preview_view_for(self))
        return [
            path("preview/", preview, name="blog_post_preview"),
            *super().get_urls(),
        ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in self.WIDGET_ATTRS:
            field.widget.attrs.update(self.WIDGET_ATTRS[db_field.name])
        return field

    def get_queryset(self, request):
        posts = super().get_queryset(request).prefetch_related("tags")
        if not roles.sees_every_post(request.user):
            # A writer's admin holds their own posts only: others' answer
            # "does not exist", whatever URL or action is forged (issue 7).
            posts = posts.filter(author=request.user)
        return posts

    def has_publish_permission(self, request):
        return roles.may_publish(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.is_retracted:
            # Retracted with a reason by the action; not undone by a dropdown.
            fields = [*fields, "status"]
        if roles.may_publish(request.user):
            return fields
        # Out of the form, so a forged value is never read: the author is the
        # writer, the publication time and the pins are the desk's to set.
        return [*fields, "author", "published_at", *PIN_FIELDS]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.is_retracted:
            fieldsets = [
                *fieldsets,
                (_("Retraction"), {"fields": ["retracted_at", "retraction_reason"]}),
            ]
        return fieldsets

    def get_inlines(self, request, obj):
        # Corrections are appended to live articles (or kept on a retracted one).
        inlines = super().get_inlines(request, obj)
        if obj is None or not (obj.is_live or obj.correction_notes):
            inlines = [i for i in inlines if i is not CorrectionInline]
        return inlines

    def save_formset(self, request, form, formset, change):
        if formset.model is CorrectionInline.model:
            save_correction_formset(request, formset)
        super().save_formset(request, form, formset, change)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status" and not roles.may_publish(request.user):
            kwargs["choices"] = [
                (status.value, status.label) for status in roles.WRITER_STATUSES
            ]
        elif db_field.name == "status":
            # Retracting needs a reason: the "Retract" action asks for it.
            kwargs["choices"] = [
                (status.value, status.label)
                for status in Post.Status
                if status != Post.Status.RETRACTED
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method == "POST":
            self.apply_desk_button(request)
            render_posted_bodies(request, with_figures=True)
        return super().changeform_view(request, object_id, form_url, extra_context)

    # The desk's buttons beside Save (templates/admin/blog/post/submit_line.html):
    # shorthands for choosing the status, so the form's own validation, the
    # roles and the review email apply exactly as when the status is chosen.
    DESK_BUTTONS = {
        "_submit_review": Post.Status.REVIEW,
        "_publish": Post.Status.PUBLISHED,
    }

    def apply_desk_button(self, request):
        pressed = [name for name in self.DESK_BUTTONS if name in request.POST]
        if not pressed:
            return
        if "_publish" in pressed and not roles.may_publish(request.user):
            raise PermissionDenied  # a forged button: nothing is read or saved
        data = request.POST.copy()
        data["status"] = self.DESK_BUTTONS[pressed[0]].value
        request.POST = data

    def render_change_form(
        self, request, context, add=False, change=False, form_url="", obj=None
    ):
        editable = obj is None or roles.may_edit(request.user, obj)
        publisher = roles.may_publish(request.user)
        context.update(
            {
                "desk_submit_review": editable
                and not publisher
                and (obj is None or obj.status == Post.Status.DRAFT),
                "desk_publish": editable
                and publisher
                and (obj is None or obj.status != Post.Status.PUBLISHED),
            }
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj, form, change):
        # Pressing publish on a draft publishes it now, unless the editor chose
        # a time: the date the draft was started is not its publication date.
        publishing = "status" in form.changed_data or not change
        if (
            publishing
            and obj.status == Post.Status.PUBLISHED
            and "published_at" not in form.changed_data
            and obj.published_at < timezone.now()
        ):
            obj.published_at = timezone.now()
        if not roles.may_publish(request.user) and not change:
            obj.author = request.user
        obj.last_edited_by = request.user
        super().save_model(request, obj, form, change)
        if obj.status == Post.Status.REVIEW and "status" in form.changed_data:
            roles.announce_review(request, obj)
            self.message_user(
                request,
                _("Submitted for review: the editors have been notified."),
                messages.SUCCESS,
            )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        credit_owner(form.instance)

    def get_changeform_initial_data(self, request):
        return {
            "author": request.user.pk,
            **super().get_changeform_initial_data(request),
        }

    @admin.display(description=_("state"), ordering="status")
    def state_label(self, post):
        if post.pk is None:
            return "—"
        return capfirst(post.state_label)

    @admin.display(description=_("tags"))
    def tag_list(self, post):
        return ", ".join(tag.name for tag in post.tags.all())

    @admin.display(description=_("reading time"))
    def reading_time(self, post):
        return ngettext(
            "%(words)d word, about %(minutes)d min",
            "%(words)d words, about %(minutes)d min",
            post.word_count,
        ) % {"words": post.word_count, "minutes": post.reading_minutes}

    @admin.display(description=_("rendered body"))
    def preview(self, post):
        if not post.body_html:
            return _("Save to see the rendered article.")
        toc = format_html_join(
            "", "<li>{}</li>", ((entry["title"],) for entry in post.toc)
        )
        # body_html is sanitised by blog.markup on save: safe to show as HTML.
        return format_html(
            '<div class="dateline-preview"><p>{}</p><ul>{}</ul>{}</div>',
            _("Sub-sections:"),
            toc,
            mark_safe(post.body_html),  # noqa: S308
        )

    @admin.display(description=_("state"), ordering="status")
    def desk_state(self, post):
        """Who is working on what: draft, in review, scheduled for when, live,
        or live and updated since."""
        if post.state == "scheduled":
            return _("Scheduled for %(time)s") % {
                "time": date_format(
                    timezone.localtime(post.published_at), "SHORT_DATETIME_FORMAT"
                )
            }
        if post.state == "live" and post.was_updated:
            return pgettext_lazy("post list state", "Live, updated")
        return capfirst(post.state_label)

    @admin.action(description=_("Submit for review"), permissions=["change"])
    def submit_for_review(self, request, queryset):
        count = 0
        for post in queryset.filter(status=Post.Status.DRAFT):
            if roles.may_edit(request.user, post):
                post.status = Post.Status.REVIEW
                post.last_edited_by = request.user
                post.save()
                roles.announce_review(request, post)
                count += 1
        self.message_user(
            request,
            ngettext(
                "Submitted %d post for review.", "Submitted %d posts for review.", count
            )
            % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Publish now"), permissions=["publish"])
    def publish_now(self, request, queryset):
        now = timezone.now()
        count = 0
        for post in queryset.exclude(
            status=Post.Status.PUBLISHED, published_at__lte=now
        ):
            post.status = Post.Status.PUBLISHED
            post.published_at = now
            post.save()
            count += 1
        self.message_user(
            request,
            ngettext("Published %d post.", "Published %d posts.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish (back to draft)"), permissions=["publish"])
    def unpublish(self, request, queryset):
        count = 0
        for post in queryset.filter(status=Post.Status.PUBLISHED):
            post.status = Post.Status.DRAFT
            post.save()
            count += 1
        self.message_user(
            request,
            ngettext(
                "Moved %d post back to draft.", "Moved %d posts back to draft.", count
            )
            % count,
            messages.SUCCESS,
        )


class CountedAdmin(NewsroomAdmin):
    """Section and tag lists with their number of posts, in the list's one query."""

    count_relation = ""

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(post_count=Count(self.count_relation))
        )

    @admin.display(description=_("posts"), ordering="post_count")
    def post_count(self, obj):
        return obj.post_count


@admin.register(Section)
class SectionAdmin(CountedAdmin):
    count_relation = "posts"
    ordering = ["position", "name"]
    list_display = ["name", "slug", "position", "post_count"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(RenameTagAction, MergeTagsAction, CountedAdmin):
    count_relation = "tagged_posts"
    ordering = ["name"]
    list_display = ["name", "slug", "post_count"]
    search_fields = ["name", "slug"]
    actions = ["rename_tag", "merge_tags"]
    prepopulated_fields = {"slug": ["name"]}


# Static pages' admin reuses the Markdown form above (blog/page_admin.py).
from blog import media_admin, page_admin  # noqa: E402, F401
