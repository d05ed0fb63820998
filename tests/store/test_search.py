"""Full-text search through `broadsheet.store.search`: ranking, syntax, filters, snippets, bad queries, on
both back ends."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from storefill import T0, Add

from broadsheet.config import Settings
from broadsheet.dedupe import Action
from broadsheet.errors import SearchQueryError
from broadsheet.pipeline.crawl import Crawler
from broadsheet.pipeline.ingest import Ingester
from broadsheet.store import SEARCH_HELP, Store, compact_index, index_segments, search
from broadsheet.store.search import Compaction
from newsroom import make_stories

# The modules, not the functions the packages export under the same names.


def _ids(store: Store, q: str, **kwargs: object) -> list[int]:
    return [hit.card.id for hit in search(store, q, **kwargs).hits]  # type: ignore[arg-type]


@pytest.fixture
def corpus(store: Store, add: Add) -> dict[str, int]:
    return {
        "ferry_title": add(
            "Ferry service to Quillon suspended",
            "Storms closed the crossing for the second time this month, and the operator refunded tickets.",
            hours=1,
        ),
        "ferry_body": add(
            "Harbour works delayed again",
            "The new pier will not open before spring; the ferry will keep using the old ramp meanwhile.",
            hours=2,
            outlet="Quillon Post",
            lang="en",
        ),
        "tram": add(
            "Tram line extension approved",
            "Councillors in Tamsworth voted to extend the tram line to the hospital by next autumn.",
            hours=3,
        ),
        "harbour_fr": add(
            "Le port de Veltra rouvre",
            "Après six mois de travaux, le port de Veltra accueille de nouveau les bateaux de pêche.",
            hours=4,
            outlet="Le Courrier de Veltra",
            lang="fr",
        ),
        "harbourmaster": add(
            "Harbourmaster retires after forty years",
            "She guided ships through the narrow channel in every weather; the town will hold a dinner.",
            hours=5,
            outlet="Quillon Post",
        ),
        "script": add(
            "Web page quirks explained",
            'A reader asked why a page showed <script>alert(1)</script> & other "markup" as text in the quirks column.',
            hours=6,
        ),
    }


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_text(
    store: Store, corpus: dict[str, int]
) -> None:
    page = search(store, "ferry")
    assert [h.card.id for h in page.hits] == [corpus["ferry_title"], corpus["ferry_body"]]
    assert page.hits[0].rank > page.hits[1].rank  # higher is better
    assert page.page == 1 and page.has_next is False


def test_words_are_all_required_and_match_their_other_forms(store: Store, corpus: dict[str, int]) -> None:
    assert _ids(store, "ferry pier") == [corpus["ferry_body"]]
    assert _ids(store, "storm closing") == [corpus["ferry_title"]]  # porter stemming: storms, closed
    assert _ids(store, "peche") == [corpus["harbour_fr"]]  # accents ignored


def test_phrases_or_exclusions_and_prefixes(store: Store, corpus: dict[str, int]) -> None:
    assert _ids(store, '"tram line"') == [corpus["tram"]]
    assert _ids(store, '"line tram"') == []
    assert set(_ids(store, "tram OR pier")) == {corpus["tram"], corpus["ferry_body"]}
    assert _ids(store, "ferry -pier") == [corpus["ferry_title"]]
    assert _ids(store, 'ferry -"new pier"') == [corpus["ferry_title"]]
    assert _ids(store, "ferry NOT pier") == [corpus["ferry_title"]]
    assert set(_ids(store, "harbour*")) == {corpus["ferry_body"], corpus["harbourmaster"]}
    assert _ids(store, "harbour") == [corpus["ferry_body"]]


def test_punctuation_and_stray_operators_are_read_as_plain_words(
    store: Store, corpus: dict[str, int]
) -> None:
    assert _ids(store, "(tram) AND title:line OR") == []  # title:line is the phrase "title line"
    assert _ids(store, "(tram) AND line, OR") == [corpus["tram"]]
    assert _ids(store, "NEAR(tram line) ^ferry") == []
    assert _ids(store, "tram* - +line") == [corpus["tram"]]


def test_articles_split_into_words_at_punctuation_as_queries_do(store: Store, add: Add) -> None:
    # PostgreSQL's word parser would keep a host, an e-mail address or a number whole and drop a tag's name.
    hyphen = add(
        "Covid-19 wards reopen",
        "Details at hospital.example.org/wards or from wards@example.org; <b>bold</b> claims at 3.5 per cent.",
    )
    spaced = add("Covid 19 figures out", "Ten new cases in the harbour ward.", hours=1)
    assert set(_ids(store, "covid-19")) == {hyphen, spaced}
    assert set(_ids(store, '"covid 19"')) == {hyphen, spaced}
    assert _ids(store, '"example org"') == [hyphen]
    assert _ids(store, "wards@example.org") == [hyphen]
    assert _ids(store, "bold") == [hyphen]
    assert _ids(store, '"3 5"') == [hyphen]


def test_every_word_is_indexed_common_ones_too(store: Store, add: Add) -> None:
    who = add("The Who play the quay", "The band played to a crowd at the harbour.")
    add("Harbour crowd", "A crowd gathered.", hours=1)
    assert _ids(store, '"the who"') == [who]
    assert _ids(store, "who") == [who]


def test_filters_by_outlet_language_and_date(store: Store, corpus: dict[str, int]) -> None:
    assert set(_ids(store, "harbour* OR port", outlet_slug="quillon-post")) == {
        corpus["harbourmaster"],
        corpus["ferry_body"],
    }
    assert _ids(store, "port OR harbour*", lang="fr") == [corpus["harbour_fr"]]
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=5)
    assert set(_ids(store, "harbour* OR port", since=since, until=until)) == {
        corpus["ferry_body"],
        corpus["harbour_fr"],
    }
    assert _ids(store, "ferry", outlet_slug="nobody") == []


def test_copies_never_appear_in_results(store: Store, add: Add) -> None:
    text = make_stories(1, seed=3)[0].text
    original = add("Orchard festival draws record crowds", text)
    add("Record crowds at orchard festival", text, outlet="Wire Service", hours=1, expect=Action.COPY)
    assert _ids(store, "orchard festival") == [original]


def test_snippets_mark_matches_and_escape_everything_else(store: Store, corpus: dict[str, int]) -> None:
    hit = search(store, "quirks").hits[0]
    assert hit.card.id == corpus["script"]
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; other &quot;markup&quot;" in hit.snippet_html
    assert hit.snippet_html.endswith("<mark>quirks</mark> column.")
    marks = search(store, "script").hits[0].snippet_html
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in marks


def test_results_are_paged_with_has_next(store: Store, add: Add) -> None:
    for story in make_stories(7, seed=11):
        add(story.title, story.text)
    pages = [search(store, "council", page=n, per_page=3) for n in (1, 2, 3)]
    assert [(len(p.hits), p.has_next) for p in pages] == [(3, True), (3, True), (1, False)]
    ids = [h.card.id for p in pages for h in p.hits]
    assert len(set(ids)) == 7
    assert search(store, "council", page=4, per_page=3).hits == ()


@pytest.mark.parametrize(
    ("q", "advice"),
    [
        ("", "type a word"),
        ("   \x00 ", "type a word"),
        ('"tram line', "close the quote or remove it"),
        ('ferry "', "close the quote or remove it"),
        ("-ferry -tram", "add a word to search for"),
        ("OR AND NOT", "add a word to search for"),
        ("- * ( ) : ^", "add a word to search for"),
        ("t*", "at least 2 letters before a *"),
        ("tram " * 100, "at most 300 characters"),
    ],
)
def test_bad_queries_say_what_to_fix(store: Store, corpus: dict[str, int], q: str, advice: str) -> None:
    with pytest.raises(SearchQueryError, match=advice):
        search(store, q)


def test_pages_past_the_cap_are_refused(store: Store, corpus: dict[str, int]) -> None:
    with pytest.raises(SearchQueryError, match="narrow the search"):
        search(store, "ferry", page=51)
    with pytest.raises(SearchQueryError, match="from 1"):
        search(store, "ferry", page=0)


def test_random_garbage_gives_results_or_a_query_error_never_a_crash(
    store: Store, corpus: dict[str, int]
) -> None:
    rng = random.Random(20261202)
    outcomes: Counter[str] = Counter()
    alphabet = 'abcdeé OR NOT AND NEAR ferry tram "" "* - + ( ) : ^ \\ \' ; { } [ ] < > & | \x00 \u202e 🚋 漢字 _ . , ~ `'
    pieces = alphabet.split(" ") + list(alphabet)
    for _ in range(400):
        q = "".join(rng.choice(pieces) + rng.choice(["", " "]) for _ in range(rng.randint(0, 12)))
        try:
            page = search(store, q)
        except SearchQueryError as exc:
            assert str(exc)
            outcomes["refused"] += 1
        else:
            assert all("<script>" not in hit.snippet_html for hit in page.hits)
            outcomes["ran"] += 1
    assert outcomes["ran"] > 100 and outcomes["refused"] > 10, outcomes


def test_help_describes_the_syntax() -> None:
    for example in ('"exact phrase"', "OR", "-council", "harb*"):
        assert example in SEARCH_HELP


# FTS5's segments and their merging are SQLite's; PostgreSQL's GIN index has none (test_search_postgres.py).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@sqlite_only
def test_compacting_the_index_merges_its_segments_and_finds_the_same(store: Store, add: Add) -> None:
    # Each stored article is a transaction of its own, so each leaves a segment (FTS5 merges only some).
    rng = random.Random(4)
    words = ["ferry", "harbour", "tram", "council", "orchard", "bridge", "storm", "quay"]
    for n in range(30):
        add(f"Report {n} on the {rng.choice(words)}", " ".join(rng.choices(words, k=6)), hours=n)
    segments = index_segments(store)
    assert segments > 3
    queries = ["ferry", "tram OR quay", '"harbour council"', "-storm bridge", "orch*"]
    before = {
        q: [(h.card.id, h.rank, h.snippet_html) for h in search(store, q, per_page=50).hits] for q in queries
    }

    assert compact_index(store, above=segments) == Compaction(0, True)  # not more than asked: left alone
    assert index_segments(store) == segments
    assert compact_index(store, above=1).finished
    assert index_segments(store) == 1
    after = {
        q: [(h.card.id, h.rank, h.snippet_html) for h in search(store, q, per_page=50).hits] for q in queries
    }
    assert after == before
    assert all(before.values())
    add("Late news from the quay", "The quay reopened on Friday.", hours=40)  # still indexed after the merge
    assert search(store, "reopened").hits[0].card.title == "Late news from the quay"


@sqlite_only
def test_the_crawler_compacts_the_index_daily_and_finishes_merges_it_had_to_cut_short(
    store: Store, add: Add, tmp_path: Path
) -> None:
    def add_some(first: int, count: int) -> None:
        for n in range(first, first + count):
            add(f"Quay works, day {n}", f"Day {n} of the works at the quay: the crane arrived.", hours=n)

    now = [T0]
    # one merge step a pass, whatever is left
    settings = Settings(home=tmp_path, search_max_segments=1, search_compact_seconds=0)
    crawler = Crawler(settings, store, Ingester(store, settings), clock=lambda: now[0])
    add_some(0, 6)
    assert index_segments(store) > 1

    asyncio.run(crawler.tidy_search_index())
    assert index_segments(store) == 1  # the one step was enough, but the crawler could not know yet
    add_some(6, 3)
    asyncio.run(crawler.tidy_search_index())  # the same day, but not yet finished: it goes on
    assert index_segments(store) == 1
    asyncio.run(crawler.tidy_search_index())  # nothing left to merge: finished
    add_some(9, 3)
    asyncio.run(crawler.tidy_search_index())  # done, and looked at today: left alone
    assert index_segments(store) > 1
    now[0] += timedelta(hours=25)
    asyncio.run(crawler.tidy_search_index())
    assert index_segments(store) == 1
    assert len(search(store, "crane", per_page=50).hits) == 12


def test_a_very_common_word_is_ranked_among_its_newest_matches(store: Store, add: Add) -> None:
    oldest = add("Lighthouse lighthouse lighthouse", "The lighthouse keeper retired.", hours=0)
    newer = [
        add(f"Coast notes {n}", f"Walkers passed the lighthouse on day {n}.", hours=n) for n in range(1, 5)
    ]
    assert _ids(store, "lighthouse")[0] == oldest  # the best match, while every match is ranked
    assert sorted(_ids(store, "lighthouse", rank_window=3)) == sorted(newer[-3:])
