from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BlogConfig(AppConfig):
    default = True
    name = "blog"
    verbose_name = _("Newsroom")

    def ready(self):
        from blog import signals, staticfiles  # noqa: F401 (registers a check)

        post_migrate.connect(signals.prepare_database, sender=self)


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as `admin.site` (blog/admin_site.py)."""

    default = False
    default_site = "blog.admin_site.NewsroomAdminSite"
