"""blog/tag_moves.py and blog/tag_admin.py: renamed and merged tags keep
their addresses answering, with a 301 to the surviving tag."""

import pytest

from blog.models import Tag, TaggedPost
from blog.tag_moves import merge_tags
from tests.factories import make_post, make_tag

pytestmark = pytest.mark.django_db


def moved_to(client, url):
    response = client.get(url)
    assert response.status_code == 301, (url, response.status_code)
    return response["Location"]


def test_a_renamed_tag_redirects_its_pages_feeds_and_intersections(client):
    """After a slug change, the old tag page, each feed and intersections
    naming it answer 301 to the same thing under the new slug."""
    tag, zeta = make_tag("Persia"), make_tag("Zeta")
    make_post(tags=[tag, zeta])
    tag.name, tag.slug = "Iran", "iran"
    tag.save()
    assert moved_to(client, "/tag/persia/") == "/tag/iran/"
    assert moved_to(client, "/tag/persia/feed/") == "/tag/iran/feed/"
    assert moved_to(client, "/tag/persia/feed/atom/") == "/tag/iran/feed/atom/"
    assert moved_to(client, "/tag/persia/feed/json/") == "/tag/iran/feed/json/"
    assert moved_to(client, "/tag/persia+zeta/") == "/tag/iran+zeta/"
    assert client.get("/tag/iran/").status_code == 200


def test_merged_tags_move_their_posts_and_redirect(client):
    """Merging moves every post onto the kept tag (once per post), deletes
    the others and sends their addresses, even older ones, to the kept tag."""
    keep, drop = make_tag("Energy"), make_tag("Oil")
    both, only_drop = make_post(tags=[keep, drop]), make_post(tags=[drop])
    drop.slug = "oil-and-gas"
    drop.save()  # an older slug of the merged tag must follow it
    assert merge_tags(keep, [drop]) == 1
    assert not Tag.objects.filter(pk=drop.pk).exists()
    for post in (both, only_drop):
        assert [
            t.slug for t in Tag.objects.filter(tagged_posts__content_object=post)
        ] == ["energy"]
    assert TaggedPost.objects.filter(tag=keep).count() == 2
    assert moved_to(client, "/tag/oil-and-gas/") == "/tag/energy/"
    assert moved_to(client, "/tag/oil/feed/") == "/tag/energy/feed/"
    assert moved_to(client, "/tag/energy+oil/") == "/tag/energy/"


def test_a_reused_slug_belongs_to_its_new_tag(client):
    """A new tag taking an old slug gets the address back: no redirect."""
    old = make_tag("Persia")
    old.slug = "iran"
    old.save()
    new = make_tag("Persia history", slug="persia")
    make_post(tags=[new])
    assert client.get("/tag/persia/").status_code == 200


def test_unknown_tags_are_still_404(client):
    """A slug that never existed is 404, alone or in an intersection."""
    make_tag("Iran")
    assert client.get("/tag/nothing/").status_code == 404
    assert client.get("/tag/iran+nothing/").status_code == 404


def test_editor_merges_tags_from_the_admin(staff_client, client):
    """The merge action asks which tag to keep, then merges into it."""
    keep, drop = make_tag("Energy"), make_tag("Oil")
    make_post(tags=[drop])
    selected = {"action": "merge_tags", "_selected_action": [keep.pk, drop.pk]}
    form = staff_client.post("/admin/blog/tag/", selected)
    assert form.status_code == 200 and b'name="target"' in form.content
    done = staff_client.post(
        "/admin/blog/tag/", {**selected, "target": keep.pk, "apply": "1"}
    )
    assert done.status_code == 302
    assert list(Tag.objects.values_list("slug", flat=True)) == ["energy"]
    assert moved_to(client, "/tag/oil/") == "/tag/energy/"


def test_editor_renames_a_tag_in_its_change_form(staff_client, client):
    """Changing name and slug in the admin is a rename: old links follow."""
    tag = make_tag("Persia")
    make_post(tags=[tag])
    response = staff_client.post(
        f"/admin/blog/tag/{tag.pk}/change/",
        {"name": "Iran", "slug": "iran", "description": ""},
    )
    assert response.status_code == 302
    assert moved_to(client, "/tag/persia/") == "/tag/iran/"


def test_editor_renames_a_tag_with_the_rename_action(staff_client, client):
    """The rename action asks for the new name (and slug), renames the tag,
    and its old page and feeds answer 301 to the new address."""
    tag = make_tag("Persia")
    make_post(tags=[tag])
    selected = {"action": "rename_tag", "_selected_action": [tag.pk]}
    form = staff_client.post("/admin/blog/tag/", selected)
    assert form.status_code == 200 and b'name="name"' in form.content
    done = staff_client.post(
        "/admin/blog/tag/", {**selected, "name": "Iran", "apply": "1"}
    )
    assert done.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.slug) == ("Iran", "iran")
    assert moved_to(client, "/tag/persia/") == "/tag/iran/"
    assert moved_to(client, "/tag/persia/feed/") == "/tag/iran/feed/"


def test_rename_action_refuses_a_name_in_use_and_several_tags(staff_client):
    """Renaming onto another tag's name or slug is a form error (merge is the
    tool for that); selecting two tags renames nothing."""
    tag, other = make_tag("Persia"), make_tag("Iran")
    selected = {"action": "rename_tag", "_selected_action": [tag.pk]}
    response = staff_client.post(
        "/admin/blog/tag/", {**selected, "name": "iran", "apply": "1"}
    )
    assert response.status_code == 200 and b"merge them instead" in response.content
    both = {"action": "rename_tag", "_selected_action": [tag.pk, other.pk]}
    response = staff_client.post(
        "/admin/blog/tag/", {**both, "name": "X", "apply": "1"}
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "Persia"
