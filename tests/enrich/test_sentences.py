"""Sentence splitting: exact spans, paragraph and line breaks, and the stops that do not end a sentence.

Every text here is invented for these tests.
"""

from __future__ import annotations

import itertools

import pytest

from broadsheet.enrich.sentences import Sentence, split_sentences


def texts(text: str) -> list[str]:
    return [sentence.text for sentence in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The ferry leaves at noon. It returns at six.", ["The ferry leaves at noon.", "It returns at six."]),
        # abbreviations before names and numbers
        (
            "Mr. Alder and Dr. Vey met Prof. Orrin on Jan. 5 at No. 10 Harbour St. in the rain. They talked.",
            [
                "Mr. Alder and Dr. Vey met Prof. Orrin on Jan. 5 at No. 10 Harbour St. in the rain.",
                "They talked.",
            ],
        ),
        # initials, dotted initialisms and decimals
        (
            "George T. Vellan of the U.S. Navy said inflation was 3.5 percent. It fell.",
            ["George T. Vellan of the U.S. Navy said inflation was 3.5 percent.", "It fell."],
        ),
        (
            "The ship sailed for the U.S. The crew stayed behind.",
            ["The ship sailed for the U.S.", "The crew stayed behind."],
        ),
        (
            "Trains stop at 4:58 a.m. Pacific time each day.",
            ["Trains stop at 4:58 a.m. Pacific time each day."],
        ),
        (
            "Gull Point bought Eastmere Ltd. The deal closed.",
            ["Gull Point bought Eastmere Ltd.", "The deal closed."],
        ),
        # "no" as a word, not "No. 5"
        ("She said no. Then she left.", ["She said no.", "Then she left."]),
        # quotes and brackets close with their sentence; a lower-case word after "?" or "!" continues it
        (
            '"We are ready." The mayor nodded. "Why now?" she asked. (It rained all day.) Work began.',
            [
                '"We are ready."',
                "The mayor nodded.",
                '"Why now?" she asked.',
                "(It rained all day.)",
                "Work began.",
            ],
        ),
        # ellipses
        (
            "He paused... Then he spoke. Wait… what?",
            ["He paused...", "Then he spoke.", "Wait… what?"],
        ),
        # other scripts and marks
        ("¿Llega hoy? ¡Sí! Él dijo que sí.", ["¿Llega hoy?", "¡Sí!", "Él dijo que sí."]),
        (
            "港口今天关闭。明天重新开放！真的吗？是的",
            ["港口今天关闭。", "明天重新开放！", "真的吗？", "是的"],
        ),
        # no stop at all, and nothing at all
        ("Storm warning for the coast", ["Storm warning for the coast"]),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_sentences_are_split_at_their_real_ends(text: str, expected: list[str]) -> None:
    assert texts(text) == expected


def test_paragraph_breaks_always_end_a_sentence() -> None:
    text = "The vote was close\n\nresidents of the valley will wait for the count\n\n\n  The result comes Friday."
    assert texts(text) == [
        "The vote was close",
        "residents of the valley will wait for the count",
        "The result comes Friday.",
    ]


def test_a_line_break_ends_a_sentence_before_a_heading_or_a_list_item() -> None:
    text = "Harbour news\nThe ferry is late.\n- the quay is closed\n- the café is open\nand the line goes on."
    assert texts(text) == [
        "Harbour news",
        "The ferry is late.",
        "- the quay is closed",
        "- the café is open\nand the line goes on.",
    ]


@pytest.mark.parametrize(
    ("text", "dateline"),
    [
        ("(CNN)The harbour closed on Tuesday.", "(CNN)"),
        ("Port Alder, Norland (CNN) -- The harbour closed.", "Port Alder, Norland (CNN) --"),
        ("LARKSPUR BAY (AP) — The harbour closed.", "LARKSPUR BAY (AP) —"),
        ("PORT ALDER -- The harbour closed.", "PORT ALDER --"),
    ],
)
def test_a_leading_dateline_is_a_sentence_of_its_own(text: str, dateline: str) -> None:
    sentences = texts(text)
    assert sentences[0] == dateline
    assert sentences[1].startswith("The harbour closed")


def test_an_acronym_in_brackets_is_not_a_dateline() -> None:
    assert texts("The Harbour Board (HB) said it would act. Nobody objected.") == [
        "The Harbour Board (HB) said it would act.",
        "Nobody objected.",
    ]


def test_every_span_is_the_text_character_for_character() -> None:
    text = (
        "(CNN)The council of Orrin Falls met at 9 a.m. on Monday.  It voted 5-4.\n\n"
        '  "This is a good day," said Mayor J. Tull. The U.S. Embassy did not comment…\n'
        "Weather\nRain is due. ¿Lluvia? 是的。好的"
    )
    sentences = split_sentences(text)
    assert [s.index for s in sentences] == list(range(len(sentences)))
    for sentence in sentences:
        assert isinstance(sentence, Sentence)
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text == sentence.text.strip()
    starts = [s.start for s in sentences]
    assert starts == sorted(starts)
    assert all(a.end <= b.start for a, b in itertools.pairwise(sentences))
