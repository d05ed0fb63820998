"""Key points and summaries: exact citations, boilerplate skipped, the lead favoured, repeats left out.

Every article here is invented for these tests.
"""

from __future__ import annotations

import pytest

from broadsheet.enrich.embed import Embedder
from broadsheet.enrich.keypoints import Digest, digest, is_boilerplate
from broadsheet.enrich.sentences import split_sentences

TITLE = "Port Alder closes its ferry terminal for six weeks of repairs"
ARTICLE = """PORT ALDER -- The harbour commission of Port Alder voted on Tuesday to close the old ferry terminal for six weeks while engineers replace the rotten timber of the quay.

By Jane Tull, harbour correspondent

The closure begins on March 3, and ferry passengers will board at the fishing pier instead, the commission said.

Follow us on Twitter for all the latest harbour news.

What do you think about the closure of the terminal?

Engineers found that a third of the quay's timber piles had rotted through after last winter's storms.

Photo: Port Alder Harbour Commission

The repairs will cost 2.4 million crowns, paid from the port's reserve fund and a regional grant.

Cafés near the terminal fear a quiet spring, although the commission has promised extra signs to guide visitors.

"We have waited years for this work," said Mira Osk, who runs the kiosk on the quay.

The terminal is expected to reopen in mid-April, before the summer timetable begins."""

FURNITURE = (
    "PORT ALDER --",
    "By Jane Tull, harbour correspondent",
    "Follow us on Twitter for all the latest harbour news.",
    "What do you think about the closure of the terminal?",
    "Photo: Port Alder Harbour Commission",
)


def run(text: str = ARTICLE, title: str = TITLE, **options: int) -> Digest:
    return digest(title, split_sentences(text), **options)


def test_every_point_is_its_source_sentence_character_for_character() -> None:
    sentences = split_sentences(ARTICLE)
    result = digest(TITLE, sentences, points=5)
    assert len(result.key_points) >= 3
    for point in result.key_points:
        cited = sentences[point.sentence]
        assert point.text == cited.text == ARTICLE[cited.start : cited.end]


def test_bylines_credits_calls_to_action_and_questions_are_never_points() -> None:
    chosen = {point.text for point in run(points=5).key_points}
    assert chosen.isdisjoint(FURNITURE)


@pytest.mark.parametrize("sentence", [*FURNITURE, "Scroll down for video", "Short line here."])
def test_furniture_is_recognised_as_boilerplate(sentence: str) -> None:
    assert is_boilerplate(sentence)


def test_a_plain_news_sentence_is_not_boilerplate() -> None:
    assert not is_boilerplate("The repairs will cost 2.4 million crowns, paid from the port's reserve fund.")


def test_the_lead_is_the_first_point() -> None:
    first = run().key_points[0]
    assert first.text.startswith("The harbour commission of Port Alder voted on Tuesday")


def test_a_sentence_that_repeats_a_chosen_point_is_left_out() -> None:
    text = (
        "The harbour commission of Port Alder voted on Tuesday to close the old ferry terminal for repairs. "
        "On Tuesday the Port Alder harbour commission voted to close the old ferry terminal for repairs. "
        "Engineers found that a third of the quay's timber piles had rotted through over the winter. "
        "Passengers will board at the fishing pier while the work goes on, the commission said. "
        "The repairs will cost 2.4 million crowns from the port's reserve fund and a regional grant."
    )
    chosen = [point.sentence for point in run(text).key_points]
    assert 0 in chosen
    assert 1 not in chosen
    assert len(chosen) == 3


def test_the_summary_is_made_of_points_in_text_order() -> None:
    result = run(points=5)
    assert result.summary
    assert list(result.summary) == sorted(result.summary)
    assert set(result.summary) <= {point.sentence for point in result.key_points}
    assert result.key_points[0].sentence in result.summary


@pytest.mark.parametrize("points", [3, 4, 5])
def test_at_least_three_and_at_most_the_points_asked_for(points: int) -> None:
    assert 3 <= len(run(points=points).key_points) <= points


def test_an_article_with_few_sentences_gets_as_many_points_as_it_has() -> None:
    text = "The ferry terminal of Port Alder closes for repairs.\n\nIt reopens in April before the summer season."
    result = run(text)
    assert [point.sentence for point in result.key_points] == [0, 1]


@pytest.mark.parametrize("text", ["", "Photo: Port Alder", "By Jane Tull\n\nFollow us on Twitter"])
def test_nothing_to_say_gives_an_empty_digest(text: str) -> None:
    assert run(text) == Digest((), ())


def test_sentence_embeddings_give_exact_citations_too(int8: Embedder) -> None:
    sentences = split_sentences(ARTICLE)
    result = digest(TITLE, sentences, int8.embed, points=4)
    assert result.key_points[0].text.startswith("The harbour commission of Port Alder voted")
    assert {point.text for point in result.key_points}.isdisjoint(FURNITURE)
    for point in result.key_points:
        cited = sentences[point.sentence]
        assert point.text == ARTICLE[cited.start : cited.end]
