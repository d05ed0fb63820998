"""The reader's lists and cards (`Store.reads`), on a real SQLite file filled through the pipeline."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import pytest
from storefill import T0, Add

from broadsheet.dedupe import Action
from broadsheet.errors import BadCursorError, NotFoundError
from broadsheet.models import Article
from broadsheet.store import Store
from broadsheet.store.cards import excerpt
from newsroom import make_stories


def _fill(add: Add, count: int, *, outlet: str = "The Alder Gazette", same_time_every: int = 1) -> list[int]:
    """`count` distinct stories; with same_time_every=3, each three in a row share one published time."""
    ids = []
    for i, story in enumerate(make_stories(count, seed=len(outlet))):
        ids.append(
            add(story.title, story.text, outlet=outlet, hours=i // same_time_every, tags=tuple(story.tags))
        )
    return ids


def _all_pages(store: Store, limit: int, **filters: object) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = store.reads.latest(limit=limit, cursor=cursor, **filters)  # type: ignore[arg-type]
        pages.append([card.id for card in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_latest_pages_newest_first_without_gaps_or_repeats_when_times_tie(store: Store, add: Add) -> None:
    ids = _fill(add, 23, same_time_every=3)
    pages = _all_pages(store, 5)
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    flat = [i for page in pages for i in page]
    # Equal sort_times are ordered by id, newest id first: a stable, total order.
    assert flat == sorted(ids, reverse=True)
    cards = [store.reads.card(i) for i in flat]
    assert [c.sort_time for c in cards] == sorted((c.sort_time for c in cards), reverse=True)


def test_last_page_has_no_cursor_even_when_it_is_exactly_full(store: Store, add: Add) -> None:
    _fill(add, 10)
    assert [len(p) for p in _all_pages(store, 5)] == [5, 5]
    assert store.reads.latest(limit=10).next_cursor is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "",
        base64.urlsafe_b64encode(b"2026-11-20T08:00:00|x").decode(),
        base64.urlsafe_b64encode(b"not a date|12").decode(),
        base64.urlsafe_b64encode(b"2026-11-20T08:00:00|12").decode(),  # no timezone: not one of ours
        base64.urlsafe_b64encode(b"2026-11-20T08:00:00+00:00|-3").decode(),
        base64.urlsafe_b64encode(b"0001-01-01T00:00:00+05:00|1").decode(),
        base64.urlsafe_b64encode("é|1".encode()).decode(),
        "x" * 5000,
    ],
)
def test_a_cursor_the_store_did_not_make_is_refused_with_advice(store: Store, add: Add, cursor: str) -> None:
    _fill(add, 3)
    with pytest.raises(BadCursorError, match="start again from the first page"):
        store.reads.latest(limit=2, cursor=cursor)


def test_a_publisher_without_a_date_is_listed_by_when_it_was_stored(store: Store, add: Add) -> None:
    dated = add(
        "Quillon kite contest moved indoors", "High winds forced the kite contest into the hall.", hours=5
    )
    undated = add(
        "Marrowby bakery wins bread prize", "The rye loaf won over a panel of nine judges.", hours=None
    )
    card = store.reads.card(undated)
    assert card.published is None
    assert card.sort_time == T0 + timedelta(days=30)  # the pipeline's clock when it was stored
    assert [c.id for c in store.reads.latest(limit=5).items] == [undated, dated]


def test_lists_filter_by_outlet_tag_and_language(store: Store, add: Add) -> None:
    a = add(
        "Veltra opens a night market",
        "Stalls will stay open until two in the morning.",
        tags=("Veltra", "Markets"),
    )
    b = add(
        "Veltra ouvre un marché de nuit",
        "Les étals resteront ouverts jusqu'à deux heures du matin sur la place.",
        outlet="Le Courrier de Veltra",
        tags=("veltra",),
        lang="fr",
        hours=1,
    )
    c = add("Port Alder gets a new ferry", "The ferry carries two hundred cars across the sound.", hours=2)
    assert [x.id for x in store.reads.latest(limit=9, outlet_slug="the-alder-gazette").items] == [c, a]
    assert [x.id for x in store.reads.latest(limit=9, outlet_slug="le-courrier-de-veltra").items] == [b]
    assert [x.id for x in store.reads.latest(limit=9, tag_slug="veltra").items] == [b, a]
    assert [x.id for x in store.reads.latest(limit=9, lang="fr").items] == [b]
    assert [x.id for x in store.reads.latest(limit=9, tag_slug="veltra", lang="en").items] == [a]
    assert store.reads.latest(limit=9, outlet_slug="nobody").items == ()


def test_tag_pages_paginate_like_the_home_page(store: Store, add: Add) -> None:
    _fill(add, 24, same_time_every=2)
    tag = store.reads.tags(1)[0]
    pages = _all_pages(store, 2, tag_slug=tag.slug)
    flat = [i for page in pages for i in page]
    assert len(flat) == len(set(flat)) == tag.article_count
    assert all(tag.name in store.reads.card(i).tags for i in flat)
    assert flat == [c.id for c in store.reads.latest(limit=50).items if tag.name in c.tags]


def test_copies_are_hidden_from_lists_unless_asked_for(store: Store, add: Add) -> None:
    text = make_stories(1, seed=7)[0].text
    original = add("Orrin Vale wind farm plan withdrawn", text, tags=("Energy",))
    copy = add(
        "Wind farm plan withdrawn", text, outlet="Wire Service", hours=1, tags=("Energy",), expect=Action.COPY
    )
    assert [c.id for c in store.reads.latest(limit=5).items] == [original]
    assert [c.id for c in store.reads.latest(limit=5, tag_slug="energy").items] == [original]
    shown = store.reads.latest(limit=5, include_duplicates=True).items
    assert [(c.id, c.duplicate_of) for c in shown] == [(copy, original), (original, None)]
    now = datetime.now(UTC)
    assert [c.id for c in store.reads.article_page(original, now).copies] == [copy]
    page = store.reads.article_page(copy, now)
    assert page.copies == [] and page.original is not None and page.original.id == original


def test_a_card_has_a_short_plain_excerpt_and_no_full_text(store: Store, add: Add) -> None:
    long_text = "Lindqvist harbour   dredging\n\nbegins. " + " ".join(f"word{i}" for i in range(400))
    plain = add("Lindqvist harbour dredging begins", long_text)
    described = add(
        "Tamsworth choir tours abroad",
        "The choir sang in four cities.",
        description="  A short   summary. ",
        hours=1,
    )
    card = store.reads.card(plain)
    assert card.excerpt.startswith("Lindqvist harbour dredging begins. word0 word1")
    assert card.excerpt.endswith("…") and len(card.excerpt) <= 300
    assert card.excerpt[:-1].split()[-1].startswith("word")  # cut between words, not inside one
    assert store.reads.card(described).excerpt == "A short summary."
    assert card.outlet_slug == "the-alder-gazette" and card.url.startswith("https://thealdergazette.example/")
    with pytest.raises(NotFoundError):
        store.reads.card(9999)


def test_excerpts_collapse_whitespace_and_cut_between_words_whatever_the_spacing() -> None:
    def reference(text: str, limit: int = 300) -> str:  # the whole text collapsed, then cut
        flat = " ".join(text.split())
        if len(flat) <= limit:
            return flat
        cut = flat[: limit - 1]
        if flat[limit - 1] != " " and " " in cut:
            cut = cut.rsplit(" ", 1)[0]
        return cut.rstrip(" ,;:.-–—") + "…"

    rng = random.Random(5)
    spaces = [" ", "  ", "\n\n", " " * 60, "\t"]
    for _ in range(2000):
        words = [
            "".join(rng.choices("abcdefghij,.-", k=rng.randint(1, 12))) for _ in range(rng.randint(0, 90))
        ]
        text = "".join(w + rng.choice(spaces) for w in words)[: rng.randint(0, 600)]
        assert excerpt("", text) == reference(text), text
        assert excerpt(text, "ignored lead") == reference(text or "ignored lead")


def test_outlets_and_tags_are_counted_and_named(store: Store, add: Add) -> None:
    _fill(add, 4, outlet="Café & Bar Weekly")
    _fill(add, 2, outlet="Quillon Post")
    outlets = store.reads.outlets()
    assert [(o.slug, o.name, o.article_count) for o in outlets] == [
        ("cafe-bar-weekly", "Café & Bar Weekly", 4),
        ("quillon-post", "Quillon Post", 2),
    ]
    assert outlets[0].site_url == "https://café&barweekly.example"
    assert outlets[0].latest == store.reads.latest(limit=1, outlet_slug="cafe-bar-weekly").items[0].sort_time
    assert store.reads.outlet("quillon-post") == outlets[1]
    assert store.reads.outlet("nobody") is None
    tags = store.reads.tags()
    assert sum(t.article_count for t in tags) == 12  # two tags per story
    assert tags == sorted(tags, key=lambda t: (-t.article_count, t.slug))
    assert store.reads.tag(tags[0].slug) == tags[0]
    assert store.reads.tag("no-such-tag") is None


def test_tags_that_differ_only_in_case_are_one_tag(store: Store, add: Add) -> None:
    a = add(
        "Haskett Bay regatta", "Forty boats raced in the bay on Sunday.", tags=("Sailing", "sailing", " ")
    )
    add(
        "Marrowby regatta cancelled",
        "Fog over the estuary kept the boats ashore.",
        tags=("SAILING",),
        hours=1,
    )
    tag = store.reads.tag("sailing")
    assert tag is not None and tag.article_count == 2 and tag.name == "SAILING"
    assert store.reads.card(a).tags == ("Sailing", "sailing", " ")  # the card shows what was stored


def test_neighbours_are_the_next_older_and_newer_of_the_same_outlet(store: Store, add: Add) -> None:
    gazette = _fill(add, 3)
    _fill(add, 3, outlet="Quillon Post")  # interleaved in time, other outlet: skipped
    now = datetime.now(UTC)
    middle = store.reads.article_page(gazette[1], now)
    assert (middle.previous and middle.previous.id, middle.following and middle.following.id) == (
        gazette[0],
        gazette[2],
    )
    assert store.reads.article_page(gazette[0], now).previous is None
    assert store.reads.article_page(gazette[2], now).following is None
    with pytest.raises(NotFoundError):
        store.reads.article_page(9999, now)


def test_an_update_moves_the_article_in_lists_and_retags_it(store: Store, add: Add) -> None:
    first = add("Veltra bridge to close", "The bridge closes in May for painting.", tags=("Bridges",))
    add("Quillon library late opening", "The library will open until nine on Thursdays.", hours=1)
    article = Article(
        url="https://thealdergazette.example/news/1",
        canonical_url="",
        title="Veltra bridge to close",
        text="The bridge closes in June for painting, a month later than planned, the council said.",
        published=T0 + timedelta(hours=3),
        outlet="The Alder Gazette",
        tags=("Roads",),
    )
    store.articles.replace_content(first, article, None, (), T0 + timedelta(days=31))
    assert store.reads.latest(limit=1).items[0].id == first
    assert store.reads.tag("bridges") is None
    assert [c.id for c in store.reads.latest(limit=5, tag_slug="roads").items] == [first]
