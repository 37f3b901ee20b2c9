import os
import shutil
from pathlib import Path

import pytest
from django.core.cache import cache

SHARED = Path(
    os.environ.get("DATELINE_SHARED", Path(__file__).resolve().parents[2] / "shared")
)
SHARED_ARTICLE = SHARED / "content" / "iran-russia-latest-news.md"

# In CI a skipped check is a missing check: DATELINE_STRICT=1 (set by .ci/run)
# turns "tool not installed" skips into failures.
STRICT = os.environ.get("DATELINE_STRICT") == "1"


def require_tool(available: bool, reason: str):
    if available:
        return
    if STRICT:
        pytest.fail(f"{reason} (DATELINE_STRICT=1: CI must install it)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Each test starts with an empty cache and its own media folder. Static
    files come straight from static/ (no collectstatic needed on a fresh
    clone); tests/test_server.py checks the hashed, compressed build."""
    cache.clear()
    settings.MEDIA_ROOT = tmp_path / "media"
    # Jobs run where they are queued, so a test sees their effect at once;
    # tests/test_tasks.py runs real worker processes on the database queue.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    yield
    cache.clear()


@pytest.fixture
def shared_article() -> str:
    if not SHARED_ARTICLE.exists():
        pytest.skip(
            f"{SHARED_ARTICLE} is absent (the shared folder is not beside the project)"
        )
    return SHARED_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture
def staff_client(client):
    from tests.factories import make_staff

    user = make_staff()
    client.force_login(user)
    client.user = user
    return client


def role_client(client, role):
    """`client` logged in as a new staff member of `role` (blog/roles.py;
    None: staff in no role), who is `client.user`."""
    from tests.factories import make_member

    client.user = make_member(role)
    client.force_login(client.user)
    return client


@pytest.fixture
def author_client(client):
    from blog import roles

    return role_client(client, roles.AUTHORS)


@pytest.fixture
def editor_client(client):
    from blog import roles

    return role_client(client, roles.EDITORS)


@pytest.fixture
def bare_staff_client(client):
    return role_client(client, None)


def which(name: str) -> str | None:
    return shutil.which(name)
