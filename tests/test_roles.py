"""blog/roles.py: authors, editors, staff without a role and superusers, each
driven through the admin and the public article address (issue 7)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from lxml import html as lxml_html

from blog import roles
from blog.models import Post, StoryUpdate
from tests.factories import make_member, make_post, make_staff, make_update
from tests.test_admin import form_data

pytestmark = pytest.mark.django_db


def change_data(post, **overrides):
    """The change form as the admin would post it for `post`."""
    data = form_data(
        section=post.section,
        title=post.title,
        slug=post.slug,
        body=post.body,
        summary=post.summary,
        status=post.status,
        tags="",
    )
    return {**data, **overrides}


def snapshot(post):
    post = Post.objects.get(pk=post.pk)
    return (post.title, post.status, post.author_id, post.published_at, post.body)


def test_migration_creates_each_role_with_its_declared_permissions():
    """Authors and Editors exist with exactly the permissions ROLES declares."""
    for role in roles.ROLES:
        group = Group.objects.get(name=role.group)
        held = set(
            group.permissions.values_list(
                "content_type__app_label", "content_type__model", "codename"
            )
        )
        assert held == set(role.permissions)
    editors = Group.objects.get(name="Editors")
    assert editors.permissions.filter(codename="publish_post").exists()
    assert not Group.objects.get(name="Authors").permissions.filter(
        codename__in=["publish_post", "delete_post"]
    )


def test_review_is_not_public(client):
    """A post in review is absent from every public read and its address."""
    post = make_post(status=Post.Status.REVIEW)
    assert not Post.objects.published().filter(pk=post.pk).exists()
    assert client.get(post.get_absolute_url()).status_code == 404


# Authors


def test_author_writes_a_draft_as_themselves(author_client):
    """An author's new post is theirs, whatever author the request names."""
    other = make_staff()
    data = form_data(status="draft", author=other.pk)
    response = author_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(slug=data["slug"])
    assert post.author == author_client.user
    assert post.last_edited_by == author_client.user
    assert post.status == Post.Status.DRAFT


def test_author_form_offers_draft_and_review_only(author_client):
    """The status menu an author sees has no Published; no author or time field."""
    doc = lxml_html.fromstring(author_client.get("/admin/blog/post/add/").content)
    options = [o.get("value") for o in doc.cssselect("select[name=status] option")]
    assert options == ["draft", "review"]
    assert not doc.cssselect("[name=author]")
    assert not doc.cssselect("[name=published_at_0]")


def test_author_forging_publish_is_a_form_error_and_nothing_changes(author_client):
    """A forged status=published from an author is refused; the post is unchanged."""
    post = make_post(status=Post.Status.DRAFT, author=author_client.user)
    before = snapshot(post)
    data = change_data(post, status="published", title="Forged")
    response = author_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 200
    doc = lxml_html.fromstring(response.content)
    assert doc.cssselect(".errorlist")
    assert snapshot(post) == before


def test_author_cannot_schedule_or_reassign(author_client):
    """A forged publication time or author in an author's save is never written."""
    post = make_post(status=Post.Status.DRAFT, author=author_client.user)
    before = snapshot(post)
    later = timezone.localtime() + timedelta(days=3)
    data = change_data(
        post,
        author=make_staff().pk,
        published_at_0=later.strftime("%Y-%m-%d"),
        published_at_1=later.strftime("%H:%M:%S"),
    )
    response = author_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 302
    assert snapshot(post)[2:4] == before[2:4]


def test_author_submits_for_review(author_client):
    """Choosing In review (form) or the action moves an author's draft to review."""
    first = make_post(status=Post.Status.DRAFT, author=author_client.user)
    second = make_post(status=Post.Status.DRAFT, author=author_client.user)
    response = author_client.post(
        f"/admin/blog/post/{first.pk}/change/", change_data(first, status="review")
    )
    assert response.status_code == 302
    author_client.post(
        "/admin/blog/post/",
        {"action": "submit_for_review", "_selected_action": [second.pk]},
    )
    assert set(Post.objects.values_list("status", flat=True)) == {"review"}


def test_author_sees_and_touches_only_their_own_posts(author_client):
    """Others' posts are absent from an author's list and cannot be changed."""
    mine = make_post(status=Post.Status.DRAFT, author=author_client.user)
    theirs = make_post(status=Post.Status.DRAFT)
    listing = author_client.get("/admin/blog/post/")
    assert list(listing.context["cl"].result_list) == [mine]
    before = snapshot(theirs)
    url = f"/admin/blog/post/{theirs.pk}/change/"
    assert author_client.get(url).status_code == 302  # "does not exist"
    author_client.post(url, change_data(theirs, title="Hijacked"))
    assert snapshot(theirs) == before


def test_author_cannot_publish_or_unpublish_by_action(author_client):
    """Publish now / Unpublish are not an author's actions, even forged."""
    draft = make_post(status=Post.Status.DRAFT, author=author_client.user)
    live = make_post(author=author_client.user)
    doc = lxml_html.fromstring(author_client.get("/admin/blog/post/").content)
    offered = {o.get("value") for o in doc.cssselect("select[name=action] option")}
    assert "publish_now" not in offered and "unpublish" not in offered
    for action, post in (("publish_now", draft), ("unpublish", live)):
        before = snapshot(post)
        author_client.post(
            "/admin/blog/post/", {"action": action, "_selected_action": [post.pk]}
        )
        assert snapshot(post) == before


def test_authors_published_post_is_read_only_to_them(author_client):
    """Once the desk publishes it, the author may read but not change their post."""
    live = make_post(author=author_client.user)
    before = snapshot(live)
    url = f"/admin/blog/post/{live.pk}/change/"
    page = author_client.get(url)
    assert page.status_code == 200
    assert not lxml_html.fromstring(page.content).cssselect("textarea[name=body]")
    response = author_client.post(url, change_data(live, title="Retitled"))
    assert response.status_code == 403
    assert snapshot(live) == before


def test_author_cannot_add_updates_to_others_stories(author_client):
    """A story update on someone else's post is refused: no row is written."""
    theirs = make_post()
    data = change_data(theirs)
    data.update(
        {
            "updates-TOTAL_FORMS": "1",
            "updates-0-body": "Planted update.",
            "updates-0-published_at_0": data["published_at_0"],
            "updates-0-published_at_1": data["published_at_1"],
        }
    )
    author_client.post(f"/admin/blog/post/{theirs.pk}/change/", data)
    assert not StoryUpdate.objects.exists()


def test_author_previews_their_own_draft_only(author_client):
    """An author reads their own draft at its address, not a colleague's."""
    mine = make_post(status=Post.Status.DRAFT, author=author_client.user)
    theirs = make_post(status=Post.Status.DRAFT)
    assert author_client.get(mine.get_absolute_url()).status_code == 200
    assert author_client.get(theirs.get_absolute_url()).status_code == 404


# Editors


def test_editor_publishes_an_authors_piece_in_review(editor_client):
    """An editor changes anyone's post and publishes it; the list filters reviews."""
    piece = make_post(status=Post.Status.REVIEW, age=timedelta(days=2))
    make_post(status=Post.Status.DRAFT)
    reviews = editor_client.get("/admin/blog/post/?state=review")
    assert list(reviews.context["cl"].result_list) == [piece]
    response = editor_client.post(
        f"/admin/blog/post/{piece.pk}/change/",
        change_data(piece, status="published", author=piece.author_id),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    piece.refresh_from_db()
    assert piece.is_live and piece.last_edited_by == editor_client.user
    assert timezone.now() - piece.published_at < timedelta(minutes=1)


def test_editor_publishes_and_unpublishes_by_action(editor_client):
    """Editors hold the publish actions."""
    draft = make_post(status=Post.Status.DRAFT)
    live = make_post()
    editor_client.post(
        "/admin/blog/post/", {"action": "publish_now", "_selected_action": [draft.pk]}
    )
    editor_client.post(
        "/admin/blog/post/", {"action": "unpublish", "_selected_action": [live.pk]}
    )
    draft.refresh_from_db()
    live.refresh_from_db()
    assert draft.is_live and live.status == Post.Status.DRAFT


def test_editor_previews_any_draft(editor_client):
    """Editors read every draft and scheduled post at its address."""
    draft = make_post(status=Post.Status.DRAFT)
    scheduled = make_post(age=-timedelta(days=1))
    assert editor_client.get(draft.get_absolute_url()).status_code == 200
    assert editor_client.get(scheduled.get_absolute_url()).status_code == 200


# Staff without a role, superusers


def test_staff_without_permissions_reads_no_draft(bare_staff_client):
    """A staff flag alone opens neither the post admin nor an unpublished post."""
    draft = make_post(status=Post.Status.DRAFT)
    scheduled = make_post(age=-timedelta(days=1))
    live = make_post()
    make_update(live, age=-timedelta(hours=1), body="Embargoed update.")
    assert bare_staff_client.get("/admin/blog/post/").status_code == 403
    assert bare_staff_client.get(draft.get_absolute_url()).status_code == 404
    assert bare_staff_client.get(scheduled.get_absolute_url()).status_code == 404
    page = bare_staff_client.get(live.get_absolute_url())
    assert page.status_code == 200 and b"Embargoed update." not in page.content


def test_change_permission_alone_is_confined_to_own_posts(client):
    """A staff user holding only change_post (no role) cannot publish anything
    or rewrite someone else's article."""
    from django.contrib.auth.models import Permission

    user = make_member(None)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_post", "view_post"])
    )
    client.force_login(user)
    theirs = make_post()
    before = snapshot(theirs)
    client.post(
        f"/admin/blog/post/{theirs.pk}/change/", change_data(theirs, title="Mine")
    )
    client.post(
        "/admin/blog/post/", {"action": "unpublish", "_selected_action": [theirs.pk]}
    )
    assert snapshot(theirs) == before


def test_superuser_may_do_everything(staff_client):
    """Superusers keep every power: publish, reassign, preview."""
    user = staff_client.user
    post = make_post(status=Post.Status.REVIEW)
    assert roles.may_publish(user) and roles.may_edit(user, post)
    assert roles.may_preview(user, post)
    assert staff_client.get(post.get_absolute_url()).status_code == 200


# Email


def test_submitting_for_review_emails_the_editors(
    author_client, django_capture_on_commit_callbacks, mailoutbox
):
    """Editors (only they) get an email linking the piece an author submits."""
    make_member(roles.EDITORS, email="desk@example.org")
    make_member(roles.EDITORS, email="")  # no address: skipped
    make_member(roles.AUTHORS, email="colleague@example.org")
    make_staff(email="owner@example.org")
    first = make_post(status=Post.Status.DRAFT, author=author_client.user)
    second = make_post(status=Post.Status.DRAFT, author=author_client.user)
    with django_capture_on_commit_callbacks(execute=True):
        author_client.post(
            f"/admin/blog/post/{first.pk}/change/", change_data(first, status="review")
        )
        author_client.post(
            "/admin/blog/post/",
            {"action": "submit_for_review", "_selected_action": [second.pk]},
        )
    assert [message.to for message in mailoutbox] == [["desk@example.org"]] * 2
    assert first.title in mailoutbox[0].subject
    assert f"/admin/blog/post/{first.pk}/change/" in mailoutbox[0].body
    assert mailoutbox[0].body.count("http://testserver/") == 1


def test_saving_a_piece_already_in_review_sends_nothing_more(
    author_client, django_capture_on_commit_callbacks, mailoutbox
):
    """Only the submission is announced, not every later save."""
    make_member(roles.EDITORS, email="desk@example.org")
    piece = make_post(status=Post.Status.REVIEW, author=author_client.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(
            f"/admin/blog/post/{piece.pk}/change/",
            change_data(piece, title="Sharper headline"),
        )
    assert response.status_code == 302
    assert mailoutbox == []


# The desk's buttons (templates/admin/blog/post/submit_line.html)


def buttons(client, url):
    doc = lxml_html.fromstring(client.get(url).content)
    row = doc.cssselect(".submit-row")[-1]
    return [field.get("name") for field in row.cssselect("input[type=submit]")]


def test_author_gets_submit_for_review_editor_gets_publish(author_client, client):
    """Save stays first (Enter saves); an author sees Submit for review on a
    new post or a draft, an editor sees Publish on anything not yet published."""
    assert buttons(author_client, "/admin/blog/post/add/")[:2] == [
        "_save",
        "_submit_review",
    ]
    draft = make_post(status=Post.Status.DRAFT, author=author_client.user)
    assert "_publish" not in buttons(
        author_client, f"/admin/blog/post/{draft.pk}/change/"
    )
    piece = make_post(status=Post.Status.REVIEW, author=author_client.user)
    assert "_submit_review" not in buttons(
        author_client, f"/admin/blog/post/{piece.pk}/change/"
    )
    editor = make_member(roles.EDITORS)
    client.force_login(editor)
    assert buttons(client, f"/admin/blog/post/{piece.pk}/change/")[:2] == [
        "_save",
        "_publish",
    ]
    live = make_post(status=Post.Status.PUBLISHED)
    names = buttons(client, f"/admin/blog/post/{live.pk}/change/")
    assert "_publish" not in names and "_submit_review" not in names


def test_submit_for_review_button_sets_review_and_emails_the_editors(
    author_client, django_capture_on_commit_callbacks, mailoutbox
):
    """The button is the status In review: saved, and the editors are told."""
    make_member(roles.EDITORS, email="desk@example.org")
    draft = make_post(status=Post.Status.DRAFT, author=author_client.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(
            f"/admin/blog/post/{draft.pk}/change/",
            change_data(draft, status="draft", title="Ready", _submit_review="1"),
            follow=True,
        )
    assert b"Submitted for review" in response.content
    draft.refresh_from_db()
    assert (draft.status, draft.title) == ("review", "Ready")
    assert [message.to for message in mailoutbox] == [["desk@example.org"]]


def test_author_forging_the_publish_button_is_refused(author_client):
    """An author who posts _publish gets a 403 and nothing changes."""
    draft = make_post(status=Post.Status.DRAFT, author=author_client.user)
    before = snapshot(draft)
    response = author_client.post(
        f"/admin/blog/post/{draft.pk}/change/",
        change_data(draft, title="Forged", _publish="1"),
    )
    assert response.status_code == 403
    assert snapshot(draft) == before


def test_editor_publish_button_publishes_now(editor_client):
    """An editor's Publish on a piece in review puts it live, dated now."""
    piece = make_post(status=Post.Status.REVIEW, age=timedelta(days=3))
    response = editor_client.post(
        f"/admin/blog/post/{piece.pk}/change/",
        change_data(piece, author=piece.author_id, _publish="1"),
    )
    assert response.status_code == 302
    piece.refresh_from_db()
    assert piece.is_live
    assert timezone.now() - piece.published_at < timedelta(minutes=1)
