"""blog/author_admin.py: profiles in the admin, and bylines edited on the post."""

import pytest
from django.test import Client

from blog.authors import Author
from blog.models import Post
from tests.factories import make_author, make_section, make_user
from tests.test_admin import BYLINES_NONE, form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def writer_client():
    """A staff user with no model permissions at all, and their profile."""
    user = make_user(is_staff=True)
    profile = make_author("Wren Writer", slug="wren", user=user)
    client = Client()
    client.force_login(user)
    client.profile = profile
    return client


def profile_form(author, **overrides):
    return {
        "display_name": author.display_name,
        "slug": author.slug,
        "bio": author.bio,
        "links": author.links,
        **overrides,
    }


def test_staff_edit_their_own_profile(writer_client):
    """Any staff user may open and change their own profile."""
    url = f"/admin/blog/author/{writer_client.profile.pk}/change/"
    assert writer_client.get(url).status_code == 200
    response = writer_client.post(
        url, profile_form(writer_client.profile, bio="Covers the courts.")
    )
    assert response.status_code == 302
    writer_client.profile.refresh_from_db()
    assert writer_client.profile.bio == "Covers the courts."


def test_staff_cannot_edit_someone_elses_profile(writer_client):
    """Another writer's profile is neither listed nor editable."""
    other = make_author("Other Writer", slug="other", bio="Theirs.")
    url = f"/admin/blog/author/{other.pk}/change/"
    assert writer_client.get(url).status_code in {302, 403, 404}
    writer_client.post(url, profile_form(other, bio="Mine now."))
    other.refresh_from_db()
    assert other.bio == "Theirs."
    listing = writer_client.get("/admin/blog/author/").content.decode()
    assert "Wren Writer" in listing and "Other Writer" not in listing


def test_a_writer_cannot_hand_their_profile_to_another_account(writer_client):
    """Only an editor ties a profile to a user: the field is read-only for others."""
    other_user = make_user()
    url = f"/admin/blog/author/{writer_client.profile.pk}/change/"
    writer_client.post(url, profile_form(writer_client.profile, user=other_user.pk))
    assert Author.objects.get(pk=writer_client.profile.pk).user != other_user


def test_editor_sets_co_bylines_in_order(staff_client):
    """Bylines entered on the post are saved in the order given."""
    ada, bob = make_author("Ada", slug="ada"), make_author("Bob", slug="bob")
    data = form_data(section=make_section(), author=staff_client.user.pk)
    data.update(
        {
            "bylines-TOTAL_FORMS": "2",
            "bylines-0-author": bob.pk,
            "bylines-0-position": "0",
            "bylines-1-author": ada.pk,
            "bylines-1-position": "1",
        }
    )
    response = staff_client.post("/admin/blog/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(slug=data["slug"])
    assert [b.author.slug for b in post.bylines.all()] == ["bob", "ada"]


def test_a_post_saved_without_bylines_credits_its_owner(staff_client):
    """Left empty, the byline is the post's owner."""
    data = {**form_data(section=make_section()), **BYLINES_NONE}
    data["author"] = staff_client.user.pk
    assert staff_client.post("/admin/blog/post/add/", data).status_code == 302
    post = Post.objects.get(slug=data["slug"])
    assert [b.author.user for b in post.bylines.all()] == [staff_client.user]
