"""blog/admin.py: the newsroom's write path, driven through the test client."""

import http.cookiejar
import re
import threading
import time
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from django.utils import timezone
from lxml import html as lxml_html

from blog.markup import MAX_BODY_CHARS, RENDER_SECONDS
from blog.models import Post, Tag
from tests.factories import make_post, make_section, make_tag
from tests.test_server import server as gunicorn_on_sqlite  # noqa: F401
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db


# The byline inline's management form, with no rows: the post credits its owner.
BYLINES_NONE = {
    "bylines-TOTAL_FORMS": "0",
    "bylines-INITIAL_FORMS": "0",
    "bylines-MIN_NUM_FORMS": "0",
    "bylines-MAX_NUM_FORMS": "1000",
}

# The corrections inline's management form (editors, live posts), with no rows.
CORRECTIONS_NONE = {
    "corrections-TOTAL_FORMS": "0",
    "corrections-INITIAL_FORMS": "0",
    "corrections-MIN_NUM_FORMS": "0",
    "corrections-MAX_NUM_FORMS": "1000",
}


def form_data(**overrides):
    section = overrides.pop("section", None) or make_section("World")
    now = timezone.localtime()
    data = {
        "title": "Ceasefire talks resume",
        "slug": "ceasefire-talks-resume",
        "section": section.pk,
        "tags": "Iran, Russia",
        "summary": "Delegations meet again in Vienna.",
        "body": "Opening.\n\n## What happened\n\nText.\n\n## What next\n\nMore.",
        "status": "published",
        "published_at_0": now.strftime("%Y-%m-%d"),
        "published_at_1": now.strftime("%H:%M:%S"),
        "lead_image_alt": "",
        "lead_image_caption": "",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
        "updates-MIN_NUM_FORMS": "0",
        "updates-MAX_NUM_FORMS": "1000",
        **BYLINES_NONE,
        **CORRECTIONS_NONE,
    }
    return {**data, **overrides}


def test_editor_adds_a_post_that_goes_live(staff_client, client):
    """An editor adds a post in the admin; it is live on the site at once."""
    data = form_data()
    data["author"] = staff_client.user.pk
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(slug="ceasefire-talks-resume")
    assert sorted(t.name for t in post.tags.all()) == ["Iran", "Russia"]
    assert post.toc[0]["id"] == "what-happened"
    assert client.get(post.get_absolute_url()).status_code == 200


def test_add_form_defaults_the_author_to_the_editor(staff_client):
    """The author field starts as the editor who is writing."""
    doc = lxml_html.fromstring(staff_client.get("/admin/blog/post/add/").content)
    selected = doc.cssselect("select[name=author] option[selected]")
    assert selected and selected[0].get("value") == str(staff_client.user.pk)


def test_invalid_edit_keeps_what_the_editor_typed(staff_client):
    """A form error (duplicate slug) shows the error and keeps every field typed."""
    make_post(slug="taken")
    data = form_data(slug="taken", body="A long body the editor must not lose.")
    data["author"] = staff_client.user.pk
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    assert "already exists" in doc.cssselect(".errorlist")[0].text_content()
    assert doc.cssselect("textarea[name=body]")[0].text_content().strip() == (
        "A long body the editor must not lose."
    )
    assert (
        doc.cssselect("input[name=title]")[0].get("value") == "Ceasefire talks resume"
    )
    assert Post.objects.filter(title="Ceasefire talks resume").count() == 0


def test_lead_image_without_alt_is_a_form_error(staff_client):
    """Uploading a lead image without alt text is refused with a clear message."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_images import png_bytes

    data = form_data(
        lead_image=SimpleUploadedFile("a.png", png_bytes(800, 400), "image/png")
    )
    data["author"] = staff_client.user.pk
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    assert "A lead image needs alt text." in response.content.decode()


def test_editor_changes_a_post_and_the_old_link_redirects(staff_client, client):
    """Changing the slug in the admin keeps the old address working (301)."""
    post = make_post(slug="first-name", section=make_section("World"))
    old_url = post.get_absolute_url()
    data = form_data(section=post.section, slug="second-name", title=post.title)
    data["author"] = post.author.pk
    response = staff_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 302
    redirect = client.get(old_url)
    assert redirect.status_code == 301 and redirect["Location"].endswith(
        "/second-name/"
    )


def test_changelist_shows_state_and_tags_without_n_plus_one(
    staff_client, django_assert_max_num_queries
):
    """The post list shows draft/scheduled/live and tags in a constant number of queries."""
    tag = make_tag("Iran")
    for _ in range(3):
        make_post(tags=[tag])
    make_post(status=Post.Status.DRAFT)
    make_post(age=-timedelta(days=1))
    with django_assert_max_num_queries(14) as captured:
        response = staff_client.get("/admin/blog/post/")
    few = len(captured)
    body = response.content.decode()
    assert "Draft" in body and "Scheduled" in body and "Live" in body
    for _ in range(10):
        make_post(tags=[tag, make_tag()])
    with django_assert_max_num_queries(few):
        staff_client.get("/admin/blog/post/")


@pytest.mark.parametrize(
    "state,expected", [("draft", 1), ("scheduled", 1), ("live", 2)]
)
def test_state_filter(staff_client, state, expected):
    """The state filter separates drafts, scheduled and live posts."""
    (
        make_post(),
        make_post(),
        make_post(status=Post.Status.DRAFT),
        make_post(age=-timedelta(days=1)),
    )
    response = staff_client.get(f"/admin/blog/post/?state={state}")
    assert response.context["cl"].result_count == expected


def test_bulk_publish_and_unpublish(staff_client):
    """Bulk actions publish drafts now and send live posts back to draft."""
    draft = make_post(status=Post.Status.DRAFT, age=timedelta(days=10))
    live = make_post()
    staff_client.post(
        "/admin/blog/post/", {"action": "publish_now", "_selected_action": [draft.pk]}
    )
    draft.refresh_from_db()
    assert draft.is_live and (timezone.now() - draft.published_at) < timedelta(
        minutes=1
    )
    staff_client.post(
        "/admin/blog/post/", {"action": "unpublish", "_selected_action": [live.pk]}
    )
    live.refresh_from_db()
    assert live.status == Post.Status.DRAFT


def test_search_date_hierarchy_and_filters_work(staff_client):
    """Search, the date hierarchy and the section/tag filters answer."""
    post = make_post("Pipeline deal", tags=[make_tag("Energy")])
    day = timezone.localtime(post.published_at)
    for query in (
        "?q=pipeline",
        f"?published_at__year={day.year}",
        f"?section__id__exact={post.section_id}",
        f"?tags__id__exact={post.tags.first().pk}",
    ):
        response = staff_client.get("/admin/blog/post/" + query)
        assert response.status_code == 200
        assert response.context["cl"].result_count == 1, query


def test_section_autocomplete(staff_client):
    """Sections are picked by autocomplete."""
    make_section("World")
    response = staff_client.get(
        "/admin/autocomplete/",
        {
            "term": "wor",
            "app_label": "blog",
            "model_name": "post",
            "field_name": "section",
        },
    )
    assert [r["text"] for r in response.json()["results"]] == ["World"]


def test_section_and_tag_lists_count_posts_in_one_query(
    staff_client, django_assert_max_num_queries
):
    """Section and tag admins show post counts from one annotated query."""
    world = make_section("World")
    iran = make_tag("Iran")
    for _ in range(3):
        make_post(section=world, tags=[iran])
    for url in ("/admin/blog/section/", "/admin/blog/tag/"):
        response = staff_client.get(url)
        results = list(response.context["cl"].result_list)
        assert [obj.post_count for obj in results if obj.name in {"World", "Iran"}] == [
            3
        ]


def test_preview_shows_sanitised_html(staff_client):
    """The admin's rendered preview is the sanitised HTML: hostile Markdown is inert."""
    post = make_post(
        body="<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    )
    response = staff_client.get(f"/admin/blog/post/{post.pk}/change/")
    preview = lxml_html.fromstring(response.content).cssselect(".dateline-preview")[0]
    assert script_vectors(lxml_html.tostring(preview, encoding="unicode")) == []


def test_view_on_site_for_a_draft(staff_client):
    """'View on site' leads an editor to the draft's preview."""
    post = make_post(status=Post.Status.DRAFT)
    response = staff_client.get(f"/admin/blog/post/{post.pk}/change/")
    assert "/admin/r/" in response.content.decode()
    assert staff_client.get(post.get_absolute_url()).status_code == 200


def test_readers_cannot_reach_the_admin(client):
    """The admin asks anonymous visitors to log in."""
    response = client.get("/admin/blog/post/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_editor_uploads_a_lead_image(staff_client, client):
    """Uploading a lead image with alt text in the admin stores it and its
    renditions; the article shows them."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_images import png_bytes

    image = SimpleUploadedFile("harbour.png", png_bytes(1600, 900), "image/png")
    data = form_data(lead_image=image, lead_image_alt="A harbour at dawn")
    data["author"] = staff_client.user.pk
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:500]
    post = Post.objects.get(slug="ceasefire-talks-resume")
    assert post.lead_image.name.startswith("lead/")
    assert [r["width"] for r in post.lead_image_renditions] == [480, 960, 1440]
    assert all(r["name"].startswith("renditions/") for r in post.lead_image_renditions)
    page = client.get(post.get_absolute_url()).content.decode()
    assert post.lead_image_default["url"] in page
    assert 'alt="A harbour at dawn"' in page


def test_editor_replaces_a_lead_image(staff_client):
    """Changing the image on an existing post makes new renditions."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.test_images import png_bytes

    post = make_post(section=make_section("World"))
    image = SimpleUploadedFile("new.png", png_bytes(1000, 500), "image/png")
    data = form_data(section=post.section, slug=post.slug, title=post.title,
                     lead_image=image, lead_image_alt="New picture")  # fmt: skip
    data["author"] = post.author.pk
    assert (
        staff_client.post(f"/admin/blog/post/{post.pk}/change/", data).status_code
        == 302
    )
    post.refresh_from_db()
    assert [r["width"] for r in post.lead_image_renditions] == [480, 960, 1000]


def test_tags_with_spaces_and_case(staff_client):
    """'Middle East' stays one tag; 'iran' reuses an existing 'Iran'."""
    make_tag("Iran")
    data = form_data(tags="Middle East, iran")
    data["author"] = staff_client.user.pk
    assert staff_client.post("/admin/blog/post/add/", data).status_code == 302
    post = Post.objects.get(slug="ceasefire-talks-resume")
    assert sorted(t.name for t in post.tags.all()) == ["Iran", "Middle East"]
    assert Tag.objects.count() == 2


def test_overlong_tag_is_a_form_error(staff_client):
    """A tag name over 100 characters is a form error, with the text kept."""
    data = form_data(tags="Iran, " + "x" * 120)
    data["author"] = staff_client.user.pk
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    assert "A tag name has at most 100 characters" in response.content.decode()
    assert Post.objects.count() == 0


def test_publishing_a_draft_dates_it_now(staff_client):
    """A draft started days ago and published from the form is dated now,
    unless the editor set the time."""
    draft = make_post(status=Post.Status.DRAFT, age=timedelta(days=3))
    day = timezone.localtime(draft.published_at)
    data = form_data(section=draft.section, slug=draft.slug, title=draft.title,
                     published_at_0=day.strftime("%Y-%m-%d"),
                     published_at_1=day.strftime("%H:%M:%S"))  # fmt: skip
    data["author"] = draft.author.pk
    initial = {"initial-published_at_0": data["published_at_0"],
               "initial-published_at_1": data["published_at_1"]}  # fmt: skip
    assert (
        staff_client.post(
            f"/admin/blog/post/{draft.pk}/change/", {**data, **initial}
        ).status_code
        == 302
    )
    draft.refresh_from_db()
    assert timezone.now() - draft.published_at < timedelta(minutes=1)


def test_publishing_with_a_chosen_time_keeps_it(staff_client):
    """An editor who sets a past time (backdating) keeps it."""
    draft = make_post(status=Post.Status.DRAFT)
    chosen = timezone.localtime() - timedelta(days=10)
    data = form_data(section=draft.section, slug=draft.slug, title=draft.title,
                     published_at_0=chosen.strftime("%Y-%m-%d"),
                     published_at_1=chosen.strftime("%H:%M:%S"))  # fmt: skip
    data["author"] = draft.author.pk
    assert (
        staff_client.post(f"/admin/blog/post/{draft.pk}/change/", data).status_code
        == 302
    )
    draft.refresh_from_db()
    assert abs((draft.published_at - chosen).total_seconds()) < 1


# --- Bounded rendering in the admin (issue 9) ------------------------------


def test_body_field_says_and_enforces_its_limit_in_the_browser(staff_client):
    """The body textarea carries maxlength and its help text names the limit."""
    doc = lxml_html.fromstring(staff_client.get("/admin/blog/post/add/").content)
    body = doc.cssselect("textarea[name=body]")[0]
    assert body.get("maxlength") == str(MAX_BODY_CHARS)
    assert (
        f"{MAX_BODY_CHARS:,} characters"
        in doc.cssselect("#id_body_helptext")[0].text_content()
    )


def test_pathological_body_is_a_form_error_that_keeps_the_text(staff_client, settings):
    """A body that would render for minutes is refused in seconds, text kept, nothing written."""
    body = "[" * 50000
    data = form_data(body=body, author=staff_client.user.pk)
    start = time.monotonic()
    response = staff_client.post("/admin/blog/post/add/", data)
    assert time.monotonic() - start < RENDER_SECONDS + 3
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    assert "takes more than" in doc.cssselect(".errorlist")[0].text_content()
    assert doc.cssselect("textarea[name=body]")[0].text_content().strip() == body
    assert not Post.objects.exists()


def test_pathological_story_update_is_a_form_error(staff_client):
    """A story update over budget is refused like a body."""
    post = make_post()
    data = form_data(slug=post.slug, section=post.section, author=post.author_id)
    data.update(
        {
            "updates-TOTAL_FORMS": "1",
            "updates-0-published_at_0": "2026-01-02",
            "updates-0-published_at_1": "10:00:00",
            "updates-0-body": "> " * 1000 + "deep",
        }
    )
    response = staff_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 200
    assert b"nested more than" in response.content
    assert not post.updates.exists()


@pytest.mark.parametrize("megabytes", [1, 10])
def test_huge_body_is_a_form_error_that_keeps_the_text(staff_client, megabytes):
    """A 1 MB or 10 MB body of varied words gets a form error and the text back,
    not a tsvector 500 on PostgreSQL or a bare 400."""
    words = [f"w{n:x}q" for n in range(50000)]
    body = " ".join(words * (megabytes * 1_000_000 // 400_000 + 1))[
        : megabytes * 1_000_000
    ]
    data = form_data(body=body, author=staff_client.user.pk)
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    assert "the limit is 200,000" in doc.cssselect(".errorlist")[0].text_content()
    assert doc.cssselect("textarea[name=body]")[0].text_content().strip() == body
    assert not Post.objects.exists()


def test_body_of_distinct_words_at_the_limit_saves_and_is_searchable(staff_client):
    """The limit keeps any body inside PostgreSQL's 1 MB tsvector: a body of
    distinct words at the limit saves, and its last word is found."""
    from blog.search import search_posts

    words, length, n = [], 0, 0
    while length + 10 < MAX_BODY_CHARS:
        words.append(f"z{n:x}q")
        length += len(words[-1]) + 1
        n += 1
    data = form_data(body=" ".join(words), author=staff_client.user.pk)
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302
    assert search_posts(words[-1]).count() == 1


def test_crlf_body_at_the_limit_is_accepted(staff_client):
    """What the browser lets through (maxlength counts a line end once) saves."""
    body = ("x" * 99 + "\r\n") * (MAX_BODY_CHARS // 100)
    data = form_data(body=body, author=staff_client.user.pk)
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302
    assert "\r" not in Post.objects.get().body


def test_request_over_the_upload_limit_is_413_with_a_message(staff_client, settings):
    """A POST past DATA_UPLOAD_MAX_MEMORY_SIZE gets a page that says what happened."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    staff_client.raise_request_exception = False
    data = form_data(body="x" * 5000, author=staff_client.user.pk)
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 413
    assert b"too large" in response.content


# --- No 5xx for anything an editor can send (issue 9) ----------------------

JUNK = ["\x00", "abc", "-1", "99999999999999999999", "2026-13-45", "1e400", "'", "[]"]
LIST_PARAMETERS = {
    "post": [
        "status__exact", "section__id__exact", "tags__id__exact", "author__id__exact",
        "state", "published_at__year", "published_at__month", "published_at__day",
        "slug__startswith", "q", "o", "p", "e", "all", "_changelist_filters",
    ],
    "section": ["q", "o", "p", "slug__startswith", "position__gt"],
    "tag": ["q", "o", "p", "name__iexact"],
    "author": ["q", "o", "p", "user__id__exact"],
    "page": ["q", "o", "p", "published__exact", "in_footer__exact"],
}  # fmt: skip
FORM_FIELDS = {
    "post": [
        "title", "slug", "section", "tags", "summary", "body", "status", "author",
        "published_at", "published_at_0", "published_at_1", "lead_image_alt",
    ],
    "section": ["name", "slug", "description", "position"],
    "tag": ["name", "slug", "description"],
    "author": ["display_name", "slug", "user", "bio", "links"],
    "page": ["title", "slug", "body", "published", "in_footer", "position"],
}  # fmt: skip


@pytest.fixture
def fuzz_client(staff_client):
    make_post(title="Existing", slug="existing")
    staff_client.raise_request_exception = False
    return staff_client


def server_errors(client, requests) -> list:
    """The (method, url, data) of every request that answered 5xx."""
    failures = []
    for method, url, data in requests:
        if getattr(client, method)(url, data).status_code >= 500:
            failures.append((method, url, data))
    return failures


@pytest.mark.parametrize("model", LIST_PARAMETERS)
def test_list_filters_and_search_never_answer_5xx(fuzz_client, model):
    """Any list filter, ordering, page or search value answers 4xx or a list, never 5xx."""
    requests = [
        ("get", f"/admin/blog/{model}/", {name: value})
        for name in LIST_PARAMETERS[model]
        for value in JUNK
    ]
    assert server_errors(fuzz_client, requests) == []


def test_autocomplete_never_answers_5xx(fuzz_client):
    """The section autocomplete answers junk terms and parameters without a 5xx."""
    base = {"app_label": "blog", "model_name": "post", "field_name": "section"}
    requests = [
        ("get", "/admin/autocomplete/", {**base, name: value})
        for name in ["term", "page", "app_label", "model_name", "field_name"]
        for value in JUNK
    ]
    assert server_errors(fuzz_client, requests) == []


@pytest.mark.parametrize("model", FORM_FIELDS)
def test_add_form_initial_values_never_answer_5xx(fuzz_client, model):
    """Junk initial values in the add form's query string never give a 5xx."""
    requests = [
        ("get", f"/admin/blog/{model}/add/", {name: value})
        for name in FORM_FIELDS[model]
        for value in JUNK
    ]
    assert server_errors(fuzz_client, requests) == []


@pytest.mark.parametrize("model", FORM_FIELDS)
def test_unknown_object_ids_never_answer_5xx(fuzz_client, model):
    """Unknown, junk or huge ids on change, history and delete pages answer 3xx/4xx."""
    requests = [
        ("get", f"/admin/blog/{model}/{value}/{page}/", None)
        for value in ["abc", "%00", "99999999999999999999", "-1", "0"]
        for page in ["change", "history", "delete"]
    ]
    assert server_errors(fuzz_client, requests) == []


UPDATE_FORM = {
    "updates-TOTAL_FORMS": "1",
    "updates-0-published_at_0": "2026-01-02",
    "updates-0-published_at_1": "10:00:00",
    "updates-0-body": "An update.",
}


@pytest.mark.parametrize("model", FORM_FIELDS)
def test_posted_junk_is_a_form_error_never_a_5xx(fuzz_client, model):
    """Junk in any field of the post (with a story update), section, tag,
    author and static page forms is a form error or a save, never a 5xx."""
    valid = {
        "post": {**form_data(), **UPDATE_FORM, "author": fuzz_client.user.pk},
        "section": {"name": "Desk", "slug": "desk", "position": "1"},
        "tag": {"name": "Topic", "slug": "topic"},
        "author": {"display_name": "Ada", "slug": "ada"},
        "page": {"title": "About", "slug": "about", "body": "Us.", "position": "1"},
    }[model]
    fields = FORM_FIELDS[model] + (list(UPDATE_FORM) if model == "post" else [])
    requests = [
        ("post", f"/admin/blog/{model}/add/", {**valid, name: value})
        for name in fields
        for value in JUNK
    ]
    assert server_errors(fuzz_client, requests) == []


# --- No write lock held while Markdown renders (gunicorn + SQLite file) -----


class Editor:
    """An editor's browser session against a running server, by plain HTTP."""

    def __init__(self, base, username, password):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.post("/admin/login/?next=/admin/", "/admin/login/",
                  {"username": username, "password": password})  # fmt: skip

    def post(self, url, form_url, data):
        page = self.opener.open(self.base + form_url, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(
            self.base + url, body, headers={"Referer": self.base + form_url}
        )
        with self.opener.open(request, timeout=60) as response:
            return response.geturl(), response.read().decode()


def test_a_slow_body_never_blocks_another_editors_save(request):
    """While one editor's pathological body renders until refused, a second
    editor's save on the same SQLite file goes through at once (issue 9: it
    used to fail with "database is locked")."""
    base, manage = request.getfixturevalue("gunicorn_on_sqlite")
    manage("shell", "-c", "from tests.factories import make_staff; make_staff(username='one'); make_staff(username='two')")  # fmt: skip
    one, two = (Editor(base, name, "correct horse battery staple") for name in ("one", "two"))  # fmt: skip

    def new_post(slug, body):
        # The demo's first section and first user (the desk) exist in the server's database.
        return {
            "title": slug, "slug": slug, "section": "1", "tags": "", "summary": "",
            "body": body, "status": "draft", "author": "1",
            "published_at_0": "2026-11-29", "published_at_1": "10:00:00",
            "lead_image_alt": "", "lead_image_caption": "",
            **{f"updates-{k}": v for k, v in
               {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "1000"}.items()},
            **BYLINES_NONE,
        }  # fmt: skip

    results = {}

    def save_slow_body():
        results["slow"] = one.post(
            "/admin/blog/post/add/",
            "/admin/blog/post/add/",
            new_post("slow", "[" * 50000),
        )
        results["slow_done"] = time.monotonic()

    slow = threading.Thread(target=save_slow_body)
    slow.start()
    time.sleep(1)
    start = time.monotonic()
    url, _ = two.post("/admin/blog/post/add/", "/admin/blog/post/add/",
                      new_post("quick", "A normal article.\n\n## Part\n\nText."))  # fmt: skip
    quick_done = time.monotonic()
    slow.join()
    assert url.endswith("/admin/blog/post/")  # saved, redirected to the list
    # Saved while the other body was still rendering (a held write lock would
    # have made it wait for that render, about 4 s), and within seconds
    # even on a loaded machine.
    assert quick_done < results["slow_done"]
    assert quick_done - start < 4
    slow_url, slow_page = results["slow"]
    assert slow_url.endswith("/add/") and "takes more than" in slow_page


def test_post_list_shows_who_is_working_on_what(
    staff_client, django_assert_max_num_queries
):
    """State (in review, scheduled for a time, live and updated), author and last
    editor show in the list, in a number of queries that does not grow per row."""
    from tests.factories import make_user

    make_post("Waiting", status=Post.Status.REVIEW)
    make_post("Tomorrow", age=-timedelta(days=1))
    updated = make_post("Revised", age=timedelta(days=2))
    Post.objects.filter(pk=updated.pk).update(
        created_at=updated.published_at, last_edited_by=make_user(username="desk")
    )
    with django_assert_max_num_queries(14) as captured:
        response = staff_client.get("/admin/blog/post/")
    few = len(captured)
    rows = {
        row.cssselect("th a")[0].text: row.text_content()
        for row in lxml_html.fromstring(response.content).cssselect("#result_list tr")
        if row.cssselect("th a")
    }
    assert "In review" in rows["Waiting"]
    assert "Scheduled for" in rows["Tomorrow"]
    assert "Live, updated" in rows["Revised"] and "desk" in rows["Revised"]
    for _ in range(10):
        post = make_post(status=Post.Status.REVIEW)
        Post.objects.filter(pk=post.pk).update(last_edited_by=make_user())
    with django_assert_max_num_queries(few):
        staff_client.get("/admin/blog/post/")


def opened_form(client, post) -> dict:
    """The change form of `post` as the browser would post it back untouched."""
    page = client.get(f"/admin/blog/post/{post.pk}/change/")
    form = lxml_html.fromstring(page.content).get_element_by_id("post_form")
    return dict(form.form_values())


def test_second_of_two_concurrent_saves_is_refused_and_keeps_its_text(client):
    """Two editors open a post; the second save is refused with a link to the
    other version, keeps what was typed, and a second informed save wins."""
    from tests.factories import make_staff

    post = make_post(section=make_section("World"))
    first, second = make_staff(), make_staff()
    client.force_login(first)
    first_form = opened_form(client, post)
    client.force_login(second)
    second_form = opened_form(client, post)
    client.force_login(first)
    first_form["title"] = "First editor's title"
    assert (
        client.post(f"/admin/blog/post/{post.pk}/change/", first_form).status_code
        == 302
    )
    client.force_login(second)
    second_form["body"] = "Second editor's long rewrite."
    response = client.post(f"/admin/blog/post/{post.pk}/change/", second_form)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    error = doc.cssselect(".errornote + .errorlist, .errorlist.nonfield")[0]
    assert first.get_username() in error.text_content()
    links = [a.get("href") for a in error.cssselect("a")]
    assert f"/admin/blog/post/{post.pk}/history/" in links
    assert doc.cssselect("textarea[name=body]")[0].text_content().strip() == (
        "Second editor's long rewrite."
    )
    post.refresh_from_db()
    assert post.title == "First editor's title" and post.body != second_form["body"]
    second_form["version"] = doc.cssselect("input[name=version]")[0].get("value")
    assert (
        client.post(f"/admin/blog/post/{post.pk}/change/", second_form).status_code
        == 302
    )
    post.refresh_from_db()
    assert post.body == "Second editor's long rewrite."


def test_reporters_adding_story_updates_at_once_never_conflict(client):
    """Story updates are their own rows: two reporters who opened the same post
    each add one and save, one after the other; both are kept, no refusal."""
    from blog.models import StoryUpdate
    from tests.factories import make_staff

    post = make_post(section=make_section("World"))
    forms_by_reporter = []
    for reporter in (make_staff(), make_staff()):
        client.force_login(reporter)
        forms_by_reporter.append((reporter, opened_form(client, post)))
    for n, (reporter, data) in enumerate(forms_by_reporter):
        client.force_login(reporter)
        data.update(
            {
                "updates-TOTAL_FORMS": "1",
                "updates-0-body": f"Update {n}.",
                "updates-0-published_at_0": data["published_at_0"],
                "updates-0-published_at_1": data["published_at_1"],
            }
        )
        response = client.post(f"/admin/blog/post/{post.pk}/change/", data)
        assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(StoryUpdate.objects.values_list("body", flat=True)) == [
        "Update 0.",
        "Update 1.",
    ]
