"""Generated newsroom content, for `manage.py generate_posts` and `make bench`.

Pure functions, no database: a seeded random generator turns a post number
into a plausible article (headline, standfirst, ~1,200 words of Markdown in
`##` sub-sections, sometimes a list, a quote or a `###`), its section and
tags, and a few story updates. The same seed and number always give the same
article, so batches can be built in worker processes in any order.

The text is assembled from our own word lists and sentence templates below;
it reads like wire copy at a glance and is nonsense on a second look, which is
all a benchmark or a scale test needs. Sections and tags are drawn with
Zipf-like weights, as on a real site: a few desks and topics carry most posts.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from functools import cache

from blog.markup import Rendered, render_markdown

SECTIONS = (
    ("World", "Diplomacy, conflict and the alliances that shape them."),
    ("Economy", "Markets, trade, energy and the policies behind the prices."),
    ("Politics", "Parliaments, parties, elections and the people who run them."),
    ("Science", "Research, health and technology, explained without the hype."),
    ("Technology", "Networks, software and the companies that build them."),
    ("Climate", "Weather, emissions and the cost of adapting to both."),
    ("Culture", "Books, ideas and the places where people meet them."),
    ("Opinion", "Arguments from our columnists and guest writers."),
)

PLACES = (
    "Iran", "Russia", "Ukraine", "Turkey", "Egypt", "Kenya", "Nigeria", "Brazil",
    "Argentina", "Chile", "Mexico", "Canada", "Japan", "India", "Pakistan",
    "Indonesia", "Vietnam", "Australia", "Norway", "Poland", "Germany", "France",
    "Italy", "Spain", "Greece", "Morocco", "Ethiopia", "Kazakhstan", "Georgia",
    "Armenia", "Azerbaijan", "Iraq", "Jordan", "Qatar", "Oman", "Sudan", "Peru",
    "Colombia", "Finland", "Estonia", "Romania", "Serbia", "Ghana", "Senegal",
    "Tanzania", "Thailand", "Malaysia", "Philippines", "Bangladesh", "Nepal",
)  # fmt: skip
TOPICS = (
    "Energy", "Sanctions", "Elections", "Shipping", "Inflation", "Interest rates",
    "Grain", "Oil", "Gas", "Nuclear talks", "Drought", "Floods", "Heatwaves",
    "Vaccines", "Public health", "Housing", "Labour", "Tariffs", "Pipelines",
    "Ports", "Railways", "Central banks", "Budgets", "Debt", "Courts",
    "Press freedom", "Migration", "Fisheries", "Mining", "Batteries",
    "Semiconductors", "Satellites", "Cybersecurity", "Data protection",
    "Universities", "Museums", "Festivals", "Literature", "Film", "Football",
    "Explainer", "Analysis", "Interview", "Live", "Long read",
)  # fmt: skip
ACTORS = (
    "the foreign ministry", "the central bank", "the finance minister",
    "opposition leaders", "port officials", "the electoral commission",
    "the health ministry", "regional governors", "the energy regulator",
    "union representatives", "the supreme court", "shipping insurers",
    "grain traders", "the state oil company", "independent observers",
    "the prime minister's office", "city councillors", "the coast guard",
    "aid agencies", "the statistics office", "farmers' associations",
    "a parliamentary committee", "the defence ministry", "climate scientists",
)  # fmt: skip
NOUNS = (
    "agreement", "tariff", "pipeline", "tanker", "ballot", "vaccine", "turbine",
    "harvest", "reservoir", "budget", "bond", "currency", "corridor", "refinery",
    "strike", "inquiry", "ceasefire", "subsidy", "quota", "licence", "reactor",
    "harbour", "railway", "grid", "shortage", "surplus", "deadline", "mandate",
    "loan", "levy", "embargo", "convoy", "checkpoint", "summit", "census",
)  # fmt: skip
VERBS = (
    "approved", "rejected", "delayed", "extended", "suspended", "announced",
    "questioned", "defended", "revised", "published", "blocked", "renewed",
    "signed", "challenged", "postponed", "confirmed", "cut", "doubled",
)  # fmt: skip
ADJECTIVES = (
    "fragile", "long-awaited", "contested", "temporary", "regional", "costly",
    "unexpected", "modest", "sweeping", "provisional", "disputed", "record",
    "quiet", "public", "bilateral", "emergency", "seasonal", "revised",
)  # fmt: skip
TIMES = (
    "on Monday", "on Tuesday", "late on Wednesday", "on Thursday", "on Friday",
    "over the weekend", "last month", "this week", "earlier this year",
    "in the spring", "before the summer recess", "after midnight",
)  # fmt: skip
FIRST_NAMES = ("Amira", "Jonas", "Leila", "Tomás", "Ines", "Dmitri", "Noor", "Kofi",
               "Mei", "Ravi", "Sofia", "Yusuf")  # fmt: skip
LAST_NAMES = ("Haddad", "Berg", "Karimi", "Ortega", "Silva", "Volkov", "Rahman",
              "Mensah", "Lin", "Iyer", "Moreau", "Demir")  # fmt: skip

SENTENCES = (
    "{Actor} {verb} the {adj} {noun} {time}, according to people familiar with the talks.",
    "The {noun} had been {verb} twice before, and officials in {place} said a third attempt was unlikely.",
    "Analysts expect the {adj} {noun} to weigh on {topic} for at least another quarter.",
    "In {place}, {actor} said the {noun} would be reviewed {time}.",
    "Figures from {actor} show the {noun} grew by {pct} per cent, the fastest pace since {year}.",
    "\u201cWe were not consulted,\u201d said one official in {place}, who asked not to be named.",
    "The decision leaves the {noun} in place until {year}, two years later than planned.",
    "Critics say the {adj} {noun} favours large companies over the towns along the {noun2}.",
    "{Actor} {verb} a second {noun} {time}, citing concerns about {topic}.",
    "About {num} people gathered outside the offices of {actor} in {place} {time}.",
    "Neighbouring {place2} has watched the {noun} closely, wary of its effect on {topic}.",
    "The {noun} is worth roughly {num} million dollars a year to the economy of {place}.",
    "Diplomats described the mood as {adj} but said a deal on the {noun} remained possible.",
    "A spokesperson for {actor} {verb} the figures but gave no date for a {noun}.",
    "Similar {noun}s in {place2} were {verb} {time}, with mixed results.",
    "The {noun} will be debated by {actor} before the {adj} {noun2} expires.",
)  # fmt: skip
HEADINGS = (
    "What happened", "Why it matters", "The {noun} in numbers", "Reaction in {place}",
    "What {actor} said", "The background", "What comes next", "The {adj} {noun}",
    "How the {noun} works", "Winners and losers", "A {adj} timeline",
    "The view from {place2}", "Questions that remain", "The {noun} and {topic}",
)  # fmt: skip
SUBHEADINGS = ("The details", "The numbers", "The objections", "A closer look")
HEADLINES = (
    "{Place} {verb} {adj} {noun} as talks on {topic} stall",
    "{Actor} {verb} the {noun}: what it means for {topic}",
    "{Place} and {place2} agree a {adj} {noun}",
    "Why the {noun} in {place} matters for {topic}",
    "{Topic}: {actor} {verb} a {adj} {noun}",
    "The {adj} {noun} that could reshape {topic} in {place}",
    "{Place} latest: {noun} {verb} after {adj} week",
)  # fmt: skip
UPDATES = (
    "{Actor} {verb} the {noun} {time}. More to follow.",
    "Officials in {place} confirmed the {adj} {noun} had been {verb}.",
    "Correspondents report crowds near the {noun} in {place}; {actor} has not commented.",
    "The {noun} has now been {verb}, {actor} said in a short statement.",
)  # fmt: skip

WORDS_TARGET = 1200
# Tag popularity: with 400 tags and s = 0.75 the commonest tag is on about
# one post in five and the rarest on a few in ten thousand, roughly what a
# news site's tag cloud looks like (a steeper curve would put one tag on most
# posts and make tag pages and related posts unrealistically expensive).
TAG_COUNT = 400
ZIPF_EXPONENT = 0.75


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Cumulative weights for rank 1..count, proportional to 1/rank**exponent."""
    return list(
        itertools.accumulate(1 / rank**exponent for rank in range(1, count + 1))
    )


@cache
def tag_names() -> tuple[str, ...]:
    """Every tag name, most used first: places and topics interleaved, then
    pairs of them ("Iran energy"), TAG_COUNT in all."""
    names = []
    for place, topic in itertools.zip_longest(PLACES, TOPICS):
        names += [name for name in (place, topic) if name]
    pairs = (f"{place} {topic.lower()}" for topic in TOPICS for place in PLACES)
    names += itertools.islice(pairs, TAG_COUNT - len(names))
    return tuple(names)


def author_names() -> list[tuple[str, str]]:
    return list(zip(FIRST_NAMES, LAST_NAMES, strict=True))


@dataclass
class GeneratedUpdate:
    body: str
    body_html: str
    hours_after: float


@dataclass
class GeneratedPost:
    number: int
    title: str
    summary: str
    body: str
    body_html: str
    body_text: str
    toc: list
    word_count: int
    section: int  # index into SECTIONS
    tags: list[int]  # indexes into tag_names()
    author: int  # index into author_names()
    updates: list[GeneratedUpdate] = field(default_factory=list)


class _Writer:
    """Fills templates from the word lists with one seeded generator."""

    def __init__(self, rng: random.Random, place: str = "", topic: str = ""):
        self.rng = rng
        self.place = place or rng.choice(PLACES)
        self.topic = topic or rng.choice(TOPICS)

    def fill(self, template: str) -> str:
        rng = self.rng
        choice = rng.choice
        # The story's own place and topic come back often, as in real copy.
        place = self.place if rng.random() < 0.6 else choice(PLACES)
        topic = self.topic if rng.random() < 0.6 else choice(TOPICS)
        actor = choice(ACTORS)
        values = {
            "place": place,
            "Place": place,
            "place2": choice(PLACES),
            "topic": topic.lower(),
            "Topic": topic,
            "actor": actor,
            "Actor": actor[0].upper() + actor[1:],
            "noun": choice(NOUNS),
            "noun2": choice(NOUNS),
            "verb": choice(VERBS),
            "adj": choice(ADJECTIVES),
            "time": choice(TIMES),
            "pct": f"{rng.randint(1, 19)}.{rng.randint(0, 9)}",
            "num": f"{rng.randint(2, 950):,}",
            "year": str(rng.randint(1995, 2024)),
        }
        return template.format(**values)

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.fill(self.rng.choice(SENTENCES)) for _ in range(sentences))


class Newsroom:
    """A seeded source of articles: `newsroom.post(n)` is always the same
    article for the same seed and n.

    Rendering ~1,200 words through blog.markup takes ~20 ms, too slow for
    100,000 posts in minutes on two cores. So a body is a sequence of Markdown
    blocks (paragraphs, lists, quotes, headings) drawn from seeded pools, each
    block rendered once by `render_markdown` and remembered; a post's
    body_html, text, outline and word count are its blocks' joined. For these
    self-contained blocks that is exactly what rendering the whole body gives
    (tests/test_generating.py checks it against `render_markdown(body)`), as
    long as a body repeats no heading, which `post()` ensures.
    """

    def __init__(self, seed: int = 1, paragraphs: int = 3000, asides: int = 300):
        self.seed = seed
        rng = random.Random(seed)  # noqa: S311 - text, not secrets
        writer = _Writer(rng)
        self.paragraphs = []
        for _ in range(paragraphs):
            writer.place, writer.topic = rng.choice(PLACES), rng.choice(TOPICS)
            self.paragraphs.append(writer.paragraph(rng.randint(3, 6)))
        self.asides = []
        for k in range(asides):
            if k % 2:
                items = [writer.fill(rng.choice(SENTENCES)) for _ in range(3)]
                self.asides.append("\n".join(f"- {item}" for item in items))
            else:
                self.asides.append("> " + writer.fill(rng.choice(SENTENCES)))
        self.updates = [writer.fill(rng.choice(UPDATES)) for _ in range(asides)]
        self._rendered: dict[str, Rendered] = {}
        self._tag_weights = zipf_weights(len(tag_names()))
        self._section_weights = zipf_weights(len(SECTIONS), 0.8)

    def render(self, block: str) -> Rendered:
        rendered = self._rendered.get(block)
        if rendered is None:
            rendered = self._rendered[block] = render_markdown(block)
        return rendered

    def post(self, number: int) -> GeneratedPost:
        rng = random.Random(self.seed * 1_000_003 + number)  # noqa: S311
        wanted, chosen = rng.randint(2, 4), set()
        while len(chosen) < wanted:  # distinct tags, popular ones more often
            chosen.update(
                rng.choices(range(len(tag_names())), cum_weights=self._tag_weights)
            )
        tags = sorted(chosen)
        named = [tag_names()[i] for i in tags]
        place = next((n for n in named if n in PLACES), "")
        topic = next((n for n in named if n in TOPICS), "")
        writer = _Writer(rng, place, topic)
        title = writer.fill(rng.choice(HEADLINES))
        summary = writer.paragraph(2)

        blocks = [rng.choice(self.paragraphs)]
        words = self.render(blocks[0]).word_count
        headings = rng.sample(HEADINGS, len(HEADINGS))
        subheadings = rng.sample(SUBHEADINGS, len(SUBHEADINGS))
        anchors = set()
        while words < WORDS_TARGET and headings:
            heading = "## " + writer.fill(headings.pop())
            anchor = self.render(heading).toc[0]["id"]
            if anchor in anchors:
                continue
            anchors.add(anchor)
            section = [heading]
            for _ in range(rng.randint(2, 4)):
                kind = rng.random()
                # Two lists or two quotes in a row would merge into one.
                if kind < 0.12 and not section[-1].startswith(("- ", "> ")):
                    section.append(rng.choice(self.asides))
                elif kind < 0.16 and subheadings:
                    sub = "### " + subheadings.pop()
                    if self.render(sub).toc[0]["id"] not in anchors:
                        anchors.add(self.render(sub).toc[0]["id"])
                        section.append(sub)
                else:
                    section.append(rng.choice(self.paragraphs))
            blocks += section
            words += sum(self.render(block).word_count for block in section)
        parts = [self.render(block) for block in blocks]

        updates = []
        # About one story in twenty is a developing one, with a few dated updates.
        if rng.random() < 0.05:
            for k in range(rng.randint(1, 5)):
                text = rng.choice(self.updates)
                updates.append(
                    GeneratedUpdate(
                        body=text,
                        body_html=self.render(text).html,
                        hours_after=(k + 1) * rng.uniform(0.5, 6),
                    )
                )
        return GeneratedPost(
            number=number,
            title=title[:200],
            summary=summary[:400],
            body="\n\n".join(blocks) + "\n",
            body_html="\n".join(part.html for part in parts),
            body_text=" ".join(part.text for part in parts if part.text),
            toc=[entry for part in parts for entry in part.toc],
            word_count=sum(part.word_count for part in parts),
            section=rng.choices(
                range(len(SECTIONS)), cum_weights=self._section_weights
            )[0],
            tags=tags,
            author=rng.randrange(len(FIRST_NAMES)),
            updates=updates,
        )
