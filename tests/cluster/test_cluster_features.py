"""Text features of the story clusterer: named things, body terms, hashing and TF-IDF cosines."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from broadsheet.cluster import article_features, body_terms, named_things
from broadsheet.cluster.features import HASH_BITS, hash_term, strip_label
from broadsheet.cluster.vectors import SparseVector, TermStats, cosine, unit_tf

BODY = (
    "Storm winds closed the harbour bridge in Port Alder on Monday. The Port Alder council said engineer "
    "Maribel Ostrander would inspect the cables. Repairs will be paid by the Bank of Quillon, a spokesman "
    "said. Police closed the ferry road too. Ostrander's team starts on Tuesday."
)


def test_capitalised_phrases_are_names() -> None:
    names = named_things("Harbour bridge shut", BODY)
    assert {"port alder", "maribel ostrander", "bank of quillon", "ostrander"} <= set(names)
    assert names["port alder"] == 2


def test_capitals_that_only_start_a_sentence_are_not_names() -> None:
    names = named_things("Harbour bridge shut", BODY)
    assert "storm" not in names  # sentence start, never capitalised elsewhere
    assert "police" not in names
    assert "the" not in names and "repairs" not in names


def test_sentence_start_names_count_when_the_text_confirms_them() -> None:
    text = "Ostrander said the bridge is safe. Engineers trust Ostrander on cables."
    assert named_things("", text)["ostrander"] == 2


def test_two_capitalised_words_at_a_sentence_start_are_a_name() -> None:
    assert "maribel ostrander" in named_things("", "Maribel Ostrander inspected the cables on Monday.")


def test_possessive_ends_a_name() -> None:
    names = named_things("", "The council praised Alder's Maribel Ostrander for her work.")
    assert {"alder", "maribel ostrander"} <= set(names)


def test_title_case_headline_alone_gives_its_capitalised_words() -> None:
    names = named_things(
        "Storm Shuts Port Alder Bridge For Repairs", "Storm Shuts Port Alder Bridge For Repairs"
    )
    assert {"storm", "shuts", "port", "alder", "bridge", "repairs"} == set(names)


def test_title_case_headline_with_a_body_keeps_only_confirmed_names() -> None:
    names = named_things("Storm Shuts Port Alder Bridge For Repairs", BODY)
    assert "shuts" not in names and "repairs" not in names
    assert "port alder" in names


def test_body_terms_drop_stop_words_and_keep_numbers() -> None:
    terms = body_terms("The magnitude 6.1 quake hit Veltmark in 2031, officials said; the quake hurt four.")
    assert terms["quake"] == 2
    assert terms["2031"] == 1 and terms["veltmark"] == 1
    assert "the" not in terms and "said" not in terms and "in" not in terms


def test_features_count_words_of_the_body_beyond_the_title() -> None:
    title = "Harbour bridge shut"
    assert article_features(title, title).body_words == 0
    assert article_features(title, f"{title}\n{BODY}").body_words == len(BODY.split())


def test_terms_are_hashed_with_crc32_so_stored_vectors_stay_comparable() -> None:
    assert hash_term("veltmark") == zlib.crc32(b"veltmark") & ((1 << HASH_BITS) - 1)
    features = article_features("Veltmark quake", "Veltmark quake")
    assert set(features.terms) == {hash_term("veltmark"), hash_term("quake")}


def test_a_shared_rare_word_counts_more_than_a_shared_common_one() -> None:
    stats = TermStats()
    common, rare, other = hash_term("bridge"), hash_term("ostrander"), hash_term("ferry")
    for _ in range(50):
        stats.add(np.array([common, other]))
    stats.add(np.array([rare]))
    article = unit_tf({common: 1, rare: 1})
    shares_rare = SparseVector.from_mapping({rare: 1.0, other: 1.0})
    shares_common = SparseVector.from_mapping({common: 1.0, other: 1.0})
    assert cosine(article, shares_rare, stats) > cosine(article, shares_common, stats)


def test_counting_an_article_out_undoes_counting_it_in() -> None:
    stats = TermStats()
    keys = np.array([hash_term("quake"), hash_term("veltmark")])
    stats.add(keys)
    stats.remove(keys)
    assert stats.docs == 0 and not stats.df.any()


@pytest.mark.parametrize(
    ("headline", "stripped"),
    [
        ("The Latest: Ferry strike halts crossings", "Ferry strike halts crossings"),
        ("Harbour Games Latest: Quillon wins the relay", "Quillon wins the relay"),
        ("LIVE | Storm closes the Port Alder bridge", "Storm closes the Port Alder bridge"),
        ("VIDEO - Crowds greet the rowing crews", "Crowds greet the rowing crews"),
        ("EN DIRECT : le pont de Port Alder fermé", "le pont de Port Alder fermé"),
        ("Ao vivo: ponte de Port Alder fechada", "ponte de Port Alder fechada"),
        ("Срочно: мост закрыт", "мост закрыт"),
        ("عاجل: إغلاق الجسر", "إغلاق الجسر"),
        ("视频：大桥关闭", "大桥关闭"),
    ],
)
def test_a_format_label_before_a_headline_is_dropped(headline: str, stripped: str) -> None:
    assert strip_label(headline) == stripped


@pytest.mark.parametrize(
    "headline",
    [
        "Port Alder: the bridge reopens",  # a topic, not a format
        "Ostrander inquiry: what the council knew",
        "Live music returns to Port Alder",  # no separator after the label
        "Why nobody in the harbour towns of Quillon would watch: a review",  # four words before it
        "The Latest: ",  # nothing would be left
        "",
    ],
)
def test_a_headline_without_a_format_label_is_unchanged(headline: str) -> None:
    assert strip_label(headline) == headline


def test_the_features_do_not_read_a_format_label() -> None:
    labelled = article_features("The Latest: Ferry Strike Halts Crossings In Port Alder", "")
    plain = article_features("Ferry Strike Halts Crossings In Port Alder", "")
    assert labelled == plain
    assert "latest" not in labelled.names
    # A body that opens with the labelled headline is still read without repeating it.
    body = "The Latest: Ferry strike halts crossings. Ostrander said the ferries stop at noon."
    assert article_features("The Latest: Ferry strike halts crossings", body).body_words == 8
