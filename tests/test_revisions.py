"""blog/revisions.py and blog/revision_admin.py: every admin and import save of
a post is a revision; the admin lists them, compares any two and restores one
(a restore is a new revision and an edit, under the roles' rules; issue 7)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from lxml import html as lxml_html
from reversion.models import Revision, Version

from blog.importing import import_markdown
from blog.models import Post, StoryUpdate
from blog.revisions import diff_lines, diff_words, recorded, versions_of
from tests.factories import make_member, make_post, make_staff
from tests.test_admin import form_data
from tests.test_importing import ARTICLE
from tests.test_roles import change_data
from tests.xss import script_vectors

pytestmark = pytest.mark.django_db


def errors(response) -> str:
    doc = lxml_html.fromstring(response.content)
    return " | ".join(e.text_content() for e in doc.cssselect(".errorlist, .errornote"))


def edit(client, post, **changes):
    post.refresh_from_db()
    data = change_data(post, author=post.author_id, **changes)
    response = client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 302, errors(response)
    post.refresh_from_db()
    return post


def recorded_post(client, **changes):
    """A post written through the admin, then edited: two revisions."""
    data = form_data(author=client.user.pk, **changes)
    response = client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, errors(response)
    post = Post.objects.get(slug=data["slug"])
    return edit(client, post, title="Ceasefire talks resume in Vienna")


def test_every_admin_save_is_a_revision_with_user_and_comment(editor_client):
    """Adding and changing a post through the form each record a revision,
    by the editor, commented with what changed."""
    post = recorded_post(editor_client)
    versions = list(versions_of(post))
    assert len(versions) == 2
    newest, first = versions
    assert newest.field_dict["title"] == "Ceasefire talks resume in Vienna"
    assert first.field_dict["title"] == "Ceasefire talks resume"
    assert {v.revision.user for v in versions} == {editor_client.user}
    assert first.revision.get_comment() == "Added."
    assert "Title" in newest.revision.get_comment()


def test_story_updates_and_bylines_are_followed(editor_client):
    """A save with a story update records the update in the same revision."""
    post = make_post()
    data = change_data(post, author=post.author_id)
    data.update(
        {
            "updates-TOTAL_FORMS": "1",
            "updates-0-published_at_0": "2026-01-02",
            "updates-0-published_at_1": "10:00:00",
            "updates-0-body": "Delegations arrive.",
        }
    )
    response = editor_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 302
    revision = versions_of(post).first().revision
    kept = {version.content_type.model for version in revision.version_set.all()}
    assert {"post", "storyupdate", "byline"} <= kept
    update = StoryUpdate.objects.get()
    update_version = revision.version_set.get(content_type__model="storyupdate")
    assert update_version.object_id == str(update.pk)


def test_a_refused_save_records_nothing(editor_client):
    """An invalid form saves nothing and so records no revision."""
    post = make_post()
    response = editor_client.post(
        f"/admin/blog/post/{post.pk}/change/",
        change_data(post, author=post.author_id, title=""),
    )
    assert response.status_code == 200
    assert not Revision.objects.exists()


def test_list_actions_are_revisions(editor_client):
    """Publishing from the list records a revision named after the action."""
    post = make_post(status=Post.Status.DRAFT)
    editor_client.post(
        "/admin/blog/post/",
        {"action": "publish_now", "_selected_action": [post.pk]},
    )
    version = versions_of(post).get()
    assert version.field_dict["status"] == "published"
    assert version.revision.get_comment() == "Publish now"


def test_revision_list_compares_and_offers_restore(editor_client):
    """The list shows each revision with its user, the two newest chosen for
    comparison, and a restore button (POST, CSRF) for all but the current one."""
    post = recorded_post(editor_client)
    response = editor_client.get(f"/admin/blog/post/{post.pk}/revisions/")
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    rows = doc.cssselect("#revision-list tbody tr")
    assert len(rows) == 2
    assert editor_client.user.username in rows[0].text_content()
    assert doc.cssselect("input[name=to][checked]")[0].get("value") == str(
        versions_of(post)[0].pk
    )
    buttons = doc.cssselect("button[form=revision-restore]")
    assert len(buttons) == 1
    form = doc.cssselect("form#revision-restore")[0]
    assert form.get("method") == "post"
    assert form.cssselect("input[name=csrfmiddlewaretoken]")
    # The change form links to the list.
    change = editor_client.get(f"/admin/blog/post/{post.pk}/change/")
    assert f"/admin/blog/post/{post.pk}/revisions/".encode() in change.content


def test_diff_marks_changes_escaped_without_inline_script_or_style(editor_client):
    """Title, summary and body compared: words removed in <del>, added in
    <ins>; hostile text shows as text; the page has no inline script or style."""
    post = recorded_post(
        editor_client, body="Opening.\n\nThe talks <b>stalled</b> on Monday."
    )
    post = edit(
        editor_client,
        post,
        body="Opening.\n\nThe talks resumed on Tuesday. <script>alert(1)</script>",
    )
    new, _, old = versions_of(post)
    response = editor_client.get(
        f"/admin/blog/post/{post.pk}/revisions/compare/",
        {"from": old.pk, "to": new.pk},
    )
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    body = doc.cssselect(".dateline-diff")[2]
    assert [d.text_content() for d in body.cssselect("del")] == [
        "<b>stalled</b>",
        "Monday.",
    ]
    assert [i.text_content() for i in body.cssselect("ins")] == [
        "resumed",
        "Tuesday. <script>alert(1)</script>",
    ]
    title = doc.cssselect(".dateline-diff")[0]
    assert title.cssselect("ins")[0].text_content() == " in Vienna"
    assert "unchanged" in doc.cssselect("#diff-summary")[0].text_content()
    diff_html = b"".join(lxml_html.tostring(d) for d in doc.cssselect(".dateline-diff"))
    assert script_vectors(diff_html.decode()) == []
    assert not [s for s in doc.cssselect("script") if not s.get("src") and s.text]
    assert not doc.cssselect("style") and not doc.cssselect("[style]")


def test_restore_is_one_post_that_makes_a_new_revision(editor_client):
    """Restoring an older revision brings back its text, keeps the status and
    address, and is itself recorded as the newest revision."""
    post = recorded_post(editor_client, body="First body.")
    post = edit(editor_client, post, body="Second body.", status="draft")
    oldest = versions_of(post).last()
    response = editor_client.post(
        f"/admin/blog/post/{post.pk}/revisions/restore/", {"version": oldest.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/blog/post/{post.pk}/change/"
    post.refresh_from_db()
    assert post.body == "First body." and post.body_html == "<p>First body.</p>"
    assert post.title == "Ceasefire talks resume"
    assert post.status == "draft"  # the publication state is not restored
    assert post.last_edited_by == editor_client.user
    versions = list(versions_of(post))
    assert len(versions) == 4
    assert versions[0].field_dict["body"] == "First body."
    assert "Restored" in versions[0].revision.get_comment()


def test_restore_needs_post_and_csrf(editor_client):
    """GET does not restore (405); a POST without the CSRF token is refused."""
    post = recorded_post(editor_client, body="First body.")
    post = edit(editor_client, post, body="Second body.")
    oldest = versions_of(post).last()
    url = f"/admin/blog/post/{post.pk}/revisions/restore/"
    assert editor_client.get(url, {"version": oldest.pk}).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(editor_client.user)
    assert strict.post(url, {"version": oldest.pk}).status_code == 403
    post.refresh_from_db()
    assert post.body == "Second body."


@pytest.mark.parametrize("junk", ["", "abc", "0", "-1", str(2**70), "999999"])
def test_junk_revision_ids_are_404(editor_client, junk):
    """Unknown or malformed revision ids answer 404, never 500."""
    post = recorded_post(editor_client)
    base = f"/admin/blog/post/{post.pk}/revisions/"
    assert editor_client.post(base + "restore/", {"version": junk}).status_code == 404
    good = versions_of(post)[0].pk
    assert (
        editor_client.get(base + "compare/", {"from": junk, "to": good}).status_code
        == 404
    )


def test_another_posts_revision_is_404(editor_client):
    """A revision of post A cannot be restored onto post B."""
    first = recorded_post(editor_client)
    second = make_post()
    other = versions_of(first)[0].pk
    url = f"/admin/blog/post/{second.pk}/revisions/restore/"
    assert editor_client.post(url, {"version": other}).status_code == 404


def test_author_restores_own_draft_but_not_a_published_post(author_client):
    """A restore is an edit: an author restores their own draft; on their
    published post it is refused (403) and nothing changes."""
    post = make_post(status=Post.Status.DRAFT, author=author_client.user, body="One.")
    post = edit(author_client, post, body="Two.")
    post = edit(author_client, post, body="Three.")
    oldest = versions_of(post).last()
    url = f"/admin/blog/post/{post.pk}/revisions/restore/"
    assert author_client.post(url, {"version": oldest.pk}).status_code == 302
    post.refresh_from_db()
    assert post.body == "Two."

    Post.objects.filter(pk=post.pk).update(status=Post.Status.PUBLISHED)
    before = Post.objects.get(pk=post.pk).body
    count = Version.objects.count()
    assert author_client.post(url, {"version": oldest.pk}).status_code == 403
    assert Post.objects.get(pk=post.pk).body == before
    assert Version.objects.count() == count
    # They still read its history, without a restore button.
    page = author_client.get(f"/admin/blog/post/{post.pk}/revisions/")
    assert page.status_code == 200
    assert b"revision-restore" not in page.content


def test_author_cannot_see_others_revisions(author_client):
    """Another author's post: its revisions, comparison and restore are 404."""
    post = make_post(status=Post.Status.DRAFT)
    with recorded("seeded"):
        post.save()
    version = versions_of(post).get()
    base = f"/admin/blog/post/{post.pk}/revisions/"
    assert author_client.get(base).status_code == 404
    assert (
        author_client.get(
            base + "compare/", {"from": version.pk, "to": version.pk}
        ).status_code
        == 404
    )
    assert (
        author_client.post(base + "restore/", {"version": version.pk}).status_code
        == 404
    )


def test_staff_without_role_and_anonymous_see_nothing(client):
    """Anonymous: to the login page. Staff in no role: 404/403, never the text."""
    post = make_post()
    with recorded("seeded"):
        post.save()
    url = f"/admin/blog/post/{post.pk}/revisions/"
    assert client.get(url).status_code == 302
    client.force_login(make_member(None))
    assert client.get(url).status_code in (403, 404)


def test_restore_keeps_optimistic_locking(editor_client):
    """A form opened before a restore and saved after it is refused as stale;
    the form opened after the restore saves."""
    post = recorded_post(editor_client, body="First body.")
    post = edit(editor_client, post, body="Second body.")
    opened_version = post.updated_at.isoformat()
    oldest = versions_of(post).last()
    editor_client.post(
        f"/admin/blog/post/{post.pk}/revisions/restore/", {"version": oldest.pk}
    )
    post.refresh_from_db()
    stale = change_data(
        post, author=post.author_id, body="Typed meanwhile.", version=opened_version
    )
    response = editor_client.post(f"/admin/blog/post/{post.pk}/change/", stale)
    assert response.status_code == 200
    assert b"after you opened it" in response.content
    # The refusal links the revisions, where the other version can be compared.
    refusal = lxml_html.fromstring(response.content).cssselect(".errorlist a")
    links = [a.get("href") for a in refusal]
    assert f"/admin/blog/post/{post.pk}/revisions/" in links
    doc = lxml_html.fromstring(
        editor_client.get(f"/admin/blog/post/{post.pk}/change/").content
    )
    current = doc.cssselect("input[name=version]")[0].get("value")
    fresh = change_data(
        post, author=post.author_id, body="Typed after.", version=current
    )
    assert (
        editor_client.post(f"/admin/blog/post/{post.pk}/change/", fresh).status_code
        == 302
    )
    assert Post.objects.get(pk=post.pk).body == "Typed after."


def test_import_markdown_records_one_revision_per_post():
    """Each imported post (and re-import) is a revision, commented as an import."""
    post = import_markdown(ARTICLE).post
    import_markdown(ARTICLE.replace("Opening paragraph.", "Opening, revised."))
    versions = list(versions_of(post))
    assert len(versions) == 2
    assert versions[0].field_dict["body"].startswith("Opening, revised.")
    assert "Markdown" in versions[0].revision.get_comment()
    assert Revision.objects.count() == 2


def test_import_markdown_command_records_revisions(tmp_path):
    """manage.py import_markdown: one revision per file."""
    for n in range(2):
        (tmp_path / f"a{n}.md").write_text(
            ARTICLE.replace("slug: oil-gas", f"slug: oil-gas-{n}"), encoding="utf-8"
        )
    call_command("import_markdown", *sorted(tmp_path.glob("*.md")), stdout=StringIO())
    assert Revision.objects.count() == 2
    for post in Post.objects.all():
        assert versions_of(post).count() == 1


def test_generate_posts_records_no_revisions():
    """Bulk generation for benchmarks skips revisions."""
    call_command("generate_posts", 5, stdout=StringIO(), stderr=StringIO())
    assert Post.objects.count() == 5
    assert not Revision.objects.exists()


def test_diff_words_escapes_and_marks():
    """Word-level diff: escaped text, <del> then <ins>."""
    assert (
        diff_words("a <b> c", "a <i> c")
        == "a <del>&lt;b&gt;</del><ins>&lt;i&gt;</ins> c"
    )
    assert diff_words("same", "same") == "same"


def test_diff_lines_folds_long_unchanged_stretches():
    """The body diff keeps two lines of context around changes."""
    old = "".join(f"line {n}\n" for n in range(20))
    new = old.replace("line 10\n", "line ten\n")
    html = str(diff_lines(old, new))
    assert "line 0\n" in html and "line 7\n" not in html and "line 8\n" in html
    assert "unchanged lines" in html
    assert "<del>10</del><ins>ten</ins>" in html


def test_diff_of_huge_bodies_is_bounded():
    """Two 200,000-character bodies compare in well under a second's work
    (blocks past the word limit are shown whole)."""
    import time

    old = " ".join(f"w{n}" for n in range(30000))
    new = " ".join(f"v{n}" for n in range(30000))
    start = time.monotonic()
    html = str(diff_lines(old, new))
    assert time.monotonic() - start < 2
    assert html.startswith("<del>") and "<ins>" in html


def test_superuser_restores(client):
    """Superusers restore like editors."""
    client.force_login(make_staff())
    post = make_post(body="One.")
    with recorded("first"):
        post.save()
    post.body = "Two."
    with recorded("second"):
        post.save()
    oldest = versions_of(post).last()
    response = client.post(
        f"/admin/blog/post/{post.pk}/revisions/restore/", {"version": oldest.pk}
    )
    assert response.status_code == 302
    assert Post.objects.get(pk=post.pk).body == "One."
