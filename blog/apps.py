from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = _("Newsroom")

    def ready(self):
        from blog import signals, staticfiles  # noqa: F401 (registers a check)

        post_migrate.connect(signals.prepare_database, sender=self)
