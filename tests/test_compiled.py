"""blog/compiled.py: querysets compiled once, run with each request's arguments."""

import pytest

from blog import compiled
from blog.listings import _due_updates, _public_article
from blog.models import Post
from tests.factories import make_post, make_tag, make_update

pytestmark = pytest.mark.django_db


def test_rows_equal_what_the_orm_returns_for_each_argument():
    """One compiled article query serves every slug: each gets its own post,
    with the same columns, joined section and author, and annotations as the
    ORM's own evaluation of the queryset."""
    tag = make_tag("Energy")
    first, second = make_post("First", tags=[tag]), make_post("Second")
    for post in (first, second, first):
        got = compiled.first_row("test article", _public_article, post.slug)
        want = _public_article(post.slug).first()
        assert got.pk == want.pk == post.pk
        attached = {"_prefetched_objects_cache", "_tags_attached"}  # by _fetch_all
        assert got.__dict__.keys() == want.__dict__.keys() - attached
        assert got.title == want.title and got.tag_list == want.tag_list
        assert got.section.name == want.section.name
        assert got.author.username == want.author.username
    assert compiled.first_row("test article", _public_article, "nothing") is None
    vendor = compiled.connection.vendor
    assert compiled._templates[(vendor, "test article", (str,))] is not None


def test_integer_arguments_and_lists():
    """Integer arguments (a post's id) are filled in too; lists keep order."""
    post, other = make_post(), make_post()
    older, newer = make_update(post, body="Older."), make_update(post, body="Newer.")
    make_update(other, body="Elsewhere.")
    got = compiled.rows("test updates", _due_updates, post.pk)
    assert [u.pk for u in got] == [u.pk for u in _due_updates(post.pk)]
    assert {u.pk for u in got} == {older.pk, newer.pk}
    assert [u.pk for u in compiled.rows("test updates", _due_updates, other.pk)] != [
        u.pk for u in got
    ]


def test_a_query_whose_arguments_cannot_be_found_is_compiled_each_time():
    """A build whose stand-ins do not reach the SQL verbatim (here: changed
    before use) is not templated, and still answers correctly."""
    post = make_post("Case")

    def build(slug):
        return Post.objects.filter(slug=slug.lower()[:0] + post.slug)

    assert compiled.first_row("test odd", build, "whatever").pk == post.pk
    assert compiled._templates[(compiled.connection.vendor, "test odd", (str,))] is None


def test_a_query_with_a_time_of_its_own_is_never_templated():
    """A filter on timezone.now() would freeze that time if its SQL were
    reused: such a query is compiled per request, and still answers."""
    from django.utils import timezone

    post = make_post("Due")

    def build(slug):
        return Post.objects.filter(slug=slug, published_at__lte=timezone.now())

    assert compiled.first_row("test clock", build, post.slug).pk == post.pk
    key = (compiled.connection.vendor, "test clock", (str,))
    assert compiled._templates[key] is None
    assert compiled.memo_rows(("test clock memo",), lambda: build(post.slug))
    assert compiled._memo[(compiled.connection.vendor, "test clock memo")][0] is None


def test_memo_values_are_the_orms_tuples_from_sql_compiled_once(
    django_assert_num_queries,
):
    """memo_values returns what `values_list()` returns (tuples, aware times,
    Django's converters applied), from SQL compiled once per key: later runs
    read the rows again (a new post shows) without composing the queryset."""
    make_post("First")
    composed = []

    def build():
        composed.append(1)
        return (
            Post.objects.published()
            .order_by("id")
            .values_list("id", "title", "published_at")
        )

    key = ("test values", id(build))
    assert compiled.memo_values(key, build) == list(build())
    make_post("Second")
    composed.clear()
    with django_assert_num_queries(1):
        got = compiled.memo_values(key, build)
    assert not composed
    assert [row[1] for row in got] == ["First", "Second"]
    assert got == list(build())
    assert got[0][2].tzinfo is not None
