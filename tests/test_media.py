"""blog/media.py: the media library, figures rendered at save, re-rendering
when a picture changes, lead images from the library."""

import io

import feedparser
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from PIL import Image

from blog.markup import render_markdown
from blog.media import MediaImage, MediaUse, figures_for, media_ids_in
from blog.models import Post
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def image_bytes(width=1600, height=900, fmt="PNG", colour=(40, 90, 160)):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, fmt)
    buffer.seek(0)
    return buffer


def add_image(alt="A blue square", **fields):
    """A library image, its renditions made (jobs run at once in tests)."""
    image = MediaImage.objects.add(
        image_bytes(**fields.pop("size", {})), name="photo.png", alt=alt, **fields
    )
    image.refresh_from_db()
    return image


# -- The library -------------------------------------------------------------


def test_add_stores_under_a_generated_name_with_renditions():
    """An upload is stored under a generated name (not the uploader's), its
    size read, and the queue makes its renditions at 480, 960 and 1440 px."""
    user = make_user()
    image = MediaImage.objects.add(
        image_bytes(),
        name="../../etc/My Holiday.png",
        alt="A blue square",
        caption="Blue",
        credit="Ada",
        uploaded_by=user,
    )
    image.refresh_from_db()
    assert image.file.name.startswith("media/")
    assert "Holiday" not in image.file.name and ".." not in image.file.name
    assert image.original_name == "My Holiday.png"
    assert (image.width, image.height) == (1600, 900)
    assert [r["width"] for r in image.renditions] == [480, 960, 1440]
    assert image.uploaded_by == user
    storage = image.file.storage
    assert all(storage.exists(r["name"]) for r in image.renditions)


@pytest.mark.parametrize(
    "content, code",
    [
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image_format",
        ),
        (b"GIF89a not really", "image_format"),
        (b"", "image_format"),
    ],
)
def test_add_refuses_what_is_not_a_picture_by_content(content, code):
    """An SVG or a fake named .png is refused by content, and nothing is stored."""
    with pytest.raises(ValidationError) as refused:
        MediaImage.objects.add(io.BytesIO(content), name="photo.png", alt="x")
    assert refused.value.error_list[0].code == code
    assert not MediaImage.objects.exists()


def test_add_refuses_too_many_pixels_and_bytes(settings):
    """The pixel and byte bounds of lead images apply to the library."""
    settings.DATELINE = {**settings.DATELINE, "UPLOAD_MAX_PIXELS": 1000 * 1000}
    with pytest.raises(ValidationError):
        add_image(size={"width": 1001, "height": 1000})
    settings.DATELINE = {
        **settings.DATELINE,
        "UPLOAD_MAX_PIXELS": 40_000_000,
        "UPLOAD_MAX_BYTES": 1000,
    }
    with pytest.raises(ValidationError):
        add_image()
    assert not MediaImage.objects.exists()


def test_alt_text_is_required_by_add_and_by_the_database():
    """No alt text, no picture: add() refuses, and so does a DB constraint."""
    with pytest.raises(ValidationError):
        add_image(alt="   ")
    image = add_image()
    with pytest.raises(IntegrityError), transaction.atomic():
        MediaImage.objects.filter(pk=image.pk).update(alt="")


def test_search_by_alt_caption_credit_and_file_name():
    """The library's search looks at alt text, caption, credit and file name."""
    a = add_image(alt="Harbour at dawn", caption="Boats", credit="Reuters")
    b = add_image(alt="Parliament", caption="Vote night", credit="AP")
    search = MediaImage.objects.search
    assert list(search("harbour")) == [a]
    assert list(search("vote")) == [b]
    assert list(search("reuters")) == [a]
    assert set(search("photo.png")) == {a, b}
    assert set(search("")) == {a, b}


# -- Figures in the body -----------------------------------------------------


def test_references_are_found_once_each_in_order():
    """`media:ID` references are collected in order, without repeats."""
    body = '![a](media:3)\n\ntext media:1 and ![](media:3 "t")\n\n[r]: media:7'
    assert media_ids_in(body) == [3, 1, 7]


def test_a_reference_alone_renders_a_responsive_figure():
    """An image alone in its paragraph is a <figure> with srcset, sizes,
    width/height, lazy loading, async decoding, alt, caption and credit."""
    image = add_image(alt="Library alt", caption="Library caption", credit="Ada")
    post = make_post(body=f"Before.\n\n![](media:{image.pk})\n\nAfter.")
    html = post.body_html
    assert '<figure class="media">' in html
    assert "srcset=" in html and " 480w, " in html and " 1440w" in html
    assert 'sizes="' in html
    assert 'width="1440"' in html and 'height="810"' in html
    assert 'loading="lazy"' in html and 'decoding="async"' in html
    assert 'alt="Library alt"' in html
    assert (
        '<figcaption>Library caption <span class="credit">Ada</span></figcaption>'
        in html
    )
    assert "<p><figure" not in html
    assert post.media_ids == [image.pk]
    assert list(MediaUse.objects.values_list("post", "image")) == [(post.pk, image.pk)]


def test_alt_and_title_in_the_body_override_the_library():
    """The body's alt text and title replace the library's alt and caption."""
    image = add_image(alt="Library alt", caption="Library caption")
    post = make_post(body=f'![Own alt](media:{image.pk} "Own caption")')
    assert 'alt="Own alt"' in post.body_html
    assert "<figcaption>Own caption</figcaption>" in post.body_html
    assert "Library caption" not in post.body_html


def test_unknown_or_missing_ids_render_nothing_and_never_fail(client):
    """An unknown ID, a huge one and a malformed one render no image, and the
    article answers 200."""
    post = make_post(
        body="One ![x](media:999999) two.\n\n![y](media:99999999999999999999)\n\n![z](media:abc)"
    )
    assert "<img" not in post.body_html
    assert "One  two." in post.body_html or "One two." in post.body_html
    assert client.get(post.get_absolute_url()).status_code == 200


def test_an_image_inside_text_is_an_inline_img_not_a_figure():
    """A picture in running text stays inline (no <figure> inside a <p>)."""
    image = add_image()
    post = make_post(body=f"See ![icon](media:{image.pk}) here.")
    assert "<figure" not in post.body_html
    assert "srcset=" in post.body_html


def test_render_markdown_stays_pure_with_a_plain_mapping():
    """render_markdown takes the figures as a plain mapping (no database)."""
    figures = {
        "5": {
            "alt": "Alt",
            "caption": "Cap",
            "credit": "",
            "sources": [
                {"url": "/media/a-480w.jpg", "width": 480, "height": 270},
                {"url": "/media/a-960w.jpg", "width": 960, "height": 540},
            ],
        }
    }
    html = render_markdown("![](media:5)", figures=figures).html
    assert 'src="/media/a-960w.jpg"' in html
    assert 'srcset="/media/a-480w.jpg 480w, /media/a-960w.jpg 960w"' in html
    assert render_markdown("![](media:5)").html.count("<img") == 0


def test_figures_for_reads_every_image_in_one_query(django_assert_num_queries):
    """The figures of a post are read in one query, however many."""
    ids = [add_image().pk for _ in range(3)]
    with django_assert_num_queries(1):
        figures = figures_for([*ids, 12345])
    assert set(figures) == {str(i) for i in ids}


# -- Keeping posts current -----------------------------------------------------


def test_posts_follow_when_renditions_are_made(settings):
    """A post saved before the picture's renditions exist shows the figure
    once the queue has made them."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    image = add_image()
    post = make_post(body=f"![](media:{image.pk})")
    assert "<img" not in post.body_html
    from blog import tasks

    assert tasks.make_media_renditions.call(image.pk, image.file.name) == "made"
    post.refresh_from_db()
    assert "srcset=" in post.body_html
    assert "srcset=" in post.feed_html


def test_posts_follow_when_caption_or_credit_change():
    """Changing a picture's caption or credit re-renders the posts showing it,
    without marking them updated."""
    image = add_image(caption="Old caption")
    post = make_post(body=f"![](media:{image.pk})")
    post.refresh_from_db()
    updated_at = post.updated_at
    image.caption = "New caption"
    image.credit = "New credit"
    image.save()
    post.refresh_from_db()
    assert "New caption" in post.body_html and "New credit" in post.body_html
    assert "Old caption" not in post.body_html
    assert post.updated_at == updated_at


def test_removing_the_reference_forgets_the_use():
    """A post that no longer shows a picture is not re-rendered for it."""
    image = add_image()
    post = make_post(body=f"![](media:{image.pk})")
    post.body = "No picture."
    post.save()
    assert not MediaUse.objects.exists()
    assert post.media_ids == []


# -- Feeds ---------------------------------------------------------------------


def test_feed_items_carry_absolute_image_urls(client):
    """In the feed, a figure's src and srcset are absolute URLs."""
    image = add_image(caption="Harbour")
    make_post(body=f"Intro.\n\n![](media:{image.pk})")
    response = client.get("/feed/")
    parsed = feedparser.parse(response.content)
    content = parsed.entries[0].content[0].value
    assert 'src="http://testserver/media/media/' in content
    assert "<figcaption>Harbour" in content
    # feedparser's own sanitiser drops srcset: read it from the XML itself.
    raw = response.content.decode()
    srcset = raw.split('srcset="')[1].split('"')[0]
    candidates = srcset.split(", ")
    assert len(candidates) == 3
    for candidate in candidates:
        assert candidate.startswith("http://testserver/media/media/")


# -- Lead images from the library ---------------------------------------------


def test_lead_image_from_the_library_is_copied_onto_the_post():
    """A library lead image's renditions, alt, caption and credit are copied
    onto the post, so pages and feeds read the post alone."""
    image = add_image(alt="Lead alt", caption="Lead caption", credit="Lead credit")
    post = make_post(lead_media=image)
    post.refresh_from_db()
    assert post.lead_image_renditions == image.renditions
    assert post.lead_image_alt == "Lead alt"
    assert post.lead_image_credit == "Lead credit"
    assert post.lead_image_default["width"] == 1440
    image.caption = "Changed"
    image.save()
    post.refresh_from_db()
    assert post.lead_image_caption == "Changed"


def test_lead_image_from_the_library_in_page_feed_and_metadata(client):
    """The article page, its Open Graph image and the feed use the library
    lead image, with its credit."""
    image = add_image(alt="Lead alt", caption="Lead caption", credit="Lead credit")
    post = make_post(lead_media=image)
    page = client.get(post.get_absolute_url()).content.decode()
    name = image.renditions[-1]["name"]
    assert f"/media/{name}" in page
    assert "Lead credit" in page
    assert 'property="og:image"' in page
    feed = feedparser.parse(client.get("/feed/").content)
    assert name in feed.entries[0].content[0].value


def test_unsetting_the_library_lead_image_clears_it():
    """Removing the library lead image removes its copied renditions."""
    image = add_image()
    post = make_post(lead_media=image)
    post.lead_media = None
    post.save()
    post.refresh_from_db()
    assert post.lead_image_renditions == []
    assert post.lead_image_default is None


def test_a_library_image_used_as_lead_cannot_be_deleted():
    """Deleting a picture a post leads with is refused (PROTECT)."""
    from django.db.models import ProtectedError

    image = add_image()
    make_post(lead_media=image)
    with pytest.raises(ProtectedError):
        image.delete()
    assert Post.objects.count() == 1
