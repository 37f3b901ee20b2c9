"""blog/models.py: what is public, how posts render and keep their addresses."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from blog.models import OldSlug, Post, SiteState, StoryUpdate, _opening_words, _words
from tests.factories import make_post, make_section, make_tag, make_update

pytestmark = pytest.mark.django_db


def test_published_includes_only_live_posts():
    """published() is status published and published_at <= now; nothing else."""
    live = make_post()
    make_post(status=Post.Status.DRAFT)
    make_post(age=-timedelta(hours=1))  # scheduled
    make_post(status=Post.Status.DRAFT, age=-timedelta(hours=1))
    assert list(Post.objects.published()) == [live]


def test_scheduled_post_becomes_public_when_due():
    """A future published_at goes live by itself: no job, just time passing."""
    post = make_post(age=-timedelta(seconds=2))
    assert not Post.objects.published().filter(pk=post.pk).exists()
    Post.objects.filter(pk=post.pk).update(
        published_at=timezone.now() - timedelta(seconds=1)
    )
    assert Post.objects.published().filter(pk=post.pk).exists()


def test_state_names_draft_scheduled_and_live():
    """state tells editors draft, scheduled or live."""
    assert make_post(status=Post.Status.DRAFT).state == "draft"
    assert make_post(age=-timedelta(days=1)).state == "scheduled"
    assert make_post().state == "live"


def test_in_section_and_tagged_chain():
    """in_section() and tagged() chain; tagged() wants every tag given."""
    world, economy = make_section("World"), make_section("Economy")
    iran, russia = make_tag("Iran"), make_tag("Russia")
    both = make_post(section=world, tags=[iran, russia])
    make_post(section=world, tags=[iran])
    make_post(section=economy, tags=[iran, russia])
    assert list(Post.objects.published().in_section(world).tagged(iran, russia)) == [
        both
    ]
    assert Post.objects.published().tagged("iran", "russia").count() == 2


def test_ordering_is_newest_first():
    """Posts come newest first."""
    old = make_post(age=timedelta(days=2))
    new = make_post(age=timedelta(hours=1))
    assert list(Post.objects.published()) == [new, old]


def test_save_renders_markdown_toc_and_word_count():
    """Saving renders the body once into HTML, outline and counts."""
    post = make_post(
        body="Intro words here.\n\n## Part one\n\nText.\n\n## Part two\n\nMore."
    )
    assert '<h2 id="part-one">' in post.body_html
    assert [entry["id"] for entry in post.toc] == ["part-one", "part-two"]
    assert post.word_count == 9
    assert post.reading_minutes == 1


def test_empty_summary_is_taken_from_the_body():
    """Without a summary the standfirst is the start of the body, as plain text."""
    post = make_post(summary="", body="**Bold** start of the story. " + "word " * 100)
    assert post.summary.startswith("Bold start of the story.")
    assert post.summary.endswith("…")


def test_slug_is_unique_in_the_database():
    """Two posts cannot share a slug: a database constraint, not just a form rule."""
    make_post(slug="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_post(slug="same")


def test_lead_image_needs_alt_text():
    """A lead image without alt text is refused by a database constraint."""
    post = make_post()
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(
            lead_image="lead/x.jpg", lead_image_alt=""
        )


def test_section_with_posts_cannot_be_deleted():
    """Deleting a section that has posts is refused (PROTECT)."""
    from django.db.models import ProtectedError

    post = make_post()
    with pytest.raises(ProtectedError):
        post.section.delete()


def test_url_uses_the_publication_date():
    """The article URL is /yyyy/mm/dd/slug/ from published_at."""
    post = make_post(slug="hello", published_at=datetime(2026, 3, 4, 10, tzinfo=UTC))
    assert post.get_absolute_url() == "/2026/03/04/hello/"


def test_changing_the_slug_remembers_the_old_one():
    """A renamed post keeps its old slug as a redirect; renaming back clears it."""
    post = make_post(slug="first")
    post = Post.objects.get(pk=post.pk)
    post.slug = "second"
    post.save()
    assert list(OldSlug.objects.values_list("slug", flat=True)) == ["first"]
    post.slug = "first"
    post.save()
    assert list(OldSlug.objects.values_list("slug", flat=True)) == ["second"]


def test_guid_survives_slug_date_and_section_changes():
    """The feed id depends on the post's id and creation date only."""
    post = make_post()
    guid = post.guid()
    post.slug = "another"
    post.published_at -= timedelta(days=3)
    post.section = make_section()
    post.save()
    assert post.guid() == guid
    assert guid.startswith("tag:localhost,") and guid.endswith(f":post:{post.pk}")


def test_related_posts_rank_by_shared_tags_in_one_query(django_assert_num_queries):
    """Related posts share tags, most shared first, computed in one query."""
    a, b, c = make_tag("A"), make_tag("B"), make_tag("C")
    post = make_post(tags=[a, b, c])
    one = make_post(tags=[a], age=timedelta(minutes=1))
    three = make_post(tags=[a, b, c], age=timedelta(days=3))
    make_post(tags=[])
    post = Post.objects.prefetch_related("tags").get(pk=post.pk)
    with django_assert_num_queries(1):
        related = list(Post.objects.published().related_to(post))
    assert related == [three, one]


def test_story_updates_published_only_when_due_and_post_public():
    """Story updates show when due and their post is public."""
    post = make_post()
    due = make_update(post)
    make_update(post, age=-timedelta(hours=1))
    draft = make_post(status=Post.Status.DRAFT)
    make_update(draft)
    assert list(StoryUpdate.objects.published()) == [due]


def test_story_update_moves_its_posts_updated_time():
    """Adding an update makes the story itself newer (feeds and caches notice)."""
    post = make_post()
    before = Post.objects.get(pk=post.pk).updated_at
    make_update(post)
    assert Post.objects.get(pk=post.pk).updated_at > before


def test_was_updated_ignores_backdated_imports():
    """A post created after its publication time has not been 'updated'."""
    post = make_post(age=timedelta(days=30))
    assert not post.was_updated
    Post.objects.filter(pk=post.pk).update(
        updated_at=timezone.now() + timedelta(hours=1)
    )
    assert Post.objects.get(pk=post.pk).was_updated


@pytest.mark.parametrize(
    "change",
    ["unpublish", "delete", "move_section", "untag", "rename_tag", "rename_section"],
)
def test_removals_and_renames_touch_site_state(change):
    """What leaves no newer row behind moves SiteState.changed_at."""
    tag = make_tag("Iran")
    post = make_post(tags=[tag])
    post = Post.objects.get(pk=post.pk)
    SiteState.objects.filter(pk=1).update(changed_at=timezone.now() - timedelta(days=1))
    before = SiteState.objects.get(pk=1).changed_at
    if change == "unpublish":
        post.status = Post.Status.DRAFT
        post.save()
    elif change == "delete":
        post.delete()
    elif change == "move_section":
        post.section = make_section()
        post.save()
    elif change == "untag":
        post.tags.remove(tag)
    elif change == "rename_tag":
        tag.name = "Persia"
        tag.save()
    elif change == "rename_section":
        post.section.name = "Elsewhere"
        post.section.save()
    assert SiteState.objects.get(pk=1).changed_at > before


def test_editing_a_live_post_does_not_touch_site_state():
    """An ordinary edit moves only the post's own updated_at."""
    post = Post.objects.get(pk=make_post().pk)
    SiteState.objects.filter(pk=1).update(changed_at=timezone.now() - timedelta(days=1))
    before = SiteState.objects.get(pk=1).changed_at
    post.title = "Edited"
    post.save()
    assert SiteState.objects.get(pk=1).changed_at == before


def test_latest_per_section_in_one_query(django_assert_num_queries):
    """The newest three public posts of each section, in section order, one query."""
    world, economy = (
        make_section("World", position=1),
        make_section("Economy", position=2),
    )
    world_posts = [
        make_post(section=world, age=timedelta(hours=h)) for h in range(1, 6)
    ]
    economy_post = make_post(section=economy)
    make_post(section=economy, status=Post.Status.DRAFT)
    with django_assert_num_queries(1):
        latest = list(Post.objects.latest_per_section(3))
    assert latest == [*world_posts[:3], economy_post]


def test_neighbours_in_section():
    """Previous and next are the adjacent public posts of the same section."""
    world = make_section("World")
    old = make_post(section=world, age=timedelta(days=3))
    mid = make_post(section=world, age=timedelta(days=2))
    new = make_post(section=world, age=timedelta(days=1))
    make_post(section=world, age=timedelta(days=2, hours=12), status=Post.Status.DRAFT)
    make_post(age=timedelta(days=2, hours=6))
    around = Post.objects.published().around
    assert ids(around(mid)[:2]) == [old.pk, new.pk]
    assert ids(around(old)[:2]) == [None, mid.pk]


def ids(posts) -> list:
    return [post and post.pk for post in posts]


def test_around_judges_due_posts_by_the_database_clock(django_assert_num_queries):
    """around() holds no time of its own: its SQL and parameters are the same
    on every run (so PostgreSQL prepares it), and a post scheduled for later
    is neither a neighbour nor related until its time comes. Its posts carry
    what the article page shows: title, address, section name."""
    from django.test.utils import CaptureQueriesContext

    world, a = make_section("World"), make_tag("A")
    old = make_post("Old", section=world, tags=[a], age=timedelta(days=2))
    mid = make_post(section=world, tags=[a], age=timedelta(days=1))
    make_post(section=world, tags=[a], age=-timedelta(hours=1))  # scheduled
    mid = Post.objects.with_tags().get(pk=mid.pk)
    runs = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            previous, following, related = Post.objects.around(mid)
        runs.append(queries.captured_queries[0]["sql"])
    assert runs[0] == runs[1]
    assert (previous.pk, following, ids(related)) == (old.pk, None, [old.pk])
    assert (previous.title, previous.section.name) == ("Old", "World")
    assert previous.get_absolute_url() == old.get_absolute_url()
    assert previous.published_at == old.published_at


def test_around_reads_neighbours_and_related_in_one_query(django_assert_num_queries):
    """Previous and next in the section and related posts come in one query."""
    section, a, b = make_section(), make_tag("A"), make_tag("B")
    old = make_post(section=section, tags=[a], age=timedelta(days=3))
    mid = make_post(section=section, tags=[a, b], age=timedelta(days=2))
    new = make_post(section=section, age=timedelta(days=1))
    both = make_post(tags=[a, b], age=timedelta(days=5))
    mid = Post.objects.with_tags().get(pk=mid.pk)
    with django_assert_num_queries(1):
        previous, following, related = Post.objects.published().around(mid)
    assert ids([previous, following]) == [old.pk, new.pk]
    assert ids(related) == [both.pk, old.pk]


def test_around_candidates_are_each_tags_newest_public_posts():
    """Related candidates are the posts most recently published with each tag
    (`per_tag` of them, from the tag's public index): drafts, scheduled posts
    and posts tagged lately but published long ago do not take their places."""
    a = make_tag("A")
    post = make_post(tags=[a], age=timedelta(days=1))
    older = make_post(tags=[a], age=timedelta(days=3))
    newer = make_post(tags=[a], age=timedelta(days=2))
    for _ in range(3):
        make_post(tags=[a], status=Post.Status.DRAFT)
    make_post(tags=[a], age=-timedelta(hours=1))  # scheduled
    oldest = make_post(age=timedelta(days=30))
    oldest.tags.add(a)  # tagged last, published first
    post = Post.objects.with_tags().get(pk=post.pk)
    _, _, related = Post.objects.around(post, per_tag=3)
    assert ids(related) == [newer.pk, older.pk]


def test_around_checks_a_fixed_number_of_candidates():
    """Whatever the size of the archive, around() reads at most `candidates`
    related posts' rows besides the neighbours: those found in the most of its
    tags' lists, newest first; among them the most shared tags (counted on
    each candidate) rank first, then the newest."""
    a, b, c = make_tag("A"), make_tag("B"), make_tag("C")
    post = make_post(tags=[a, b, c], age=timedelta(hours=1))
    recent = [make_post(tags=[a], age=timedelta(hours=2 + h)) for h in range(4)]
    two = make_post(tags=[a, b], age=timedelta(days=2))
    three = make_post(tags=[a, b, c], age=timedelta(days=3))
    post = Post.objects.with_tags().get(pk=post.pk)
    _, _, related = Post.objects.around(post, candidates=3)
    assert ids(related) == [three.pk, two.pk, recent[0].pk]
    _, _, related = Post.objects.around(post)
    assert ids(related) == [three.pk, two.pk, recent[0].pk, recent[1].pk]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")
def test_around_seeks_the_previous_post_whatever_came_after_it():
    """The previous post in the section is one seek in its index, however many
    posts the section published since: with two upper bounds on the date (the
    article's and the clock's) SQLite walked every newer post down to the
    article (1.3 ms at 100,000 posts, twice a query)."""
    section = make_section()
    make_post(section=section, age=timedelta(days=31))
    mid = make_post(section=section, age=timedelta(days=30))
    mid = Post.objects.with_tags().get(pk=mid.pk)

    def steps():
        count = [0]

        def tick():
            count[0] += 1

        Post.objects.around(mid)  # compiled and cached first
        connection.connection.set_progress_handler(tick, 10)
        try:
            Post.objects.around(mid)
        finally:
            connection.connection.set_progress_handler(None, 10)
        return count[0]

    before = steps()
    Post.objects.bulk_create(
        Post(
            title=f"Newer {n}",
            slug=f"newer-{n}",
            section=section,
            author=mid.author,
            status=Post.Status.PUBLISHED,
            published_at=timezone.now() - timedelta(days=29, minutes=n),
        )
        for n in range(300)
    )
    assert steps() < before + 50


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")
def test_around_reads_candidates_from_its_index_not_their_rows():
    """On SQLite the candidates' status, date, section, title and slug come
    from post_around_idx: their rows keep those after the long texts; each
    tag's candidates come from tagged_public_idx alone."""
    from django.test.utils import CaptureQueriesContext

    a = make_tag("A")
    post = make_post(tags=[a], age=timedelta(days=2))
    make_post(tags=[a], age=timedelta(days=1))
    post = Post.objects.with_tags().get(pk=post.pk)
    with CaptureQueriesContext(connection) as queries:
        Post.objects.published().around(post)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + queries.captured_queries[0]["sql"])
        plan = [row[-1] for row in cursor.fetchall()]
    assert any("COVERING INDEX post_around_idx" in step for step in plan)
    assert any("COVERING INDEX tagged_public_idx" in step for step in plan)
    assert not any(step.startswith("SEARCH p USING INTEGER") for step in plan)


def test_with_tags_serves_tags_without_a_query(django_assert_num_queries):
    """Posts read with_tags() answer tags.all() from the same row, by name."""
    make_post(tags=[make_tag("Zulu"), make_tag("Alpha")])
    with django_assert_num_queries(1):
        post = Post.objects.with_tags().get()
        assert [tag.name for tag in post.tags.all()] == ["Alpha", "Zulu"]
        assert post.tags.all()[0].get_absolute_url() == "/tag/alpha/"


def test_with_tags_reads_each_tags_id_name_and_slug():
    """with_tags() gives every post its tags as {id, name, slug} rows (in no
    order), and a post without tags none."""
    alpha, zulu = make_tag("Zulu & co"), make_tag("Alpha")
    tagged, bare = make_post(tags=[alpha, zulu]), make_post()
    posts = {post.pk: post for post in Post.objects.with_tags()}
    assert sorted(posts[tagged.pk].tag_list, key=lambda tag: tag["id"]) == sorted(
        ({"id": tag.pk, "name": tag.name, "slug": tag.slug} for tag in (alpha, zulu)),
        key=lambda tag: tag["id"],
    )
    assert not posts[bare.pk].tag_list


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's SQL")
def test_with_tags_looks_each_tag_up_once_on_postgresql():
    """On PostgreSQL each tag row is looked up once for its whole JSON object,
    unsorted: a lookup per column (each sorted by the tag's default ordering)
    cost a 20-item feed 0.4 ms of database time (issue 8)."""
    sql = str(Post.objects.with_tags().query)
    assert sql.count('FROM "blog_tag"') == 1
    assert 'ORDER BY U0."name"' not in sql and "ORDER BY 1" not in sql


def test_toc_tree_nests_subsections_under_their_section():
    """The table of contents reaches templates as a tree, not a flat list."""
    post = make_post(body="## One\n\n### One a\n\n### One b\n\n## Two\n\ntext")
    tree = post.toc_tree
    assert [entry["title"] for entry in tree] == ["One", "Two"]
    assert [child["title"] for child in tree[0]["children"]] == ["One a", "One b"]
    assert tree[1]["children"] == []


def test_modified_is_the_later_of_publication_and_last_save():
    """Post.modified: one definition for feeds, sitemaps, JSON-LD and bylines."""
    post = make_post(age=timedelta(days=1))
    assert post.modified == post.updated_at
    post.published_at = timezone.now() + timedelta(days=1)
    assert post.modified == post.published_at


@pytest.mark.django_db
@pytest.mark.parametrize(
    "summary, body",
    [
        ("", "The talks resumed on Monday. " + "More words follow here. " * 30),
        ("The talks resumed on Monday.", "The talks resumed on Monday.\n\nThen more."),
        ('The "talks" resumed', "The *“talks”* resumed on Monday."),
    ],
    ids=["taken-from-body", "pasted-first-paragraph", "pasted-with-other-quotes"],
)
def test_no_standfirst_when_the_body_starts_with_the_summary(summary, body):
    """A summary the body starts with (taken from it or pasted) is no standfirst."""
    assert make_post(summary=summary, body=body).standfirst == ""


@pytest.mark.django_db
def test_a_written_summary_is_the_standfirst():
    """A summary that says something of its own is shown as the standfirst."""
    post = make_post(
        summary="Delegations meet again after a year.", body="The talks resumed."
    )
    assert post.standfirst == "Delegations meet again after a year."


@pytest.mark.parametrize(
    "text",
    [
        "",
        "One two, three! Four",
        "İstanbul İzmir straße STRASSE — «quoted» words, more words here",
        "ǅemal ﬁne ß İİİ x",
    ],
)
def test_opening_words_equal_the_first_of_all_words(text):
    """The standfirst check folds only the body's opening, with the same words
    as folding all of it (folding can split a word: İ is i plus a dot)."""
    for n in range(12):
        assert _opening_words(text, n) == _words(text)[:n]
