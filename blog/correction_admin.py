"""The desk's side of blog/corrections.py in the admin (issue 7): the
corrections inline, the retraction action and the pin fields' checks. Only
Editors and superusers (blog/roles.py) correct, retract and pin: enforced in
permissions, actions and forms, never by hiding a button."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog import roles
from blog.corrections import MAX_PINS, Correction
from blog.markup import MarkupRefused, normalize_newlines, render_within_budget
from blog.models import Post

PIN_FIELDS = ("pinned_home_until", "pinned_section_until", "pin_position")


class CorrectionForm(forms.ModelForm):
    class Meta:
        model = Correction
        fields = ["noted_at", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def clean_noted_at(self):
        noted_at = self.cleaned_data["noted_at"]
        if noted_at > timezone.now() + timedelta(minutes=1):
            raise forms.ValidationError(
                _("A correction is dated when it is made: not in the future.")
            )
        return noted_at

    def clean_text(self):
        text = normalize_newlines(self.cleaned_data["text"])
        try:
            render_within_budget(text)
        except MarkupRefused as refusal:
            raise forms.ValidationError(str(refusal), code="markup") from refusal
        return text


class CorrectionInline(admin.StackedInline):
    """Dated notes at the foot of a live article: Editors and superusers
    only. Authors neither see, add, change nor delete them."""

    model = Correction
    form = CorrectionForm
    extra = 0
    fields = ["noted_at", "text", "editor"]
    readonly_fields = ["editor"]
    verbose_name = _("correction")
    verbose_name_plural = _("corrections (shown at the foot of the article)")

    def has_view_permission(self, request, obj=None):
        return roles.may_correct(request.user)

    def has_add_permission(self, request, obj=None):
        # Appended to a live article only.
        return roles.may_correct(request.user) and (obj is None or obj.is_live)

    def has_change_permission(self, request, obj=None):
        return roles.may_correct(request.user)

    def has_delete_permission(self, request, obj=None):
        return roles.may_correct(request.user)


def save_correction_formset(request, formset) -> None:
    """Corrections are signed by the editor who wrote or changed them."""
    for form in formset.forms:
        if form.has_changed() and not form.cleaned_data.get("DELETE"):
            form.instance.editor = request.user


def check_pins(form) -> None:
    """At most MAX_PINS pins in force per front (the home page, a section)."""
    data = form.cleaned_data
    now = timezone.now()
    others = Post.objects.exclude(pk=form.instance.pk)
    fronts = [
        ("pinned_home_until", others, _("the home page")),
        (
            "pinned_section_until",
            others.filter(section=data.get("section")),
            _("this section's page"),
        ),
    ]
    for field, posts, where in fronts:
        until = data.get(field)
        if field not in form.changed_data or until is None or until <= now:
            continue
        if posts.filter(**{f"{field}__gt": now}).count() >= MAX_PINS:
            form.add_error(
                field,
                _(
                    "%(n)d stories are already pinned on %(where)s: unpin one "
                    "first (or let it expire)."
                )
                % {"n": MAX_PINS, "where": where},
            )


class RetractionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the retraction"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        max_length=2000,
        help_text=_("Shown to readers at the article's address, with its title."),
    )


class RetractAction:
    """A PostAdmin mixin: `actions = [..., "retract"]`. Asks for the reason
    (required) before retracting the selected live articles."""

    def has_retract_permission(self, request):
        return roles.may_retract(request.user)

    @admin.action(
        description=_("Retract (with a public notice)"), permissions=["retract"]
    )
    def retract(self, request, queryset):
        posts = list(queryset.filter(status=Post.Status.PUBLISHED))
        form = RetractionForm(request.POST if "apply" in request.POST else None)
        if not posts:
            self.message_user(
                request, _("Only published articles can be retracted."), messages.ERROR
            )
            return None
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/blog/post/retract.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Retract articles"),
                    "posts": posts,
                    "form": form,
                    "opts": self.model._meta,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                },
            )
        now = timezone.now()
        for post in posts:
            post.status = Post.Status.RETRACTED
            post.retracted_at = now
            post.retraction_reason = form.cleaned_data["reason"]
            post.pinned_home_until = post.pinned_section_until = None
            post.last_edited_by = request.user
            post.save()
        self.message_user(
            request,
            ngettext(
                "Retracted %d article: its address now shows the notice.",
                "Retracted %d articles: their addresses now show the notice.",
                len(posts),
            )
            % len(posts),
            messages.SUCCESS,
        )
        return None
