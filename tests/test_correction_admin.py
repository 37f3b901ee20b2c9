"""blog/correction_admin.py: who may correct, retract and pin, driven through
the admin as each role (issue 7). Authors may do none of it, even forged."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from lxml import html as lxml_html

from blog import roles
from blog.corrections import MAX_PINS, Correction
from blog.models import Post
from tests.factories import make_member, make_post, make_staff
from tests.test_roles import change_data as role_change_data

pytestmark = pytest.mark.django_db


def change_data(post, **overrides):
    """The change form as the admin posts it, the post's own author and time
    kept (editors see those fields)."""
    published = timezone.localtime(post.published_at)
    return role_change_data(
        post,
        author=post.author_id,
        published_at_0=published.strftime("%Y-%m-%d"),
        published_at_1=published.strftime("%H:%M:%S"),
        **overrides,
    )


def with_correction(data, text="We misnamed the minister.", when=None):
    when = timezone.localtime(when or timezone.now())
    return {
        **data,
        "corrections-TOTAL_FORMS": "1",
        "corrections-INITIAL_FORMS": "0",
        "corrections-0-text": text,
        "corrections-0-noted_at_0": when.strftime("%Y-%m-%d"),
        "corrections-0-noted_at_1": when.strftime("%H:%M:%S"),
    }


def pins(when, position=1):
    local = timezone.localtime(when)
    return {
        "pinned_home_until_0": local.strftime("%Y-%m-%d"),
        "pinned_home_until_1": local.strftime("%H:%M:%S"),
        "pin_position": str(position),
    }


def form(response):
    return lxml_html.fromstring(response.content)


def snapshot(post):
    post = Post.objects.get(pk=post.pk)
    return (
        post.status,
        post.retracted_at,
        post.retraction_reason,
        post.pinned_home_until,
        post.pinned_section_until,
        post.pin_position,
        post.correction_notes,
    )


# -- Corrections -----------------------------------------------------------


def test_editor_appends_a_correction_signed_by_them(editor_client, client):
    post = make_post("Talks resume", age=timedelta(days=1))
    url = f"/admin/blog/post/{post.pk}/change/"
    assert form(editor_client.get(url)).cssselect("[name=corrections-TOTAL_FORMS]")
    response = editor_client.post(url, with_correction(change_data(post)))
    assert response.status_code == 302, response.content.decode()[:3000]
    (note,) = Correction.objects.filter(post=post)
    assert note.editor == editor_client.user
    assert "misnamed" in note.text_html
    client.logout()
    page = client.get(post.get_absolute_url()).content.decode()
    assert "We misnamed the minister." in page


def test_a_correction_dated_in_the_future_is_a_form_error(editor_client):
    post = make_post(age=timedelta(days=1))
    data = with_correction(change_data(post), when=timezone.now() + timedelta(days=2))
    response = editor_client.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 200
    assert form(response).cssselect(".errorlist")
    assert not Correction.objects.exists()


def test_drafts_take_no_corrections(editor_client):
    """Corrections are for live articles: a draft's form has no such inline."""
    post = make_post(status=Post.Status.DRAFT)
    page = form(editor_client.get(f"/admin/blog/post/{post.pk}/change/"))
    assert not page.cssselect("[name=corrections-TOTAL_FORMS]")


def test_author_sees_no_corrections_and_forging_one_writes_nothing(author_client):
    """Authors may not add, change or delete notes: the inline is absent and a
    forged one, on their own draft or their live post, writes no row."""
    draft = make_post(status=Post.Status.DRAFT, author=author_client.user)
    live = make_post(author=author_client.user, age=timedelta(days=1))
    Correction.objects.create(post=live, text="Editor's note.")
    for post in (draft, live):
        url = f"/admin/blog/post/{post.pk}/change/"
        page = author_client.get(url)
        assert not form(page).cssselect("[name^=corrections-]")
        author_client.post(url, with_correction(change_data(post), "Planted."))
        # Forged deletion of the editor's note, too.
        author_client.post(
            url,
            {
                **change_data(post),
                "corrections-TOTAL_FORMS": "1",
                "corrections-INITIAL_FORMS": "1",
                "corrections-0-id": str(Correction.objects.get(post=live).pk),
                "corrections-0-DELETE": "on",
            },
        )
    assert list(Correction.objects.values_list("text", flat=True)) == ["Editor's note."]


def test_correction_permission_without_publish_rights_is_not_enough(client):
    """A staff user granted the correction permissions but not the desk's
    (publish) still cannot correct."""
    user = make_member(None)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["change_post", "view_post", "add_correction"]
        )
    )
    client.force_login(user)
    post = make_post(author=user, status=Post.Status.DRAFT)
    assert not roles.may_correct(user)
    client.post(
        f"/admin/blog/post/{post.pk}/change/", with_correction(change_data(post))
    )
    assert not Correction.objects.exists()


# -- Retractions -----------------------------------------------------------


def test_editor_retracts_with_a_required_reason(editor_client, client):
    post = make_post("Secret deal signed", age=timedelta(days=1))
    data = {"action": "retract", "_selected_action": [post.pk]}
    asked = editor_client.post("/admin/blog/post/", data)
    assert asked.status_code == 200
    assert form(asked).cssselect("textarea[name=reason]")
    # Without a reason: asked again, nothing changes.
    empty = editor_client.post("/admin/blog/post/", {**data, "apply": "1"})
    assert form(empty).cssselect(".errorlist")
    assert Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED
    done = editor_client.post(
        "/admin/blog/post/",
        {**data, "apply": "1", "reason": "The documents were forged."},
    )
    assert done.status_code == 302
    post = Post.objects.get(pk=post.pk)
    assert post.status == Post.Status.RETRACTED
    assert post.retracted_at and post.retraction_reason == "The documents were forged."
    client.logout()
    assert client.get(post.get_absolute_url()).status_code == 410


def test_author_cannot_retract_even_forged(author_client):
    mine = make_post(author=author_client.user)
    theirs = make_post()
    offered = {
        o.get("value")
        for o in form(author_client.get("/admin/blog/post/")).cssselect(
            "select[name=action] option"
        )
    }
    assert "retract" not in offered
    for post in (mine, theirs):
        before = snapshot(post)
        author_client.post(
            "/admin/blog/post/",
            {
                "action": "retract",
                "_selected_action": [post.pk],
                "apply": "1",
                "reason": "Forged.",
            },
        )
        assert snapshot(post) == before


def test_the_status_menu_cannot_retract_without_a_reason(editor_client):
    """Retracting is the action's (it asks why): a forged status=retracted in
    the change form is a form error."""
    post = make_post()
    before = snapshot(post)
    response = editor_client.post(
        f"/admin/blog/post/{post.pk}/change/",
        change_data(post, status="retracted"),
    )
    assert response.status_code == 200 and form(response).cssselect(".errorlist")
    assert snapshot(post) == before


# -- Pins ------------------------------------------------------------------


def test_editor_pins_a_story_and_a_fifth_pin_is_refused(editor_client):
    later = timezone.now() + timedelta(hours=3)
    for _ in range(MAX_PINS):
        make_post(pinned_home_until=later)
    post = make_post()
    url = f"/admin/blog/post/{post.pk}/change/"
    response = editor_client.post(url, {**change_data(post), **pins(later)})
    assert response.status_code == 200
    assert "already pinned" in response.content.decode()
    assert Post.objects.get(pk=post.pk).pinned_home_until is None
    Post.objects.exclude(pk=post.pk).update(pinned_home_until=None)
    response = editor_client.post(url, {**change_data(post), **pins(later, 2)})
    assert response.status_code == 302, response.content.decode()[:3000]
    post = Post.objects.get(pk=post.pk)
    assert post.pinned_home_until is not None and post.pin_position == 2


def test_author_cannot_pin_even_forged(author_client):
    post = make_post(status=Post.Status.DRAFT, author=author_client.user)
    page = form(author_client.get(f"/admin/blog/post/{post.pk}/change/"))
    assert not page.cssselect("[name=pinned_home_until_0], [name=pin_position]")
    before = snapshot(post)
    later = timezone.now() + timedelta(hours=3)
    response = author_client.post(
        f"/admin/blog/post/{post.pk}/change/",
        {**change_data(post), **pins(later, 1), "pinned_section_until_0": "2030-01-01"},
    )
    assert response.status_code == 302
    assert snapshot(post) == before


def test_superuser_corrects_retracts_and_pins(client):
    user = make_staff()
    client.force_login(user)
    post = make_post(age=timedelta(days=1))
    url = f"/admin/blog/post/{post.pk}/change/"
    later = timezone.now() + timedelta(hours=1)
    response = client.post(url, with_correction({**change_data(post), **pins(later)}))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Correction.objects.filter(post=post).count() == 1
    client.post(
        "/admin/blog/post/",
        {
            "action": "retract",
            "_selected_action": [post.pk],
            "apply": "1",
            "reason": "Wrong.",
        },
    )
    post = Post.objects.get(pk=post.pk)
    assert post.status == Post.Status.RETRACTED and post.pinned_home_until is None
