"""Tags: keyphrases from an article's title and text, the key two tags are one by, and the merge with the
publisher's tags and entities.

Every text, name and place here is invented for these tests.
"""

from __future__ import annotations

import pytest

from broadsheet.enrich.tags import article_tags, keyphrases, normalise_tag
from broadsheet.slugs import slugify

TITLE = "Larkspur Bay to turn old tram depot into covered market"
TEXT = """(Reuters) The town council of Larkspur Bay voted on Tuesday to turn the old tram depot on Quay Street into
a covered market, ending a debate that ran through four budget rounds. Getty Images

Councillor Imogen Threlkeld, who chairs the planning committee, said the tram depot had stood empty for eleven
years. Threlkeld told reporters that the covered market would open in May 2027.

Under the plan, forty stalls will open under the restored iron roof. Stall holders from the valley farms will
get the ground floor, and the covered market will host repair workshops. Threlkeld said the iron roof would
be repaired first. Read more

Residents of Larkspur Bay raised concerns about delivery vans. The council said the loading bay would sit on
the harbour side, and Threlkeld said deliveries would end before eight. You've seen nothing yet, she said."""


def test_names_and_phrases_of_the_title_come_first_then_those_repeated_in_the_text() -> None:
    phrases = keyphrases(TITLE, TEXT, "en")
    assert set(phrases[:3]) == {"Larkspur Bay", "tram depot", "covered market"}
    assert set(phrases[3:]) == {"Imogen Threlkeld", "iron roof"}


def test_a_surname_counts_for_the_full_name_and_job_titles_are_dropped() -> None:
    phrases = keyphrases("", TEXT, "en")
    assert "Imogen Threlkeld" in phrases
    assert not {"Threlkeld", "Councillor Imogen Threlkeld", "Councillor"} & set(phrases)


def test_numbers_dates_reporting_verbs_and_credits_are_never_keyphrases() -> None:
    words = " ".join(keyphrases(TITLE, TEXT, "en", limit=30)).casefold().split()
    assert not {
        "said",
        "told",
        "tuesday",
        "may",
        "2027",
        "reuters",
        "getty",
        "images",
        "read",
        "reporters",
    } & set(words)
    assert "you've" not in words


def test_singular_and_plural_are_one_candidate() -> None:
    text = "The stall opened. Two more stalls opened on the quay. Each stall sells fish, and the stalls close at six."
    assert keyphrases("", text, "en") == ["stall"]


def test_a_word_that_only_occurs_inside_a_phrase_gives_way_to_it() -> None:
    phrases = keyphrases(TITLE, TEXT, "en", limit=30)
    assert "covered market" in phrases
    assert "covered" not in phrases


def test_the_limit_is_kept_and_empty_text_gives_nothing() -> None:
    assert len(keyphrases(TITLE, TEXT, "en", limit=3)) == 3
    assert keyphrases("", "", "en") == []


def test_a_name_said_once_is_kept_only_from_the_title() -> None:
    text = "The ferry left the harbour at dawn. The crossing to Orla Island took two hours."
    assert keyphrases("", text, "en") == []
    assert keyphrases("Ferry crossing to Orla Island", text, "en") == ["Orla Island"]


def test_french_phrases_keep_their_connector() -> None:
    text = (
        "Le conseil va transformer le dépôt de tramway en marché couvert. Selon la maire Imogen Threlkeld, "
        "le marché couvert ouvrira en mai. Le dépôt de tramway est vide depuis onze ans."
    )
    phrases = keyphrases("Le dépôt de tramway deviendra un marché couvert", text, "fr")
    assert set(phrases) == {"marché couvert", "dépôt de tramway"}


def test_german_nouns_come_out_as_written() -> None:
    text = (
        "Die Stadt will das alte Straßenbahndepot in eine Markthalle umbauen. Die Markthalle soll im Mai "
        "eröffnen, sagte Bürgermeisterin Imogen Threlkeld am Dienstag. Das Straßenbahndepot steht seit elf "
        "Jahren leer, sagte Imogen Threlkeld."
    )
    phrases = keyphrases("Straßenbahndepot wird Markthalle", text, "de")
    assert set(phrases) == {"Straßenbahndepot", "Markthalle", "Imogen Threlkeld"}


@pytest.mark.parametrize("lang", ["sl", ""])
def test_languages_without_a_stopword_list_get_names_only(lang: str) -> None:
    text = (
        "Mestna občina Larkspur bo staro depo spremenila v tržnico. Županja Imogen Threlkeld je povedala, da "
        "bo tržnica odprta maja. Imogen Threlkeld je dodala, da je depo prazen, tržnica pa nova."
    )
    assert keyphrases("Depo bo postal tržnica", text, lang) == ["Imogen Threlkeld"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Elections", "election"),
        ("  Climate   change ", "CLIMATE CHANGE"),
        ("U.S.", "US"),
        ("Boris Johnson's", "Boris Johnson"),
        ("Policies", "policy"),
        ("Movies", "movie"),
        ("Matches", "match"),
        ("Café culture", "cafe culture"),
        ("Larkspur-Bay", "Larkspur Bay"),
    ],
)
def test_tags_that_are_one_have_one_key(one: str, other: str) -> None:
    assert normalise_tag(one) == normalise_tag(other)


@pytest.mark.parametrize(
    ("one", "other"), [("News", "New"), ("Series", "Serie"), ("Bus", "Bu"), ("Politics", "Police")]
)
def test_different_tags_keep_different_keys(one: str, other: str) -> None:
    assert normalise_tag(one) != normalise_tag(other)


@pytest.mark.parametrize(
    "pair", [("Politics", "politics"), ("Café & Bar", "cafe bar"), ("O'Brien", "OBrien")]
)
def test_tags_the_tag_pages_take_for_one_have_one_key(pair: tuple[str, str]) -> None:
    assert slugify(pair[0]) == slugify(pair[1])
    assert normalise_tag(pair[0]) == normalise_tag(pair[1])


def test_publisher_tags_come_first_then_entities_then_keyphrases() -> None:
    tags = article_tags(
        publisher=["Planning", "Larkspur Bay"],
        entities=["Imogen Threlkeld", "Quay Street"],
        keyphrases=["covered market", "tram depot"],
    )
    assert tags == [
        "Planning",
        "Larkspur Bay",
        "Imogen Threlkeld",
        "Quay Street",
        "covered market",
        "tram depot",
    ]


def test_duplicates_are_dropped_and_the_best_cased_spelling_is_shown() -> None:
    tags = article_tags(
        publisher=["markets", "larkspur bay"],
        entities=["Larkspur Bay", "Market"],
        keyphrases=["MARKET", "larkspur bay"],
    )
    assert tags == ["Market", "Larkspur Bay"]


def test_a_keyphrase_or_entity_inside_an_earlier_tag_is_dropped() -> None:
    tags = article_tags(
        publisher=["Tram depot"],
        entities=["Imogen Threlkeld", "Threlkeld", "depot"],
        keyphrases=["Threlkeld", "Imogen", "tram", "iron roof"],
    )
    assert tags == ["Tram depot", "Imogen Threlkeld", "iron roof"]


def test_a_name_inside_a_longer_publisher_tag_is_kept() -> None:
    tags = article_tags(
        publisher=["Imogen Threlkeld resignation"], entities=["Imogen Threlkeld"], keyphrases=["Threlkeld"]
    )
    assert tags == ["Imogen Threlkeld resignation", "Imogen Threlkeld"]


def test_publisher_tags_inside_one_another_are_all_kept() -> None:
    assert article_tags(publisher=["Planning", "Town planning"], entities=[], keyphrases=[]) == [
        "Planning",
        "Town planning",
    ]


def test_empty_and_overlong_tags_are_skipped_and_the_limit_is_kept() -> None:
    tags = article_tags(
        publisher=["", " # ", "2026", "x" * 81, "Planning"],
        entities=[f"Name {n}" for n in "ABCDEFGHIJKL"],
        keyphrases=["iron roof"],
        limit=4,
    )
    assert tags == ["Planning", "Name A", "Name B", "Name C"]
