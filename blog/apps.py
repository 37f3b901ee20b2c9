from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = "Newsroom"

    def ready(self):
        from blog import caching, signals  # noqa: F401 - connect receivers

        post_migrate.connect(signals.prepare_database, sender=self)
