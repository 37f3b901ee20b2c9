"""Static files before and after `collectstatic`.

Production serves hashed, compressed names from the manifest collectstatic
writes (`make run` and the Docker image run it). A newcomer who starts
`manage.py runserver` with DEBUG off on a fresh checkout has no manifest yet:
instead of a 500 on every page ("Missing staticfiles manifest entry"), pages
then link the plain files in static/, WhiteNoise serves them from the finders
(config/settings.py), and a system check says what to run (issue 10).
"""

from django.conf import settings
from django.core.checks import Warning, register
from django.core.files.storage import storages
from whitenoise.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    @property
    def collected(self) -> bool:
        return bool(self.hashed_files)

    def stored_name(self, name):
        if not self.collected:
            return name
        return super().stored_name(name)


# Not tagged "staticfiles": collectstatic itself would warn before collecting.
@register("dateline")
def static_files_collected(app_configs, **kwargs):
    """Warns (runserver prints it at start) while production settings run
    without collected static files."""
    storage = storages["staticfiles"]
    if settings.DEBUG or not isinstance(storage, ManifestStaticFilesStorage):
        return []
    if storage.collected:
        return []
    return [
        Warning(
            "Static files have not been collected, so pages link the plain files "
            "in static/ (not hashed, not compressed).",
            hint="Run `python manage.py collectstatic --noinput` (make run does), "
            "then restart the server.",
            id="dateline.W001",
        )
    ]
