"""The newsroom's admin site: the doors editors come in by (issue 9).

- Login asks for a TOTP token from anyone who has a confirmed device
  (django-otp), and from every editor when DATELINE["REQUIRE_2FA"] is on.
- Every admin view refuses NUL characters in its query string (400): they can
  never be valid and PostgreSQL rejects them with an error deep in a query.
"""

import hashlib
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpResponseBadRequest
from django.urls import path
from django.utils.translation import gettext as _
from django_otp import user_has_device
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.middleware import client_address


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Password, then a one-time token when the user has a device or 2FA is required."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_token"].widget.attrs.update(
            {"autocomplete": "one-time-code", "inputmode": "numeric"}
        )

    def clean(self):
        cleaned = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is None:
            return cleaned
        if user_has_device(user):
            self.clean_otp(user)
        elif settings.DATELINE["REQUIRE_2FA"]:
            raise forms.ValidationError(
                _(
                    "This newsroom requires an authenticator code, and none is set "
                    "up for your account yet: ask an editor-in-chief to add one."
                ),
                code="no_device",
            )
        return cleaned

    def _chosen_device(self, user):
        """The login page has no device menu: newsroom staff have one
        authenticator (TOTP), so the code is checked against it."""
        return super()._chosen_device(user) or (
            TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
        )


class NewsroomAdminSite(AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/login_otp.html"

    def each_context(self, request):
        return {
            **super().each_context(request),
            "require_2fa": settings.DATELINE["REQUIRE_2FA"],
        }

    def has_permission(self, request):
        """With REQUIRE_2FA on, a session that has not given a token is not staff."""
        if settings.DATELINE["REQUIRE_2FA"] and not request.user.is_verified():
            return False
        return super().has_permission(request)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def refuse_nul(request, *args, **kwargs):
            if any("\x00" in key + value for key, value in request.GET.items()):
                return HttpResponseBadRequest(_("NUL characters are not allowed."))
            return inner(request, *args, **kwargs)

        return refuse_nul


# Reset requests a client may make (per address it comes from) and an address
# may receive, per window (issue 7): enough for a forgetful editor, too few to
# flood an inbox or probe the list of addresses.
RESET_LIMITS = {"client": 10, "address": 3}
RESET_WINDOW_SECONDS = 60 * 60


def _reset_attempt_allowed(kind: str, value: str) -> bool:
    """Count one reset request for `value` in the cache (a fixed window) and
    say whether it is within the limit. Addresses are hashed in the key; a
    cache that is down counts nothing and allows the request."""
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()
    key = f"password-reset:{kind}:{digest}"
    try:
        cache.add(key, 0, RESET_WINDOW_SECONDS)
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr, or no cache
        return True
    return count <= RESET_LIMITS[kind]


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Django's reset view, refusing (429, with a message on the form) past
    RESET_LIMITS per client address or per email address. The same answer
    whether or not the address is a staff account's."""

    def form_valid(self, form):
        address = form.cleaned_data["email"]
        by_client = _reset_attempt_allowed("client", client_address(self.request))
        by_address = _reset_attempt_allowed("address", address)
        if by_client and by_address:
            return super().form_valid(form)
        form.add_error(
            "email",
            _(
                "Too many password reset requests: no email was sent. "
                "Wait an hour and try again, or ask an editor-in-chief."
            ),
        )
        response = self.form_invalid(form)
        response.status_code = 429
        return response


class StaffPasswordResetForm(PasswordResetForm):
    """Resets reach staff accounts only: the site has no reader accounts to
    recover, and an address that is not staff gets no email (and, as for any
    unknown address, the same answer, so accounts cannot be discovered)."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.is_staff)


def password_reset_urls(admin_path: str) -> list:
    """Django's password reset views under the admin, with its templates; the
    login page links the first (admin_password_reset)."""

    def site(view, **kwargs):
        return view.as_view(
            extra_context={
                "site_header": admin.site.site_header,
                "site_title": admin.site.site_title,
            },
            **kwargs,
        )

    return [
        path(
            f"{admin_path}password_reset/",
            site(RateLimitedPasswordResetView, form_class=StaffPasswordResetForm),
            name="admin_password_reset",
        ),
        path(
            f"{admin_path}password_reset/done/",
            site(auth_views.PasswordResetDoneView),
            name="password_reset_done",
        ),
        path(
            f"{admin_path}reset/<uidb64>/<token>/",
            site(auth_views.PasswordResetConfirmView),
            name="password_reset_confirm",
        ),
        path(
            f"{admin_path}reset/done/",
            site(auth_views.PasswordResetCompleteView),
            name="password_reset_complete",
        ),
    ]
