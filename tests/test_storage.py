"""Media on S3-compatible object storage (config/settings.py, blog/images.py),
against a real S3 API server over HTTP: moto's standalone server, started
here on a free port and stopped by its PID."""

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from tests.factories import make_post

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "dateline-media"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret",
    "AWS_S3_REGION_NAME": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """moto's S3 server on 127.0.0.1 with an empty bucket; its endpoint URL."""
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("moto's S3 server did not start")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    # Readers fetch media anonymously, as from a public bucket or a CDN.
    client.put_bucket_policy(
        Bucket=BUCKET,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/*",
                    }
                ],
            }
        ),
    )
    yield endpoint, client
    process.terminate()
    process.wait(10)
    log.close()


@pytest.fixture
def s3_media(s3_server, settings, monkeypatch):
    """The media storage switched to the bucket, as DATELINE_MEDIA_STORAGE=s3
    does, with public URLs on the bucket's own address."""
    endpoint, client = s3_server
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "querystring_auth": False,
                "file_overwrite": False,
                "addressing_style": "path",
                "custom_domain": f"{endpoint.removeprefix('http://')}/{BUCKET}",
                "url_protocol": "http:",
            },
        },
    }
    settings.MEDIA_URL = f"{endpoint}/{BUCKET}/"
    settings.DATELINE = {**settings.DATELINE, "SERVE_MEDIA": False}
    yield endpoint, client
    keys = [
        {"Key": item["Key"]}
        for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    ]
    if keys:
        client.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})


def png(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 60, 90)).save(buffer, "PNG")
    return buffer.getvalue()


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["Content-Type"], response.read()


def test_settings_put_media_in_the_bucket(s3_server, tmp_path):
    """DATELINE_MEDIA_STORAGE=s3 with bucket, endpoint and public URL stores a
    file in the bucket and gives it a URL on the public host that serves it."""
    endpoint, client = s3_server
    env = {
        **os.environ,
        **CREDENTIALS,
        "DJANGO_SECRET_KEY": "storage-test",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATELINE_VAR_DIR": str(tmp_path),
        "DATELINE_MEDIA_STORAGE": "s3",
        "DATELINE_S3_BUCKET": BUCKET,
        "DATELINE_S3_ENDPOINT_URL": endpoint,
        "DATELINE_MEDIA_URL": f"{endpoint}/{BUCKET}/",
    }
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from django.core.files.base import ContentFile\n"
        "from django.core.files.storage import default_storage\n"
        "name = default_storage.save('check/hello.txt', ContentFile(b'hello'))\n"
        "print(default_storage.url(name))\n"
        "print(settings.DATELINE['SERVE_MEDIA'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    url, serve_media = done.stdout.split()
    assert url == f"{endpoint}/{BUCKET}/check/hello.txt"
    assert serve_media == "False"
    assert fetch(url)[2] == b"hello"
    client.delete_object(Bucket=BUCKET, Key="check/hello.txt")


@pytest.mark.django_db
def test_renditions_live_in_the_bucket_and_pages_point_there(s3_media, client):
    """An image saved on one node is in the bucket with its renditions, and
    pages on any node link the renditions at the bucket's public address."""
    endpoint, s3 = s3_media
    post = make_post()
    post.lead_image.save("harbour.png", ContentFile(png(1200, 800)), save=False)
    post.lead_image_alt = "Harbour"
    post.save()
    post.refresh_from_db()
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert post.lead_image.name in keys
    names = [r["name"] for r in post.lead_image_renditions]
    assert len(names) == 3 and set(names) <= keys
    page = client.get(post.get_absolute_url()).content.decode()
    url = f"{endpoint}/{BUCKET}/{names[-1]}"
    assert f'src="{url}"' in page
    status, content_type, body = fetch(url)
    assert status == 200 and content_type == "image/jpeg" and body[:2] == b"\xff\xd8"


@pytest.mark.django_db
def test_a_missing_file_is_a_missing_image_not_a_500(s3_media, client):
    """With every file gone from the bucket, pages and feeds still answer 200."""
    _, s3 = s3_media
    post = make_post()
    post.lead_image.save("gone.png", ContentFile(png(800, 600)), save=False)
    post.lead_image_alt = "Gone"
    post.save()
    keys = [{"Key": i["Key"]} for i in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": keys})
    for path in [
        "/",
        post.get_absolute_url(),
        "/feed/",
        "/feed/atom/",
        "/search/?q=post",
    ]:
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_library_image_and_its_renditions_in_the_bucket(s3_media, client):
    """A media library upload goes to the bucket under its generated name with
    its renditions; an article's figure and its feed item link them at the
    bucket's public address, which serves them."""
    from blog.media import MediaImage

    endpoint, s3 = s3_media
    image = MediaImage.objects.add(
        io.BytesIO(png(1600, 900)), name="harbour.png", alt="Harbour"
    )
    image.refresh_from_db()
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert image.file.name in keys and image.file.name.startswith("media/")
    names = [r["name"] for r in image.renditions]
    assert len(names) == 3 and set(names) <= keys
    post = make_post(body=f"Intro.\n\n![](media:{image.pk})")
    page = client.get(post.get_absolute_url()).content.decode()
    urls = [f"{endpoint}/{BUCKET}/{name}" for name in names]
    assert f"{urls[0]} 480w" in page and f"{urls[-1]} 1440w" in page
    feed = client.get("/feed/").content.decode()
    assert f"{urls[-1]} 1440w" in feed
    status, content_type, body = fetch(urls[-1])
    assert status == 200 and content_type == "image/jpeg" and body[:2] == b"\xff\xd8"
