"""Value cleaning on its own: bylines, language tags, alt text and the boilerplate block rules."""

from __future__ import annotations

import pytest

from broadsheet.extract.clean import is_credit, is_date_line, is_read_also, is_related_heading
from broadsheet.extract.values import clean_alt, clean_authors, normalise_lang


def test_byline_words_handles_and_job_titles_are_dropped() -> None:
    raw = ["By Imelda Varga, Staff Writer", "Von Tobias Lund und Odile Marchetti", "@ivarga", "imelda varga"]
    assert clean_authors(raw) == ("Imelda Varga", "Tobias Lund", "Odile Marchetti")


def test_author_profile_urls_are_not_names() -> None:
    assert clean_authors(["https://ledger.example/authors/imelda"]) == ()


def test_surname_particles_are_not_taken_for_by() -> None:
    assert clean_authors(["De Souza Ferreira"]) == ("De Souza Ferreira",)


@pytest.mark.parametrize(("raw", "expected"), [("en_US", "en"), ("de-DE", "de"), ("FR", "fr"), ("*", "")])
def test_language_tags_are_reduced_to_the_primary_subtag(raw: str, expected: str) -> None:
    assert normalise_lang(raw) == expected


@pytest.mark.parametrize("alt", ["IMG_2041.JPG", "depot-roof", "image", "  "])
def test_file_names_and_placeholders_are_not_alt_text(alt: str) -> None:
    assert clean_alt(alt, "https://ledger.example/media/depot-roof.jpg") == ""


def test_real_alt_text_is_kept() -> None:
    assert clean_alt(" Workers on the  depot roof ") == "Workers on the depot roof"


@pytest.mark.parametrize(
    "line", ["Related articles", "Mehr zum Thema", "À lire aussi :", "You might also like"]
)
def test_related_headings_are_recognised(line: str) -> None:
    assert is_related_heading(line)


@pytest.mark.parametrize(
    ("rule", "line"),
    [
        (is_read_also, "Read also: Ferry timetable changes for the summer"),
        (is_read_also, "Lesen Sie auch: Neue Fähren für die Bucht"),
        (is_credit, "Foto: Wendell Okafor"),
        (is_credit, "The depot at dusk. © Larkspur Ledger"),
        (is_date_line, "Updated 3 March 2026, 10:02"),
        (is_date_line, "03.03.2026"),
    ],
)
def test_boilerplate_lines_are_recognised(rule: object, line: str) -> None:
    assert callable(rule) and rule(line)


@pytest.mark.parametrize(
    "line",
    [
        "The council met on 3 March 2026 to vote on the plan for the depot and the market.",
        "Read the full plan before the meeting, the clerk advised residents who had asked.",
        "Termin: 29.02.2026, 19 Uhr",
    ],
)
def test_article_sentences_are_not_boilerplate(line: str) -> None:
    assert not any(rule(line) for rule in (is_read_also, is_credit, is_date_line, is_related_heading))
