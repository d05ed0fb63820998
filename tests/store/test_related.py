"""`Store.reads.related`: articles sharing the distinctive words of one, other outlets first, copies never."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import event
from storefill import Add

from broadsheet.dedupe import Action
from broadsheet.store import Store, compact_index
from broadsheet.store import related as related_module
from broadsheet.store.related import distinctive_terms, query_terms, rarity_scores
from newsroom import make_stories

SEALS = (
    "Wardens on Grimsholm counted {n} grey seal pups on the skerries this autumn, and the seal colony is "
    "now the largest on the coast. Boat trips past the colony will be limited until the pups are weaned. "
    "Story number {n} of the series."
)


def _background(add: Add) -> None:
    for i, story in enumerate(make_stories(8, seed=5)):
        add(story.title, story.text, outlet="Background Times", hours=i)


def test_related_prefers_other_outlets_and_keeps_at_most_two_from_the_same(store: Store, add: Add) -> None:
    _background(add)
    here = add("Grimsholm seal colony grows again", SEALS.format(n=412), hours=20)
    same = [add(f"Seal pups on Grimsholm, part {n}", SEALS.format(n=n), hours=10 + n) for n in (1, 2, 3)]
    others = [
        add("Grimsholm seal pups counted", SEALS.format(n=900), outlet="Quillon Post", hours=15),
        add("Seal colony on Grimsholm", SEALS.format(n=901), outlet="Veltra Voice", hours=16),
    ]
    related = store.reads.related(here, limit=6)
    assert {c.id for c in related[:2]} == set(others)
    assert len(related) == 4
    assert {c.id for c in related[2:]} <= set(same)
    assert here not in {c.id for c in related}
    assert all(c.outlet != "Background Times" for c in related)


def test_related_leaves_out_copies_and_what_an_article_is_a_copy_of(store: Store, add: Add) -> None:
    _background(add)
    text = SEALS.format(n=77)
    original = add("Grimsholm seal colony grows", text)
    copy = add("Seal colony grows", text, outlet="Wire Service", hours=1, expect=Action.COPY)
    cousin = add("Grimsholm seal pups counted", SEALS.format(n=78), outlet="Quillon Post", hours=2)
    assert [c.id for c in store.reads.related(original)] == [cousin]
    assert [c.id for c in store.reads.related(copy)] == [cousin]


def test_an_article_with_nothing_in_common_has_no_related(store: Store, add: Add) -> None:
    _background(add)
    lonely = add("Xylophone quartet zigzags", "Quirky xylophonists zigzagged through Zanzibar.")
    assert store.reads.related(lonely) == []


def test_distinctive_terms_skip_stopwords_numbers_and_short_words() -> None:
    terms = distinctive_terms(
        "The Seal Colony of Grimsholm in 2026", "seal pups pups at the colony and it is"
    )
    assert terms == ["seal", "colony", "grimsholm", "pups"]


def test_a_rarer_shared_word_relates_more_than_a_commoner_one(store: Store, add: Add) -> None:
    _background(add)
    ferries = [  # "ferries" in five articles, "Brannock" in two
        add(
            f"Ferries return to the strait, day {n}",
            f"The ferries ran on time on day {n}.",
            outlet="Ferry Log",
        )
        for n in range(4)
    ]
    here = add("Brannock ferries", "Ferries from Brannock resumed on Monday.", hours=30)
    rare = add("Brannock quay reopens", "The quay at Brannock opened after repairs.", outlet="Quillon Post")
    related = store.reads.related(here, limit=6)
    assert related[0].id == rare
    assert set(ferries) <= {c.id for c in related[1:]}


def test_words_too_common_to_say_anything_are_left_out_and_remembered(
    store: Store, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_module, "FREQUENCY_CAP", 4)
    monkeypatch.setattr(related_module, "KEEP_FROM", 3)  # counts of three and more are remembered
    _background(add)
    for n in range(4):  # "harbour" in five articles: at the cap of four, it says nothing
        add(f"Harbour dues rise, part {n}", f"The harbour board met on day {n}.", outlet="Harbour Log")
    here = add("Harbour news from Grimsholm", "Grimsholm harbour took new moorings.", hours=30)
    cousin = add("Grimsholm moorings", "Moorings at Grimsholm were laid.", outlet="Quillon Post", hours=31)
    assert [c.id for c in store.reads.related(here)] == [cousin]
    remembered = related_module._remembered(store.engine)
    assert remembered.counts(["harbour", "grimsholm", "moorings"]) == {"harbour": 4}
    statements: list[tuple[str, str]] = []
    capture = lambda *args: statements.append((args[2], repr(args[3])))  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert [c.id for c in store.reads.related(here)] == [cousin]  # the same without counting it again
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    counted = [params for statement, params in statements if "count(" in statement]
    assert any("grimsholm" in params for params in counted)  # the rarer words are counted each time
    assert all("harbour" not in params for _, params in statements)


def test_a_remembered_word_still_finds_its_newest_articles(
    store: Store, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_module, "KEEP_FROM", 2)
    _background(add)
    here = add("Brannock ferries", "Ferries from Brannock resumed on Monday.", hours=30)
    rare = add("Brannock quay reopens", "The quay at Brannock opened after repairs.", outlet="Quillon Post")
    first = [c.id for c in store.reads.related(here)]
    assert first[0] == rare
    assert related_module._remembered(store.engine).counts(["brannock"]) == {"brannock": 2}
    assert [c.id for c in store.reads.related(here)] == first  # its articles found without counting it


def test_query_terms_take_the_rarest_words_found_elsewhere_headline_words_first() -> None:
    counts = {"seal": 40, "colony": 9, "grimsholm": 1, "pups": 12, "skerries": 2000, "wardens": 10}
    candidates = ["seal", "colony", "grimsholm", "pups", "skerries", "wardens", "unknown"]
    # grimsholm is in this article only, skerries past the cap, unknown not counted: all left out; a
    # headline word counts half as often
    assert query_terms(candidates, {"seal", "pups"}, counts) == [
        ("pups", 12),
        ("colony", 9),
        ("wardens", 10),
        ("seal", 40),
    ]


def test_rarity_scores_add_the_weights_of_the_words_an_article_shares() -> None:
    scores = rarity_scores([[1, 2], [2, 3]], [10, 100], archive=1000)
    assert scores[2] == pytest.approx(math.log(100) + math.log(10))
    assert scores[1] == pytest.approx(math.log(100)) and scores[3] == pytest.approx(math.log(10))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_finds_a_remembered_common_words_newest_articles_among_the_newest_ids(
    store: Store, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(related_module, "KEEP_FROM", 2)
    monkeypatch.setattr(related_module, "PER_WORD", 2)  # a word in 8 articles or more is looked for so
    _background(add)
    for n in range(12):
        add(f"Ferries return, day {n}", f"The ferries ran on day {n}.", outlet=f"Ferry Log {n % 3}", hours=n)
    here = add("Brannock ferries", "Ferries from Brannock resumed on Monday.", hours=30)
    add("Brannock quay reopens", "The quay at Brannock opened after repairs.", outlet="Quillon Post")
    first = [c.id for c in store.reads.related(here)]
    floors: list[list[int]] = []
    capture = lambda *args: floors.append(args[3]["floors"]) if "floors" in args[3] else None  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert [c.id for c in store.reads.related(here)] == first
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert floors and all(f > 0 for f in floors[0])  # "ferries" (13 articles) among the newest ids only


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_takes_a_common_words_count_from_its_statistics_instead_of_counting_it(
    store: Store, add: Add
) -> None:
    _background(add)
    for n in range(30):
        add(
            f"Harbour dues rise, part {n}",
            f"The harbour board met on day {n}.",
            outlet="Harbour Log",
            hours=n,
        )
    compact_index(store, above=1)  # after a bulk load: the pending list merged, the statistics made again
    # Words stored since are in no statistics yet (at this size, every word stored before is).
    here = add("Harbour news from Zephyrine", "Zephyrine harbour took new moorings.", hours=40)
    cousin = add("Zephyrine moorings", "Moorings at Zephyrine were laid.", outlet="Quillon Post", hours=41)
    with store.engine.connect() as conn:
        remembered = related_module._remembered(store.engine)
        words = ["harbour", "zephyrine", "moorings"]
        counts, counted = related_module._postgresql_counts(conn, remembered, words, {})
    assert counts == {"harbour": 31, "zephyrine": 2, "moorings": 2}  # 31: ANALYZE's rows, before `here`
    assert sorted(counted) == ["moorings", "zephyrine"]  # counted from the index, with their newest articles
    assert sorted(counted["zephyrine"]) == [here, cousin]
    assert store.reads.related(here)[0].id == cousin
