"""blog/media_admin.py: the media library in the admin, by role, and the
picker the post form uses (issue 7)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import html as lxml_html

from blog import roles
from blog.media import MediaImage
from blog.models import Post, Section
from tests.factories import make_member
from tests.test_admin import form_data
from tests.test_media import add_image, image_bytes

pytestmark = pytest.mark.django_db

ADD = "/admin/blog/mediaimage/add/"
LIST = "/admin/blog/mediaimage/"
PICKER = "/admin/blog/mediaimage/picker/"


def change_url(image):
    return f"/admin/blog/mediaimage/{image.pk}/change/"


def upload(name="harbour.png", content=None):
    content = content if content is not None else image_bytes().getvalue()
    return SimpleUploadedFile(name, content, content_type="image/png")


def test_upload_through_the_admin(editor_client):
    """An upload with alt text is stored under a generated name, credited to
    the uploader, and its renditions are made."""
    response = editor_client.post(
        ADD,
        {
            "file": upload(),
            "alt": "Boats at dawn",
            "caption": "Harbour",
            "credit": "AP",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    image = MediaImage.objects.get()
    assert image.uploaded_by == editor_client.user
    assert image.original_name == "harbour.png"
    assert image.file.name.startswith("media/") and "harbour" not in image.file.name
    assert len(image.renditions) == 3


@pytest.mark.parametrize(
    "fields, field_with_error",
    [
        ({"alt": ""}, "alt"),
        ({"alt": "   "}, "alt"),
        (
            {"file": upload("evil.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")},
            "file",
        ),
        ({"file": upload("fake.png", b"\x89PNG\r\n\x1a\n not really")}, "file"),
        ({"file": ""}, "file"),
    ],
)
def test_bad_uploads_are_form_errors(editor_client, fields, field_with_error):
    """No alt text, an SVG, a fake PNG or no file: a form error, nothing stored."""
    data = {"file": upload(), "alt": "Boats", "caption": "", "credit": "", **fields}
    response = editor_client.post(ADD, data)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    assert doc.cssselect(f".field-{field_with_error} .errorlist"), field_with_error
    assert not MediaImage.objects.exists()


def test_upload_too_large_is_a_form_error(editor_client, settings):
    """A file over the byte limit is refused with its size in the message."""
    settings.DATELINE = {**settings.DATELINE, "UPLOAD_MAX_BYTES": 2000}
    response = editor_client.post(ADD, {"file": upload(), "alt": "Boats"})
    assert response.status_code == 200
    assert b"at most" in response.content
    assert not MediaImage.objects.exists()


def test_library_is_a_grid_with_search(editor_client, django_assert_max_num_queries):
    """The list shows thumbnails, alt text, caption, credit and size as a
    grid, searched by alt, caption, credit or file name, in a few queries."""
    harbour = add_image(alt="Harbour at dawn", caption="Boats", credit="Reuters")
    add_image(alt="Parliament", caption="Vote night", credit="AP")
    for _ in range(10):
        add_image(alt="Filler")
    with django_assert_max_num_queries(8):
        response = editor_client.get(LIST)
    doc = lxml_html.fromstring(response.content)
    cards = doc.cssselect(".dateline-media-grid .dateline-media-card")
    assert len(cards) == 12
    text = response.content.decode()
    assert (
        "Harbour at dawn" in text
        and "Reuters" in text
        and "1600 \N{MULTIPLICATION SIGN} 900" in text
    )
    assert len(doc.cssselect(".dateline-media-card img[src]")) == 12
    for query in ["harbour", "reuters", "boats"]:
        found = lxml_html.fromstring(editor_client.get(LIST, {"q": query}).content)
        alts = [a.text for a in found.cssselect(".dateline-media-alt a")]
        assert alts == [harbour.alt], query
    assert editor_client.get(LIST, {"q": "'\"<script>%_"}).status_code == 200


# -- Roles --------------------------------------------------------------------


def test_author_uploads_and_edits_their_own(author_client):
    """An Author uploads a picture and changes its words."""
    response = author_client.post(ADD, {"file": upload(), "alt": "Mine"})
    assert response.status_code == 302
    image = MediaImage.objects.get()
    response = author_client.post(
        change_url(image), {"alt": "Mine, better", "caption": "Now with a caption"}
    )
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.alt, image.caption) == ("Mine, better", "Now with a caption")


def test_author_cannot_change_or_delete_others_pictures(author_client):
    """An Author sees others' pictures (to use them) but a forged change or
    delete is refused and nothing changes."""
    other = add_image(alt="Not yours", uploaded_by=make_member(roles.AUTHORS))
    page = author_client.get(change_url(other))
    assert page.status_code == 200  # view only
    assert not lxml_html.fromstring(page.content).cssselect("input[name=alt]")
    response = author_client.post(change_url(other), {"alt": "Hijacked"})
    assert response.status_code == 403
    assert (
        author_client.post(
            f"/admin/blog/mediaimage/{other.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    other.refresh_from_db()
    assert other.alt == "Not yours"


def test_author_cannot_delete_even_their_own(author_client):
    """Deleting pictures is the Editors' (a picture may be in others' articles)."""
    author_client.post(ADD, {"file": upload(), "alt": "Mine"})
    image = MediaImage.objects.get()
    response = author_client.post(
        f"/admin/blog/mediaimage/{image.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert MediaImage.objects.filter(pk=image.pk).exists()


def test_editor_manages_every_picture(editor_client):
    """An Editor changes and deletes anyone's picture."""
    other = add_image(alt="By someone", uploaded_by=make_member(roles.AUTHORS))
    response = editor_client.post(change_url(other), {"alt": "Edited", "credit": "AFP"})
    assert response.status_code == 302
    other.refresh_from_db()
    assert (other.alt, other.credit) == ("Edited", "AFP")
    response = editor_client.post(
        f"/admin/blog/mediaimage/{other.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not MediaImage.objects.exists()


def test_staff_without_a_role_has_no_library(bare_staff_client):
    """Staff outside the roles neither see, upload nor pick library pictures."""
    client = bare_staff_client
    image = add_image()
    assert client.get(LIST).status_code == 403
    assert client.post(ADD, {"file": upload(), "alt": "x"}).status_code == 403
    assert client.get(change_url(image)).status_code == 403
    assert client.get(PICKER).status_code == 403
    assert MediaImage.objects.count() == 1


# -- The picker ----------------------------------------------------------------


def test_picker_lists_searches_and_pages(author_client, django_assert_max_num_queries):
    """The picker answers JSON: newest first, searched, 24 a page."""
    for i in range(30):
        add_image(alt=f"Picture {i}", credit="Reuters" if i == 7 else "")
    with django_assert_max_num_queries(6):
        first = author_client.get(PICKER).json()
    assert first["count"] == 30 and first["pages"] == 2 and first["has_next"]
    assert len(first["results"]) == 24
    item = first["results"][0]
    assert item["alt"] == "Picture 29"
    assert item["markdown"] == f"![Picture 29](media:{item['id']})"
    assert item["thumbnail"].startswith("/media/renditions/media/")
    second = author_client.get(PICKER, {"page": 2}).json()
    assert len(second["results"]) == 6 and not second["has_next"]
    found = author_client.get(PICKER, {"q": "reuters"}).json()
    assert [r["alt"] for r in found["results"]] == ["Picture 7"]
    for junk in ["abc", "-1", "999999", "1e9"]:
        assert author_client.get(PICKER, {"page": junk}).status_code == 200


def test_picker_is_for_logged_in_staff_only(client):
    """Anonymous visitors are sent to the login page, not given the library."""
    add_image()
    response = client.get(PICKER)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_post_form_wires_the_picker_without_inline_script(editor_client):
    """The post form loads js/media-picker.js as a file and tells it the
    picker's address on the body field; no inline script."""
    response = editor_client.get("/admin/blog/post/add/")
    doc = lxml_html.fromstring(response.content)
    assert doc.cssselect('script[src$="js/media-picker.js"]')
    body = doc.cssselect("textarea[name=body]")[0]
    assert body.get("data-media-picker") == PICKER
    assert not [s for s in doc.cssselect("script") if (s.text or "").strip()]


# -- Posts using the library through the admin ----------------------------------


def test_post_saved_in_the_admin_shows_the_figure(editor_client, client):
    """A body with ![](media:ID) saved through the admin shows the figure on
    the public article."""
    image = add_image(alt="Boats at dawn", caption="The harbour", credit="AP")
    data = form_data(body=f"Opening.\n\n![](media:{image.pk})\n\nMore.")
    data["author"] = editor_client.user.pk
    response = editor_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get()
    page = client.get(post.get_absolute_url())
    doc = lxml_html.fromstring(page.content)
    (figure,) = doc.cssselect(".article-body figure.media")
    img = figure.cssselect("img")[0]
    assert img.get("alt") == "Boats at dawn"
    assert img.get("srcset").count("w,") == 2
    assert figure.cssselect("figcaption")[0].text_content() == "The harbour AP"


def test_lead_image_chosen_from_the_library_in_the_admin(editor_client, client):
    """Choosing a library picture as the lead image in the post form puts it
    on the article page with its alt text and caption."""
    image = add_image(alt="Lead boats", caption="Lead caption", credit="AP")
    data = form_data(lead_media=image.pk)
    data["author"] = editor_client.user.pk
    response = editor_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get()
    assert post.lead_media == image
    doc = lxml_html.fromstring(client.get(post.get_absolute_url()).content)
    (lead,) = doc.cssselect("figure.lead-image img")
    assert lead.get("alt") == "Lead boats"
    assert (
        "Lead caption"
        in doc.cssselect("figure.lead-image figcaption")[0].text_content()
    )


def test_author_may_pick_any_library_picture_as_lead(author_client):
    """An Author may lead with a picture another writer uploaded (using is
    not changing)."""
    other = add_image(alt="Shared", uploaded_by=make_member(roles.AUTHORS))
    data = form_data(lead_media=other.pk, status="draft")
    response = author_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Post.objects.get().lead_media == other


def test_junk_lead_media_is_a_form_error(editor_client):
    """A forged or unknown library id is a form error, never a 500."""
    section = form_data()["section"]
    for junk in ["abc", "999999", "99999999999999999999999", "-1"]:
        data = form_data(lead_media=junk, section=Section.objects.get(pk=section))
        data["author"] = editor_client.user.pk
        response = editor_client.post("/admin/blog/post/add/", data)
        assert response.status_code == 200, junk
    assert not Post.objects.exists()


def test_admin_upload_is_named_by_its_content(editor_client):
    """A PNG uploaded through the admin as photo.jpeg is stored as .png."""
    response = editor_client.post(ADD, {"file": upload("photo.jpeg"), "alt": "PNG"})
    assert response.status_code == 302
    assert MediaImage.objects.get().file.name.endswith(".png")
