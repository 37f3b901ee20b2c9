"""Fixtures for the browser, accessibility, validity and weight checks.

Playwright's sync API runs an asyncio event loop in the test thread, and Django
refuses ORM calls from a thread with a running loop unless told the caller
knows it is synchronous (it is: the loop only drives the browser).
"""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import io
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import require_tool

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
def open_page(browser):
    """A page in a fresh browser context (options as for new_context); every
    context is closed when the test ends, pass or fail."""
    contexts = []

    def open_page(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def newsroom(db):
    """The demo articles (with generated lead images), plus a scheduled post
    and a draft that must appear nowhere."""
    from blog.models import Page, Post

    call_command("load_demo", stdout=io.StringIO())
    posts = {post.slug: post for post in Post.objects.all()}
    election = posts[ELECTION_SLUG]
    # Built by hand rather than with tests.factories.make_post, which would
    # also create a spare section (and so a spare navigation link).
    hidden = {
        "scheduled": Post(
            title="Embargoed: the summit communique",
            slug="embargoed-summit-communique",
            status=Post.Status.PUBLISHED,
            published_at=timezone.now() + timedelta(days=2),
        ),
        "draft": Post(
            title="Unfinished draft about sanctions",
            slug="unfinished-draft-sanctions",
            status=Post.Status.DRAFT,
            published_at=timezone.now() - timedelta(hours=1),
        ),
    }
    for post in hidden.values():
        post.section = election.section
        post.author = election.author
        post.summary = "Not for readers yet: sanctions, Iran and Russia."
        post.body = "Sanctions.\n\n## First\n\nIran.\n\n## Second\n\nRussia."
        post.save()
        post.tags.set(election.tags.all())
    scheduled, draft = hidden["scheduled"], hidden["draft"]
    Page.objects.create(
        title="About us",
        slug="about",
        body="Who we are.\n\n## Corrections\n\nWe correct errors openly.",
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
