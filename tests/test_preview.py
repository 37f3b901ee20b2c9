"""blog/preview.py: the live preview endpoint beside the post form's body
(issue 7), driven through the test client: staff who may write posts only,
POST with CSRF, the site's own pipeline under its budget, JSON out."""

import pytest
from django.test import Client

from blog import roles
from blog.markup import MAX_BODY_CHARS
from blog.preview import render_preview
from tests.factories import make_member, make_user
from tests.test_hostile_input import vectors
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db

URL = "/admin/blog/post/preview/"
ARTICLE = "Opening words here.\n\n## What happened\n\nText.\n\n### Detail\n\nMore."


def preview(client, body, **extra):
    return client.post(URL, {"body": body}, **extra)


def test_json_shape(staff_client):
    """The answer has the sanitised HTML, the outline, words and reading time."""
    response = preview(staff_client, ARTICLE)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert set(data) == {
        "html",
        "toc",
        "word_count",
        "reading_minutes",
        "reading_time",
        "error",
    }
    assert '<h2 id="what-happened">' in data["html"]
    assert data["toc"] == [
        {"level": 2, "id": "what-happened", "title": "What happened"},
        {"level": 3, "id": "detail", "title": "Detail"},
    ]
    assert data["word_count"] == 8
    assert data["reading_minutes"] == 1
    assert data["reading_time"] == "8 words, about 1 min"
    assert data["error"] == ""


def test_same_pipeline_as_a_saved_post(staff_client):
    """The preview is the HTML a saved post stores (blog/markup.py)."""
    from tests.factories import make_post

    post = make_post(body=ARTICLE)
    assert preview(staff_client, ARTICLE).json()["html"] == post.body_html


def test_library_figures_preview_as_they_will_be_saved(staff_client):
    """A `media:ID` reference previews as the figure the saved post will
    show, with the library's alt, caption and credit (blog/media.py)."""
    from tests.factories import make_post
    from tests.test_media import add_image

    image = add_image(alt="Library alt", caption="Library caption", credit="Ada")
    body = f"Before.\n\n![](media:{image.pk})\n\nAfter."
    html = preview(staff_client, body).json()["html"]
    assert '<figure class="media">' in html and 'alt="Library alt"' in html
    assert html == make_post(body=body).body_html


def test_crlf_is_normalised(staff_client):
    """Browsers send CRLF; the preview counts and renders as the save does."""
    assert (
        preview(staff_client, ARTICLE.replace("\n", "\r\n")).json()["html"]
        == (preview(staff_client, ARTICLE).json()["html"])
    )


def test_anonymous_is_sent_to_login(client):
    """No session: the admin's login redirect, nothing rendered."""
    response = preview(client, ARTICLE)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_non_staff_is_refused(client):
    """A logged-in reader (not staff) is sent to the login page too."""
    client.force_login(make_user())
    response = preview(client, ARTICLE)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_post_permissions_is_refused(client):
    """Staff in no role (no add or change permission on posts): 403."""
    client.force_login(make_member(None))
    assert preview(client, ARTICLE).status_code == 403


@pytest.mark.parametrize("role", [roles.AUTHORS, roles.EDITORS])
def test_authors_and_editors_may_preview(client, role):
    """Both roles write posts, so both see the preview."""
    client.force_login(make_member(role))
    assert preview(client, ARTICLE).json()["word_count"] == 8


def test_get_is_refused(staff_client):
    """Only POST renders (the body is not put in URLs or logs)."""
    assert staff_client.get(URL, {"body": ARTICLE}).status_code == 405


def test_missing_csrf_token_is_refused():
    """Under CSRF enforcement a POST without the token is a 403; with the
    token (as the form's script sends it, in X-CSRFToken) it renders."""
    from tests.factories import make_staff

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_staff())
    assert preview(client, ARTICLE).status_code == 403
    form = client.get("/admin/blog/post/add/")
    token = form.context["csrf_token"]
    response = preview(client, ARTICLE, headers={"X-CSRFToken": str(token)})
    assert response.status_code == 200
    assert response.json()["word_count"] == 8


def test_hostile_markdown_is_neutralised(staff_client):
    """Every classic vector and a sample of the shared XSS corpus, previewed
    together through the endpoint and one by one, is inert."""
    payloads = vectors()
    together = preview(staff_client, "\n\n".join(payloads)).json()
    assert together["error"] == ""
    assert script_vectors(together["html"]) == []
    for payload in payloads:
        assert script_vectors(render_preview(payload)["html"]) == [], payload


def test_oversize_text_is_a_clear_message(staff_client):
    """Text over the body limit answers the pipeline's refusal, not a 500."""
    response = preview(staff_client, "x" * (MAX_BODY_CHARS + 1))
    assert response.status_code == 200
    data = response.json()
    assert "the limit is 200,000" in data["error"]
    assert data["html"] == ""


def test_over_nested_text_is_a_clear_message(staff_client):
    """Quotes nested past the limit: refused with the reason."""
    data = preview(staff_client, "> " * 1000 + "deep").json()
    assert "nested more than" in data["error"]
    assert data["html"] == ""


def test_slow_text_is_a_clear_message(staff_client):
    """Text that would render for minutes is refused at the budget."""
    data = preview(staff_client, "[" * 50000).json()
    assert "takes more than" in data["error"]


def test_request_over_the_upload_limit_is_a_message(staff_client, settings):
    """A POST past DATA_UPLOAD_MAX_MEMORY_SIZE: a message in JSON, no 400 page."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = preview(staff_client, "x" * 5000)
    assert response.status_code == 200
    assert "too large" in response.json()["error"]


def test_empty_body(staff_client):
    """Nothing typed yet: empty HTML, no words, no error."""
    data = preview(staff_client, "").json()
    assert data["html"] == "" and data["word_count"] == 0 and data["error"] == ""


def test_post_form_wires_the_preview_script(staff_client):
    """The form loads js/live-preview.js (a static file, no inline script) and
    the body names the endpoint and the pane's texts."""
    from lxml import html as lxml_html

    doc = lxml_html.fromstring(staff_client.get("/admin/blog/post/add/").content)
    scripts = [s.get("src") or "" for s in doc.cssselect("script")]
    assert any(src.endswith("js/live-preview.js") for src in scripts)
    assert not [s for s in doc.cssselect("script") if not s.get("src") and s.text]
    body = doc.cssselect("textarea[name=body]")[0]
    assert body.get("data-preview-url") == URL
    assert body.get("data-preview-title")
