"""Story briefs: agreed points cite sentences of two outlets or more, word for word; what one outlet alone
reports is listed under it; copies within one outlet never agree with each other.

Every story here is invented for these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from broadsheet.enrich.brief import Brief, StorySource, embed_sentences, story_brief
from broadsheet.enrich.embed import Embedder
from broadsheet.enrich.sentences import split_sentences

ARTICLES = {
    "Harbour Gazette": (
        "Dam on the Selwe river to be raised by four metres",
        "The regional water board decided on Thursday to raise the Selwe dam by four metres. "
        "The work will cost 85 million crowns and take three years. "
        "Engineers say the higher wall will protect the valley from floods like the one in 2019. "
        "The village of Orrin will lose twelve farms to the larger reservoir.",
    ),
    "Valley Post": (
        "Selwe dam will grow four metres taller",
        "The Selwe dam is to be raised by four metres, the regional water board decided on Thursday. "
        "The project is expected to cost 85 million crowns. "
        "Anglers' clubs warn that the trout in the lower river depend on cold water released from the dam. "
        "A higher wall should protect the valley against a repeat of the 2019 floods, engineers said.",
    ),
    "Northern Courier": (
        "Water board backs higher Selwe dam",
        "Regional water officials voted on Thursday to make the Selwe dam four metres higher. "
        "Raising the dam will cost about 85 million crowns, according to the board. "
        "The board's chairwoman, Hedda Lunn, said the decision was the hardest of her career. "
        "Construction could begin in the autumn if the ministry approves the loan.",
    ),
    "Selwe Radio": (
        "Farmers in Orrin protest against dam plan",
        "About two hundred farmers marched through Orrin on Friday against the plan to raise the Selwe dam. "
        "They carried a coffin filled with soil from the fields that the reservoir will flood. "
        "The water board's decision on Thursday raises the dam by four metres.",
    ),
}
ONLY_VALLEY_POST = (
    "Anglers' clubs warn that the trout in the lower river depend on cold water released from the dam."
)
ONLY_SELWE_RADIO = "They carried a coffin filled with soil from the fields that the reservoir will flood."


def sources(articles: dict[str, tuple[str, str]] = ARTICLES) -> list[StorySource]:
    return [
        StorySource(100 + i, outlet, None, split_sentences(text), title)
        for i, (outlet, (title, text)) in enumerate(articles.items())
    ]


@pytest.fixture(scope="module")
def brief(int8: Embedder) -> Brief:
    return story_brief(sources(), int8.embed)


def test_agreed_points_cite_at_least_two_outlets_with_their_exact_sentences(brief: Brief) -> None:
    assert brief.agreed
    texts = {(s.article_id, i): sentence.text for s in sources() for i, sentence in enumerate(s.sentences)}
    for point in brief.agreed:
        assert point.text == point.citations[0].text
        assert len({citation.outlet for citation in point.citations}) >= 2
        for citation in point.citations:
            assert texts[(citation.article_id, citation.sentence)] == citation.text


def test_the_fact_every_outlet_reports_is_agreed_by_all_of_them(brief: Brief) -> None:
    decision = [p for p in brief.agreed if "four metres" in p.text]
    assert decision
    assert {c.outlet for c in decision[0].citations} == set(ARTICLES)


def test_what_one_outlet_alone_reports_is_listed_under_that_outlet(brief: Brief) -> None:
    assert ONLY_VALLEY_POST in [point.text for point in brief.only["Valley Post"]]
    assert ONLY_SELWE_RADIO in [point.text for point in brief.only["Selwe Radio"]]
    agreed = {citation.text for point in brief.agreed for citation in point.citations}
    assert ONLY_VALLEY_POST not in agreed and ONLY_SELWE_RADIO not in agreed
    for outlet, points in brief.only.items():
        for point in points:
            assert [c.outlet for c in point.citations] == [outlet]


def test_the_brief_says_how_many_articles_and_outlets_it_was_built_from(brief: Brief) -> None:
    assert (brief.article_count, brief.outlet_count) == (4, 4)


def test_two_articles_of_one_outlet_never_agree_with_each_other(int8: Embedder) -> None:
    title, text = ARTICLES["Valley Post"]
    same_outlet = [StorySource(1, "Valley Post", None, split_sentences(text), title),
                   StorySource(2, "valley post ", None, split_sentences(text), title)]  # fmt: skip
    brief = story_brief(same_outlet, int8.embed)
    assert brief.agreed == ()
    assert brief.outlet_count == 1
    assert len(brief.only["Valley Post"]) == 3


def test_stored_float16_vectors_give_the_same_brief_as_embedding_afresh(int8: Embedder, brief: Brief) -> None:
    story = sources()
    stored = [embed_sentences(source.sentences, int8.embed) for source in story]
    assert all(rows.dtype == np.float16 for rows in stored)
    again = story_brief(story, int8.embed, sentence_vectors=stored)

    # Near-tied sentences may swap which one is shown; what is agreed, and by whom, stays.
    def groups(result: Brief) -> set[frozenset[tuple[int, int]]]:
        return {frozenset((c.article_id, c.sentence) for c in p.citations) for p in result.agreed}

    assert groups(again) == groups(brief)


def test_a_word_budget_stops_the_brief_once_reached_but_keeps_its_first_point(int8: Embedder) -> None:
    short = story_brief(sources(), int8.embed, max_words=1)
    assert len(short.agreed) == 1
    assert short.only == {}
    longer = story_brief(sources(), int8.embed, max_words=40)
    words = sum(
        len(p.text.split()) for p in (*longer.agreed, *(p for ps in longer.only.values() for p in ps))
    )
    assert 40 <= words < 40 + 30


def test_a_story_without_sentences_has_an_empty_brief(int8: Embedder) -> None:
    empty = story_brief([StorySource(1, "Valley Post", None, [], "A headline")], int8.embed)
    assert empty == Brief((), {}, 1, 1)
