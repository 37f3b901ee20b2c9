"""blog/generating.py: seeded newsroom articles, rendered exactly as Post.save would."""

from blog.generating import SECTIONS, Newsroom, tag_names, zipf_weights
from blog.markup import render_markdown


def test_same_seed_and_number_give_the_same_article():
    """Articles are reproducible, so batches can be built in any order."""
    a, b = Newsroom(seed=3, paragraphs=50), Newsroom(seed=3, paragraphs=50)
    assert a.post(7) == b.post(7)
    assert a.post(7).title != a.post(8).title or a.post(7).body != a.post(8).body


def test_composed_rendering_equals_rendering_the_whole_body():
    """body_html, text, outline and word count are exactly render_markdown(body)'s."""
    newsroom = Newsroom(seed=1, paragraphs=200, asides=40)
    for number in range(40):
        post = newsroom.post(number)
        rendered = render_markdown(post.body)
        assert post.body_html == rendered.html
        assert post.body_text == rendered.text
        assert post.toc == rendered.toc
        assert post.word_count == rendered.word_count


def test_articles_are_about_1200_words_in_subsections():
    """Each body runs 1,200 words or more, in at least three ## sub-sections."""
    newsroom = Newsroom(seed=2, paragraphs=100)
    for number in range(20):
        post = newsroom.post(number)
        assert 1200 <= post.word_count <= 1800
        assert sum(entry["level"] == 2 for entry in post.toc) >= 3
        assert post.body.count("\n## ") == sum(e["level"] == 2 for e in post.toc)


def test_tags_and_sections_follow_a_zipf_like_curve():
    """The most common tag and section are far more frequent than the rarest."""
    newsroom = Newsroom(seed=4, paragraphs=50)
    posts = [newsroom.post(n) for n in range(400)]
    tag_uses = [sum(i in p.tags for p in posts) for i in range(len(tag_names()))]
    section_uses = [sum(p.section == i for p in posts) for i in range(len(SECTIONS))]
    assert tag_uses[0] > 5 * max(1, tag_uses[-1])
    assert section_uses[0] > 2 * section_uses[-1]
    assert all(2 <= len(p.tags) <= 4 for p in posts)


def test_zipf_weights_are_cumulative():
    """Weights rise by 1/rank**s: the first step is the largest."""
    weights = zipf_weights(3, 1.0)
    assert weights == [1.0, 1.5, 1.5 + 1 / 3]
