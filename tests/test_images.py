"""blog/images.py: bounded uploads, and renditions by name for srcset and feeds."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from PIL import Image

from blog.images import check_upload, make_renditions, with_urls
from blog.models import Post
from tests.factories import make_post, write_png

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]
PEAK_MB = 300


def png_bytes(width, height, colour=(40, 90, 160)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def with_image(post, content, name="big.png"):
    post.lead_image.save(name, ContentFile(content), save=False)
    post.lead_image_alt = "Blue"
    post.save()
    post.refresh_from_db()
    return post


def test_renditions_are_made_at_each_width_and_stored_by_name():
    """A 1600px image yields 480, 960 and 1440px JPEGs, stored by name with sizes."""
    post = with_image(make_post(), png_bytes(1600, 900))
    storage = post.lead_image.storage
    assert [r["width"] for r in post.lead_image_renditions] == [480, 960, 1440]
    for rendition in post.lead_image_renditions:
        assert "url" not in rendition
        with storage.open(rendition["name"]) as stored, Image.open(stored) as image:
            assert image.format == "JPEG"
            assert image.size == (rendition["width"], rendition["height"])
        assert rendition["bytes"] == storage.size(rendition["name"])
    assert post.lead_image_srcset.count("w,") == 2


def test_urls_are_computed_from_the_media_setting(settings):
    """Moving media to a CDN host changes every rendition URL with one setting."""
    post = with_image(make_post(), png_bytes(1000, 500))
    name = post.lead_image_renditions[-1]["name"]
    assert post.lead_image_default["url"] == f"/media/{name}"
    settings.MEDIA_URL = "https://cdn.example/m/"
    fresh = type(post).objects.get(pk=post.pk)
    assert fresh.lead_image_default["url"] == f"https://cdn.example/m/{name}"


def test_old_rows_with_urls_still_render():
    """Renditions stored with a /media/ URL (before names) still resolve."""
    sources = with_urls([{"url": "/media/renditions/a-480w-1.jpg", "width": 480}])
    assert sources[0]["name"] == "renditions/a-480w-1.jpg"
    assert sources[0]["url"] == "/media/renditions/a-480w-1.jpg"


def test_small_image_is_not_upscaled():
    """An image narrower than every width gets one rendition at its own size."""
    post = with_image(make_post(), png_bytes(300, 200), "small.png")
    assert [(r["width"], r["height"]) for r in post.lead_image_renditions] == [
        (300, 200)
    ]


def test_renditions_are_kept_until_the_image_changes():
    """Saving again without a new image keeps the renditions; a new image replaces them."""
    post = with_image(make_post(), png_bytes(1000, 500))
    first = post.lead_image_renditions
    post.title = "New title"
    post.save()
    post.refresh_from_db()
    assert post.lead_image_renditions == first
    post = with_image(post, png_bytes(1000, 500, (200, 10, 10)), "other.png")
    assert post.lead_image_renditions != first
    assert post.lead_image_renditions


def test_exif_rotation_is_applied_to_renditions(tmp_path):
    """A portrait photo stored sideways (EXIF orientation 6) comes out upright."""
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 1000), (10, 20, 30)).save(buffer, "JPEG", exif=exif)
    storage = FileSystemStorage(tmp_path)
    storage.save("lead/photo.jpg", ContentFile(buffer.getvalue()))
    largest = make_renditions("lead/photo.jpg", storage)[-1]
    assert (largest["width"], largest["height"]) == (1000, 1600)


def test_a_30_mb_jpeg_is_refused():
    """A file over the byte limit is refused before it is decoded."""
    upload = ContentFile(b"\xff\xd8\xff\xe0" + b"\0" * (30 * 2**20), name="big.jpg")
    with pytest.raises(ValidationError, match="at most 15"):
        check_upload(upload)


def test_svg_is_refused_whatever_its_name():
    """Content decides: an SVG named .png is not a picture we take."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ValidationError, match="JPEG, PNG, WebP or GIF"):
        check_upload(ContentFile(svg, name="innocent.png"))


def test_pixel_limit_is_read_from_the_header(tmp_path):
    """A 13,000 x 13,000 PNG (small on disk) is refused from its header."""
    path = write_png(tmp_path / "bomb.png", 13_000, 13_000)
    assert path.stat().st_size < 2 * 2**20
    with (
        path.open("rb") as file,
        pytest.raises(ValidationError, match="169 megapixels"),
    ):
        check_upload(file)


def test_admin_refuses_the_13000_square_png_without_decoding_it(staff_client, tmp_path):
    """Uploaded in the admin, the 13,000² PNG is a form error, and nothing is saved."""
    from tests.test_admin import form_data

    path = write_png(tmp_path / "bomb.png", 13_000, 13_000)
    with path.open("rb") as file:
        response = staff_client.post(
            "/admin/blog/post/add/",
            form_data(
                lead_image=file, lead_image_alt="Noise", author=staff_client.user.pk
            ),
        )
    assert response.status_code == 200
    assert "169 megapixels" in response.content.decode()
    assert not Post.objects.filter(slug="ceasefire-talks-resume").exists()


def run_measured(script: str, tmp_path) -> dict:
    """Run `script` in a fresh Python process with Django set up on a scratch
    SQLite database; it prints key=value lines, VmHWM (peak RSS) included."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "measure-only",
        "DATELINE_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'measure.sqlite3'}",
        "DATELINE_MEDIA_ROOT": str(tmp_path / "media"),
        "DATELINE_QUEUE": "immediate",
    }
    prelude = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "settings.STORAGES = {**settings.STORAGES, 'staticfiles': "
        "{'BACKEND': 'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
        "def peak_mb():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmHWM'):\n"
        "            return int(line.split()[1]) // 1024\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def test_upload_of_the_13000_square_png_stays_under_300_mb(tmp_path):
    """In a real process, the admin refusing the 13,000² PNG peaks under 300 MB
    (it took 2 GB when the picture was decoded)."""
    path = write_png(tmp_path / "bomb.png", 13_000, 13_000)
    script = f"""
from django.core.management import call_command
from django.test import Client
from tests.factories import make_staff
from tests.test_admin import form_data
call_command("migrate", verbosity=0)
client = Client(HTTP_HOST="127.0.0.1")
user = make_staff()
client.force_login(user)
print("before_mb=%d" % peak_mb())
with open({str(path)!r}, "rb") as file:
    response = client.post("/admin/blog/post/add/", form_data(lead_image=file, lead_image_alt="x", author=user.pk))
print("status=%d" % response.status_code)
print("refused=%s" % ("169 megapixels" in response.content.decode()))
print("after_mb=%d" % peak_mb())
"""
    figures = run_measured(script, tmp_path)
    print(figures)
    assert figures["status"] == "200" and figures["refused"] == "True"
    assert int(figures["after_mb"]) < PEAK_MB


def test_renditions_of_a_40_megapixel_png_stay_under_300_mb(tmp_path):
    """The largest picture accepted (40 MP PNG, which has no draft mode) is
    turned into renditions by a real process peaking under 300 MB."""
    media = tmp_path / "media" / "lead"
    media.mkdir(parents=True)
    write_png(media / "huge.png", 6400, 6250)
    script = """
from blog.images import make_renditions
print("before_mb=%d" % peak_mb())
renditions = make_renditions("lead/huge.png")
print("widths=%s" % ",".join(str(r["width"]) for r in renditions))
print("after_mb=%d" % peak_mb())
"""
    figures = run_measured(script, tmp_path)
    print(figures)
    assert figures["widths"] == "480,960,1440"
    assert int(figures["after_mb"]) < PEAK_MB


def test_admin_refuses_a_30_mb_jpeg_saying_its_size(staff_client, tmp_path):
    """A 30 MB upload is a form error naming its size; only the first 15 MB
    of it were ever written to disk (BoundedUploadHandler)."""
    from tests.test_admin import form_data

    path = tmp_path / "huge.jpg"
    with path.open("wb") as file:
        file.write(b"\xff\xd8\xff\xe0" + b"\0" * (30 * 2**20))
    with path.open("rb") as file:
        response = staff_client.post(
            "/admin/blog/post/add/",
            form_data(
                lead_image=file, lead_image_alt="Big", author=staff_client.user.pk
            ),
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This file is 30.0\xa0MB; pictures can be at most 15.0\xa0MB." in page
    assert not Post.objects.filter(slug="ceasefire-talks-resume").exists()


def test_the_form_states_the_limits(staff_client):
    """The add form says which pictures it takes before anything is uploaded."""
    page = staff_client.get("/admin/blog/post/add/").content.decode()
    assert "JPEG, PNG, WebP or GIF, at most 15.0\xa0MB and 40 megapixels." in page


# The worker closes stale connections between jobs, as it must outside tests:
# this test commits for real instead of running inside a transaction.
@pytest.mark.django_db(transaction=True)
def test_until_the_worker_has_run_the_page_shows_no_picture(settings, client):
    """With the database queue and no worker yet, the article answers 200
    without a picture; after the worker runs, the renditions are there."""
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    post = with_image(make_post(), png_bytes(1000, 500))
    assert post.lead_image_renditions == []
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    assert "/media/renditions/" not in response.content.decode()
    call_command("worker", batch=True, reload=False, startup_delay=False, verbosity=0)
    post.refresh_from_db()
    assert [r["width"] for r in post.lead_image_renditions] == [480, 960, 1000]
    assert "/media/renditions/" in client.get(post.get_absolute_url()).content.decode()
