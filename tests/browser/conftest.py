"""Fixtures for the browser, accessibility, validity and weight checks.

Playwright's sync API runs an asyncio event loop in the test thread, and Django
refuses ORM calls from a thread with a running loop unless told the caller
knows it is synchronous (it is: the loop only drives the browser).
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import shutil  # noqa: E402
from datetime import timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from tests.conftest import require_tool  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
VNU = PROJECT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

# The demo story with a table of contents and three story updates.
ELECTION_SLUG = "how-election-observers-work"


@pytest.fixture(autouse=True)
def _plain_static(settings):
    """{% static %} names the files under static/ as they are now.

    With DEBUG off the project uses whitenoise's manifest storage, whose
    hashed names come from a `collectstatic` run that may be stale or absent;
    the live server's static handler finds files by their source names.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (Debian's, never a download)."""
    require_tool(
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def newsroom(db):
    """The demo articles (with generated lead images), plus a scheduled post
    and a draft that must appear nowhere."""
    from blog.models import Post
    from tests.factories import make_post

    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    posts = {post.slug: post for post in Post.objects.all()}
    world = posts[ELECTION_SLUG].section
    scheduled = make_post(
        "Embargoed: the summit communique",
        slug="embargoed-summit-communique",
        section=world,
        published_at=timezone.now() + timedelta(days=2),
    )
    draft = make_post(
        "Unfinished draft about the pipeline",
        slug="unfinished-draft-pipeline",
        section=world,
        status=Post.Status.DRAFT,
    )
    return {
        "posts": posts,
        "election": posts[ELECTION_SLUG],
        "scheduled": scheduled,
        "draft": draft,
        "hidden": [scheduled, draft],
    }


def java_available() -> bool:
    return shutil.which("java") is not None
