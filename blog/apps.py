from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_tasks_db.apps import TasksAppConfig


class BlogConfig(AppConfig):
    # Chosen for "blog" although this module holds two configurations.
    default = True
    name = "blog"
    verbose_name = _("Newsroom")

    def ready(self):
        # Registers receivers (caching, signals) and a system check (staticfiles).
        from blog import caching, signals, staticfiles  # noqa: F401

        post_migrate.connect(signals.prepare_database, sender=self)


class JobQueueConfig(TasksAppConfig):
    """django-tasks-db as our admin shows it: its app name is a plain string,
    so the French admin would say "Tasks Database Backend" (issue 10)."""

    verbose_name = _("Job queue")


# The library marks its model names for translation but ships no French:
# naming them here puts them in our catalogue.
QUEUE_MODEL_NAMES = (gettext_noop("Task Result"), gettext_noop("Task Results"))
