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


def test_load_demo_images_have_sizes_and_listing_opens_no_file(client, settings):
    """Demo images are saved with names and sizes, so with every file gone
    (a node without the media) pages and feeds still answer 200 with pictures."""
    import shutil

    run("load_demo")
    posts = list(Post.objects.all())
    assert all((p.lead_image_width, p.lead_image_height) == (1600, 900) for p in posts)
    shutil.rmtree(settings.MEDIA_ROOT)
    post = posts[0]
    for path in ["/", "/feed/", "/feed/atom/", post.get_absolute_url(),
                 post.section.get_absolute_url(), "/search/?q=the"]:  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert post.lead_image_default["url"] in client.get("/").content.decode()


def test_rerender_derives_bodies_and_image_sizes_again(settings):
    """rerender restores stale body HTML, reads missing image sizes and
    queues missing renditions, without counting as an edit."""
    from django.core.files.base import ContentFile

    from tests.factories import make_post, make_update
    from tests.test_images import png_bytes

    post = make_post()
    update = make_update(post, body="*New* detail.")
    post.lead_image_alt = "P"
    post.lead_image.save("p.png", ContentFile(png_bytes(900, 600), name="p.png"))
    Post.objects.filter(pk=post.pk).update(
        body_html="stale", lead_image_width=None, lead_image_renditions=[]
    )
    update.__class__.objects.filter(pk=update.pk).update(
        body_html="stale", feed_html="stale", feed_path=""
    )
    before = Post.objects.get(pk=post.pk).updated_at
    output = run("rerender")
    assert "Rendered 1 posts and 1 story updates; read 1 image sizes" in output
    post.refresh_from_db()
    update.refresh_from_db()
    assert "<h2" in post.body_html and "<em>New</em>" in update.body_html
    assert "<em>New</em>" in update.feed_html
    assert update.feed_path == post.get_absolute_url()
    assert (post.lead_image_width, post.lead_image_height) == (900, 600)
    assert [r["width"] for r in post.lead_image_renditions] == [480, 900]
    assert post.updated_at == before


def test_import_markdown_can_hand_files_to_the_queue(tmp_path):
    """--queue enqueues each file; the job imports it (here the queue runs
    jobs at once)."""
    article = tmp_path / "big.md"
    article.write_text("---\ntitle: Queued\nsection: World\n---\n" + "Word. " * 5000)
    assert "big.md: queued" in run("import_markdown", "--queue", str(article))
    assert Post.objects.get(slug="queued").word_count == 5000


def test_rerender_keeps_search_finding_posts(client):
    """After rerender, search still finds a post by a word of its body."""
    from tests.factories import make_post

    make_post("Harbour news", body="The harbour reopened after the storm.")
    run("rerender")
    assert "Harbour news" in client.get("/search/?q=reopened").content.decode()
