"""Asking about a story: the sentence that answers comes first, with its outlet; a question the coverage does
not answer gets "not found", never a made-up answer; bad questions are refused with a clear message.

Every story here is invented for these tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from broadsheet.enrich.ask import Answer, answer_kind, answer_question, can_answer, validate_question
from broadsheet.enrich.brief import StorySource, embed_sentences
from broadsheet.enrich.embed import Embedder
from broadsheet.enrich.sentences import split_sentences
from broadsheet.errors import QuestionError

ARTICLES = {
    "Harbour Gazette": "The regional water board decided on Thursday to raise the Selwe dam by four metres. "
    "The work will cost 85 million crowns and take three years. "
    "The village of Orrin will lose twelve farms to the larger reservoir.",
    "Valley Post": "The Selwe dam is to be raised by four metres, the regional water board decided on Thursday. "
    "Anglers' clubs warn that the trout in the lower river depend on cold water released from the dam.",
    "Northern Courier": "Regional water officials voted on Thursday to make the Selwe dam four metres higher. "
    "The board's chairwoman, Hedda Lunn, said the decision was the hardest of her career. "
    "Construction could begin in the autumn if the ministry approves the loan.",
}
STORY = [
    StorySource(10 + i, outlet, None, split_sentences(text), "")
    for i, (outlet, text) in enumerate(ARTICLES.items())
]


Ask = Callable[[str], Answer]


@pytest.fixture(scope="module")
def ask(int8: Embedder) -> Ask:
    vectors = [embed_sentences(source.sentences, int8.embed) for source in STORY]

    def run(question: str) -> Answer:
        return answer_question(question, STORY, vectors, int8.embed)

    return run


@pytest.mark.parametrize(
    ("question", "outlet", "expected"),
    [
        ("How many farms will Orrin lose?", "Harbour Gazette", "The village of Orrin will lose twelve farms"),
        ("What happens to the trout?", "Valley Post", "Anglers' clubs warn that the trout"),
        ("When could construction begin?", "Northern Courier", "Construction could begin in the autumn"),
        ("How much will the work cost?", "Harbour Gazette", "The work will cost 85 million crowns"),
    ],
)
def test_a_question_the_story_answers_gets_the_right_sentence_first(
    ask: Ask, question: str, outlet: str, expected: str
) -> None:
    answer = ask(question)
    assert answer.found
    first = answer.passages[0]
    assert first.outlet == outlet and first.text.startswith(expected)
    source = next(s for s in STORY if s.article_id == first.article_id)
    assert source.sentences[first.sentence].text == first.text


@pytest.mark.parametrize(
    "question",
    [
        "Who won the football match on Saturday?",
        "What did the central bank do with interest rates?",
        "Which film won the prize at the festival?",
    ],
)
def test_a_question_about_something_else_is_not_found(ask: Ask, question: str) -> None:
    assert ask(question) == Answer(False, ())


def test_the_same_sentence_from_two_outlets_is_given_once(ask: Ask) -> None:
    answer = ask("By how much will the Selwe dam be raised?")
    assert answer.found
    assert len({p.text for p in answer.passages}) == len(answer.passages)
    assert sum("four metres" in p.text for p in answer.passages) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("   ", "the question is empty"),
        ("why " * 100, "ask in at most 300"),
        ("what\x00now?", "control characters"),
        ("line one\nline two", "line breaks"),
        ("why did the \u202edam\u202c close?", "invisible formatting"),  # a right-to-left override
    ],
)
def test_bad_questions_are_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        validate_question(text)


def test_a_question_is_stripped_of_surrounding_spaces() -> None:
    assert validate_question("  Who pays?  ") == "Who pays?"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How much did the repairs cost?", "amount"),
        ("how many people were hurt", "amount"),
        ("What percentage voted yes?", "amount"),
        ("When will the bridge reopen?", "time"),
        ("What year was it built?", "time"),
        ("Who chairs the board?", ""),
        ("Why was the dam raised?", ""),
    ],
)
def test_what_a_question_asks_for_is_read_from_its_first_words(question: str, kind: str) -> None:
    assert answer_kind(question) == kind


def test_a_sentence_without_an_amount_or_a_time_cannot_answer_for_one() -> None:
    assert can_answer("amount", "The work will cost 85 million crowns.")
    assert can_answer("amount", "Twelve farms will be lost.")
    assert not can_answer("amount", "The board's chairwoman said the decision was hard.")
    assert can_answer("time", "Construction could begin in the autumn.")
    assert not can_answer("time", "Anglers' clubs warn that the trout depend on cold water.")
    assert can_answer("", "Anything at all.")


def test_a_question_for_an_amount_the_story_never_gives_is_not_found(int8: Embedder) -> None:
    story = [
        StorySource(1, "Valley Post", None, split_sentences(
            "The Selwe dam is to be raised, the regional water board decided. "
            "Anglers' clubs warn that the trout in the lower river depend on cold water released from the dam. "
            "The board's chairwoman, Hedda Lunn, said the decision about the dam was the hardest of her career."
        ), ""),
    ]  # fmt: skip
    vectors = [embed_sentences(source.sentences, int8.embed) for source in story]
    # close words ("dam", "raised", "decision"), but no sentence holds a height
    answer = answer_question(
        "How many metres higher will the dam be raised?", story, vectors, int8.embed, threshold=0.3
    )
    assert answer == Answer(False, ())
    # the same words asking for something the sentences hold are answered
    found = answer_question(
        "Who said the decision about the dam was hard?", story, vectors, int8.embed, threshold=0.3
    )
    assert found.found and "Hedda Lunn" in found.passages[0].text
