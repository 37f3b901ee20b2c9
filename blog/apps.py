from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate, pre_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.plugins.otp_totp import apps as totp_apps
from django_tasks_db.apps import TasksAppConfig


class BlogConfig(AppConfig):
    # Chosen for "blog" although this module holds several configurations.
    default = True
    name = "blog"
    verbose_name = _("Newsroom")

    def ready(self):
        # Registers receivers (caching, signals) and a system check (staticfiles).
        from blog import (  # noqa: F401
            articles,
            caching,
            revisions,
            signals,
            staticfiles,
        )

        # After caching's receivers, which move a post's updated_at first.
        articles.connect_receivers()
        revisions.register()

        pre_migrate.connect(signals.drop_sqlite_triggers, sender=self)
        post_migrate.connect(signals.prepare_database, sender=self)


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as `admin.site` (blog/admin_site.py)."""

    default = False
    default_site = "blog.admin_site.NewsroomAdminSite"


class JobQueueConfig(TasksAppConfig):
    """django-tasks-db as our admin shows it: its app name is a plain string,
    so the French admin would say "Tasks Database Backend" (issue 10)."""

    verbose_name = _("Job queue")


# The library marks its model names for translation but ships no French:
# naming them here puts them in our catalogue.
QUEUE_MODEL_NAMES = (gettext_noop("Task Result"), gettext_noop("Task Results"))


class LoginAttemptsConfig(axes_apps.AppConfig):
    """django-axes (login throttling) named in the site's language (issue 9)."""

    default = False
    verbose_name = _("Login attempts")


class AuthenticatorsConfig(totp_apps.DefaultConfig):
    """django-otp's TOTP devices, named in the site's language: the library
    names the model with a plain string. Changing _meta's names (not the
    model's declared options) leaves its migrations alone."""

    default = False
    verbose_name = _("Two-factor login")

    def ready(self):
        super().ready()
        meta = self.get_model("TOTPDevice")._meta
        meta.verbose_name = _("authenticator")
        meta.verbose_name_plural = _("authenticators")
