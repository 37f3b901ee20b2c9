"""blog/exporting.py with blog/importing.py: `export_markdown DIR` then
`import_markdown DIR` into an empty database gives the same site back."""

import hashlib
import io
import re
from datetime import timedelta

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from blog import legacy
from blog.authors import Author, Byline
from blog.legacy import ImportedImage
from blog.media import MediaImage, MediaUse
from blog.models import (
    LegacyAddress,
    OldSlug,
    OldTagSlug,
    Page,
    Post,
    Section,
    StoryUpdate,
    Tag,
)
from tests.factories import make_author, make_post, make_section, make_tag, make_update

pytestmark = pytest.mark.django_db


def png_bytes(colour=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(buffer, "PNG")
    return buffer.getvalue()


def build_site():
    """A small site using every field the export must carry."""
    world = make_section("World", description="Abroad.")
    harbour = MediaImage.objects.add(
        io.BytesIO(png_bytes((10, 90, 200))),
        name="harbour.png",
        alt="The harbour",
        caption="Library caption",
        credit="Agency",
    )
    MediaImage.objects.add(
        io.BytesIO(png_bytes((1, 2, 3))), name="unused.png", alt="Unused"
    )
    make_section("Science")
    persia, energy = make_tag("Persia"), make_tag("Energy")
    ada = make_author(
        "Ada Lovelace", bio="Writes on engines.", links="https://a.example/"
    )
    bob = make_author("Bob Byline")
    now = timezone.now().replace(microsecond=0)
    story = make_post(
        "Tankers and insurance",
        slug="first-slug",
        section=world,
        tags=[persia, energy],
        authors=[bob, ada],
        summary="Why tankers pay more.",
        body=(
            "Opening.\n\n## Part one\n\nText with *emphasis*.\n\n"
            f'![Boats](media:{harbour.pk} "In May")\n\n## Part two\n\nMore.'
        ),
        published_at=now - timedelta(days=3),
    )
    story.lead_image.save("lead.png", ContentFile(png_bytes()), save=False)
    story.lead_image_alt = "A red square"
    story.lead_image_caption = "Red, as seen from the harbour."
    story.slug = "tankers-and-insurance"  # the old slug keeps answering
    story.save()
    make_update(story, body="Ministers met.", age=timedelta(hours=5))
    make_update(story, body="A **deal** was struck.", age=timedelta(hours=1))
    legacy.remember("/?p=41", story)
    legacy.remember("/2019/05/tankers/", story)
    persia.name, persia.slug = "Iran", "iran"  # the old tag slug keeps answering
    persia.save()
    make_post("A draft", section=world, status=Post.Status.DRAFT, authors=[ada])
    make_post(
        "Scheduled",
        section=world,
        age=timedelta(days=-2),
        tags=[energy],
        status=Post.Status.PUBLISHED,
    )
    make_post("In review", status=Post.Status.REVIEW, section=world)
    make_post("Led by the library", section=world, lead_media=harbour)
    about = Page.objects.create(
        title="About", slug="about", body="We *report*.", position=2
    )
    legacy.remember("/?page_id=7", about)
    Page.objects.create(title="Ethics", slug="ethics", body="Rules.", in_footer=False)
    # Times as an old archive has them: created and last saved long ago.
    Post.objects.filter(pk=story.pk).update(
        created_at=now - timedelta(days=30), updated_at=now - timedelta(days=2)
    )
    return story


def by_content(text: str) -> str:
    """`media:ID` as the picture's content hash, and library files' generated
    names as one placeholder: ids and names differ after an import."""
    hashes = {
        str(image.pk): hashlib.sha256(image.file.read()).hexdigest()[:12]
        for image in MediaImage.objects.all()
    }
    text = re.sub(r"media:(\d+)", lambda m: f"media:{hashes.get(m.group(1))}", text)
    return re.sub(r"/media/(?:renditions/)?media/[^\s\",]+", "FILE", text)


def library(image) -> tuple | None:
    if image is None:
        return None
    return (
        hashlib.sha256(image.file.read()).hexdigest(),
        image.alt,
        image.caption,
        image.credit,
        image.original_name,
    )


def snapshot(client) -> dict:
    """Every field the round trip must keep, by slug (primary keys may differ)."""
    posts = {}
    for post in Post.objects.order_by("slug"):
        posts[post.slug] = {
            "title": post.title,
            "section": (post.section.name, post.section.slug),
            "tags": sorted((t.name, t.slug) for t in post.tags.all()),
            "authors": [
                (b.author.display_name, b.author.slug, b.author.bio, b.author.links)
                for b in Byline.objects.filter(post=post).order_by("position")
            ],
            "summary": post.summary,
            "body": by_content(post.body),
            "body_html": by_content(post.body_html),
            "lead_media": library(post.lead_media),
            "status": post.status,
            "published_at": post.published_at,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
            "guid": post.guid(),
            "url": post.get_absolute_url(),
            "old_slugs": sorted(
                OldSlug.objects.filter(post=post).values_list("slug", flat=True)
            ),
            "old_addresses": sorted(
                LegacyAddress.objects.filter(post=post).values_list("path", flat=True)
            ),
            "image": post.lead_image.read() if post.lead_image else None,
            "image_alt": post.lead_image_alt,
            "image_caption": post.lead_image_caption,
            "updates": [
                (u.published_at, u.body, u.body_html, u.guid(), u.created_at)
                for u in StoryUpdate.objects.filter(post=post).order_by("published_at")
            ],
        }
    return {
        "posts": posts,
        "sections": sorted(
            Section.objects.values_list("name", "slug", "description", "position")
        ),
        "tags": sorted(Tag.objects.values_list("name", "slug", "description")),
        "old_tag_slugs": sorted(OldTagSlug.objects.values_list("slug", "tag__slug")),
        "authors": sorted(Author.objects.values_list("display_name", "slug", "bio", "links")),
        "media": sorted(library(image) for image in MediaImage.objects.all()),
        "pages": sorted(
            Page.objects.values_list(
                "title", "slug", "body", "body_html", "published", "in_footer",
                "position", "created_at", "updated_at",
            )
        ),
        "page_addresses": sorted(
            LegacyAddress.objects.filter(page__isnull=False).values_list("path", "page__slug")
        ),
    }  # fmt: skip


def empty_the_database():
    for model in (
        ImportedImage,
        MediaUse,
        LegacyAddress,
        StoryUpdate,
        Byline,
        OldSlug,
        Post,
        OldTagSlug,
        Tag,
        Author,
        Section,
        Page,
        MediaImage,
    ):
        model.objects.all().delete()
    get_user_model().objects.all().delete()


def test_export_then_import_gives_the_same_site_back(tmp_path, client):
    """Every post's title, slug, section, tags, bylines in order, summary,
    body, status, times, story updates, lead image, feed GUIDs, old slugs and
    old addresses, and every page, section, tag and author come back the same
    from an export imported into an empty database; old slugs, old tag slugs
    and old addresses still answer 301."""
    build_site()
    before = snapshot(client)
    old_guid = before["posts"]["tankers-and-insurance"]["guid"]
    out = tmp_path / "export"
    call_command("export_markdown", str(out), stdout=io.StringIO())
    assert (out / "site.yaml").is_file()
    assert (out / "posts" / "tankers-and-insurance.md").is_file()
    assert (out / "pages" / "about.md").is_file()
    assert list((out / "images").rglob("*.png"))

    empty_the_database()
    assert not Post.objects.exists()
    call_command("import_markdown", str(out), stdout=io.StringIO())
    after = snapshot(client)

    assert after["posts"].keys() == before["posts"].keys()
    for slug, fields in before["posts"].items():
        for name, value in fields.items():
            assert after["posts"][slug][name] == value, (slug, name)
    for name in (
        "sections",
        "tags",
        "old_tag_slugs",
        "authors",
        "pages",
        "page_addresses",
    ):
        assert after[name] == before[name], name

    # The old addresses answer 301 after the import.
    url = before["posts"]["tankers-and-insurance"]["url"]
    response = client.get(url.replace("tankers-and-insurance", "first-slug"))
    assert response.status_code == 301 and response["Location"] == url
    response = client.get("/?p=41")
    assert response.status_code == 301 and response["Location"] == url
    response = client.get("/2019/05/tankers/")
    assert response.status_code == 301 and response["Location"] == url
    response = client.get("/?page_id=7")
    assert response.status_code == 301 and response["Location"] == "/page/about/"
    response = client.get("/tag/persia/")
    assert response.status_code == 301 and response["Location"] == "/tag/iran/"
    # Feed readers see the same item ids.
    feed = client.get("/feed/atom/").content.decode()
    assert old_guid in feed


def test_front_matter_carries_every_field(tmp_path):
    """A post's file names its fields in front matter a person can read."""
    build_site()
    call_command("export_markdown", str(tmp_path / "x"), stdout=io.StringIO())
    text = (tmp_path / "x" / "posts" / "tankers-and-insurance.md").read_text()
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["authors"] == [
        {"name": "Bob Byline", "slug": meta["authors"][0]["slug"]},
        {"name": "Ada Lovelace", "slug": meta["authors"][1]["slug"]},
    ]
    assert meta["tags"] == ["Energy", "Iran"]
    assert meta["old_slugs"] == ["first-slug"]
    assert meta["old_addresses"] == ["/2019/05/tankers/", "/?p=41"]
    assert [u["body"] for u in meta["updates"]] == [
        "Ministers met.",
        "A **deal** was struck.",
    ]
    assert (
        meta["image"].startswith("../images/") and meta["image_alt"] == "A red square"
    )
    for key in (
        "title",
        "slug",
        "section",
        "summary",
        "status",
        "published",
        "created",
        "updated",
        "guid",
    ):
        assert meta[key], key
    assert "## Part one" in text.split("---\n", 2)[2]


def test_importing_an_export_twice_changes_nothing(tmp_path, client):
    """Re-importing the same export updates in place: no duplicate posts,
    updates, bylines or addresses."""
    build_site()
    out = tmp_path / "export"
    call_command("export_markdown", str(out), stdout=io.StringIO())
    before = snapshot(client)
    call_command("import_markdown", str(out), stdout=io.StringIO())
    again = snapshot(client)
    assert again == before


def test_export_refuses_a_folder_that_is_not_empty(tmp_path):
    """An export never mixes with other files."""
    (tmp_path / "old.md").write_text("x")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("export_markdown", str(tmp_path), stdout=io.StringIO())


def test_a_plain_file_may_name_its_authors(tmp_path):
    """Front matter written by hand may list authors by name; they are
    created without login accounts, credited in order."""
    path = tmp_path / "a.md"
    path.write_text(
        "---\ntitle: Two writers\nsection: World\nauthors: [Zoe Zed, Al Able]\n---\nBody.\n"
    )
    call_command("import_markdown", str(path), stdout=io.StringIO())
    post = Post.objects.get(slug="two-writers")
    assert [c.name for c in post.byline] == ["Zoe Zed", "Al Able"]
    assert not Author.objects.filter(
        user__isnull=False, display_name="Zoe Zed"
    ).exists()


def test_legacy_address_for_a_draft_is_not_followed(client):
    """An old address never leads to a post that is not public."""
    draft = make_post(status=Post.Status.DRAFT)
    legacy.remember("/?p=9", draft)
    assert client.get("/?p=9").status_code == 200  # the home page, no redirect
    assert client.get("/old/path/").status_code == 404


def test_corrections_and_retractions_make_the_round_trip(tmp_path, client):
    """With blog/corrections.py (branch corrections) merged: each correction's
    time, text and rendering, and a retraction with its time and reason,
    come back from an export."""
    corrections = pytest.importorskip("blog.corrections")
    post = make_post("Corrected story")
    noted = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    corrections.Correction.objects.create(
        post=post, noted_at=noted, text="It was *Tuesday*."
    )
    retracted = make_post("Withdrawn story")
    Post.objects.filter(pk=retracted.pk).update(
        status="retracted", retracted_at=noted, retraction_reason="Sources recanted."
    )

    def state():
        return (
            sorted(
                corrections.Correction.objects.values_list(
                    "post__slug", "noted_at", "text", "text_html", "created_at"
                )
            ),
            sorted(
                Post.objects.values_list(
                    "slug", "status", "retracted_at", "retraction_reason", "updated_at"
                )
            ),
        )

    before = state()
    call_command("export_markdown", str(tmp_path / "x"), stdout=io.StringIO())
    corrections.Correction.objects.all().delete()
    empty_the_database()
    call_command("import_markdown", str(tmp_path / "x"), stdout=io.StringIO())
    assert state() == before


def test_an_export_folder_is_not_queued(tmp_path):
    """--queue takes files; a folder (with its images) is imported directly."""
    from django.core.management.base import CommandError

    (tmp_path / "a.md").write_text("---\ntitle: A\nsection: World\n---\nBody.\n")
    with pytest.raises(CommandError, match="without --queue"):
        call_command("import_markdown", str(tmp_path), "--queue", stdout=io.StringIO())
