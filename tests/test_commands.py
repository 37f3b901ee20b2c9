"""blog/management/commands: import_markdown, load_demo, ensure_admin."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from blog.models import Post
from tests.conftest import SHARED_ARTICLE

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_markdown_imports_the_shared_article(shared_article, client):
    """import_markdown FILE creates the post; its page shows five linked sub-sections."""
    output = run("import_markdown", str(SHARED_ARTICLE))
    assert "created /2026/11/24/iran-russia-latest-news-updates/" in output
    response = client.get("/2026/11/24/iran-russia-latest-news-updates/")
    assert response.status_code == 200
    assert response.content.decode().count('href="#') >= 5
    assert "updated" in run("import_markdown", str(SHARED_ARTICLE))
    assert Post.objects.count() == 1


def test_import_markdown_reports_bad_files_and_fails(tmp_path):
    """Bad files are named with their problem; the command exits with an error."""
    bad = tmp_path / "bad.md"
    bad.write_text("---\nsection: World\n---\nBody.")
    good = tmp_path / "good.md"
    good.write_text("---\ntitle: Good\nsection: World\n---\nBody.")
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 2"):
        call_command(
            "import_markdown", str(bad), str(good), stdout=StringIO(), stderr=err
        )
    assert "needs a title" in err.getvalue()
    assert Post.objects.filter(slug="good").exists()


def test_import_markdown_unknown_author_is_an_error(tmp_path):
    """--author must name an existing user."""
    with pytest.raises(CommandError, match="No user called"):
        call_command("import_markdown", str(tmp_path / "x.md"), author="nobody")


def test_load_demo_loads_once(client):
    """load_demo loads the demo articles with images the first time, then nothing."""
    output = run("load_demo")
    count = Post.objects.count()
    assert count >= 5 and f"loaded {count} articles" in output
    assert all(p.lead_image_renditions and p.lead_image_alt for p in Post.objects.all())
    assert Post.objects.published().count() == count
    assert "nothing loaded" in run("load_demo")
    assert Post.objects.count() == count
    assert client.get("/").status_code == 200


def test_ensure_admin_creates_admin_once_and_prints_password():
    """ensure_admin creates `admin` with a random password shown once."""
    output = run("ensure_admin")
    password = output.split("password: ")[1].split()[0]
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(password)
    again = run("ensure_admin")
    assert password not in again and "make admin-password" in again
