"""Follows, mutes, bookmarks and reading history on SQLite and PostgreSQL: one row per thing followed that flips
between follow and mute, bookmarks a page at a time, one read per article, the For You signals of candidate
stories in at most three statements, and what goes with a reader or an article."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Table, delete, event, func, select, update
from storefill import Add

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.store import Follow, Store, StorySignals
from broadsheet.store.enrichments import EnrichOutput
from broadsheet.store.schema import articles, bookmarks, follows, reads

T = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Shelf:
    """Readers Ada and Bob, and `article`, which adds an article (in a story, with entities, if asked)."""

    def __init__(self, store: Store, add: Add) -> None:
        self.store = store
        self.add = add
        self.ada = store.accounts.add_user("ada", "", "reader", T).id
        self.bob = store.accounts.add_user("bob", "", "reader", T).id
        self.count = 0

    def article(
        self, outlet: str = "Quillon Daily", *, story: int | None = None, tags: tuple[str, ...] = (),
        entities: tuple[str, ...] = (),
    ) -> int:  # fmt: skip
        self.count += 1
        words = " ".join(f"w{self.count}x{i}" for i in range(30))  # no two alike: none is taken for a copy
        article_id = self.add(f"Report {self.count}", words, outlet=outlet, hours=self.count, tags=tags)
        if story is not None:
            with self.store.engine.begin() as conn:
                conn.execute(update(articles).where(articles.c.id == article_id).values(story_id=story))
        if entities:
            sort_time = self.store.reads.card(article_id).sort_time
            found = [(name, "person", 1) for name in entities]
            self.store.enrichments.save(
                [EnrichOutput(article_id, "0" * 64, sort_time, entities=found)], {}, T
            )
        return article_id


@pytest.fixture
def shelf(store: Store, add: Add) -> Shelf:
    return Shelf(store, add)


def _rows(store: Store, table: Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _statements(store: Store, call: Callable[[], object]) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    return seen


# --- follows and mutes -----------------------------------------------------------------------------------------


def test_following_what_was_muted_unmutes_it_and_muting_stops_following(shelf: Shelf) -> None:
    f = shelf.store.follows
    assert f.state(shelf.ada, "outlet", "quillon-daily") == ""
    f.follow(shelf.ada, "outlet", "quillon-daily", "Quillon Daily", T)
    f.follow(shelf.ada, "outlet", "quillon-daily", "Quillon Daily (renamed)", T + MINUTE)  # done already
    assert f.state(shelf.ada, "outlet", "quillon-daily") == "following"
    assert f.follows(shelf.ada) == [Follow("outlet", "quillon-daily", "Quillon Daily", False, T)]
    f.follow(shelf.ada, "outlet", "quillon-daily", "Quillon", T + 2 * MINUTE, mute=True)
    assert f.state(shelf.ada, "outlet", "quillon-daily") == "muted"
    assert f.follows(shelf.ada) == [Follow("outlet", "quillon-daily", "Quillon", True, T + 2 * MINUTE)]
    f.follow(shelf.ada, "outlet", "quillon-daily", "Quillon Daily", T + 3 * MINUTE)
    assert f.state(shelf.ada, "outlet", "quillon-daily") == "following"
    assert _rows(shelf.store, follows) == 1
    assert f.state(shelf.bob, "outlet", "quillon-daily") == ""  # each reader their own
    assert f.unfollow(shelf.ada, "outlet", "quillon-daily")
    assert not f.unfollow(shelf.ada, "outlet", "quillon-daily")
    assert f.state(shelf.ada, "outlet", "quillon-daily") == "" and f.follows(shelf.ada) == []


def test_follows_come_by_kind_then_name(shelf: Shelf) -> None:
    f = shelf.store.follows
    f.follow(shelf.ada, "story", "12", "Reservoir at a forty-year low", T)
    f.follow(shelf.ada, "tag", "weather", "#weather", T)
    f.follow(shelf.ada, "entity", "imogen-thackery", "Imogen Thackery", T)
    f.follow(shelf.ada, "tag", "harbour", "#Harbour", T, mute=True)
    f.follow(shelf.ada, "outlet", "wire-desk", "Wire Desk", T)
    f.follow(shelf.ada, "outlet", "alder-gazette", "alder gazette", T)
    shown = [(x.kind, x.name, x.mute) for x in f.follows(shelf.ada)]
    assert shown == [
        ("outlet", "alder gazette", False), ("outlet", "Wire Desk", False), ("tag", "#Harbour", True),
        ("tag", "#weather", False), ("entity", "Imogen Thackery", False),
        ("story", "Reservoir at a forty-year low", False),
    ]  # fmt: skip


def test_an_unknown_kind_an_empty_key_or_a_removed_reader_is_refused(shelf: Shelf) -> None:
    f = shelf.store.follows
    with pytest.raises(ValueError, match="choose one of outlet, tag, entity, story"):
        f.follow(shelf.ada, "author", "reporter-a", "Reporter A", T)
    with pytest.raises(ValueError, match="its key is empty"):
        f.follow(shelf.ada, "tag", "", "#", T)
    with pytest.raises(NotFoundError, match="no reader 999"):
        f.follow(999, "tag", "harbour", "#harbour", T)
    assert f.follows(shelf.ada) == []


# --- bookmarks -------------------------------------------------------------------------------------------------


def test_bookmarks_come_newest_first_a_page_at_a_time(shelf: Shelf) -> None:
    f = shelf.store.follows
    ids = [shelf.article() for _ in range(5)]
    # The last two bookmarked in the same second: the article id breaks the tie.
    times = [T, T + MINUTE, T + 2 * MINUTE, T + 3 * MINUTE, T + 3 * MINUTE]
    for article_id, when in zip(ids, times, strict=True):
        assert f.bookmark(shelf.ada, article_id, when)
    assert not f.bookmark(shelf.ada, ids[0], T + 9 * MINUTE)  # already: the first time stays
    f.bookmark(shelf.bob, ids[2], T)
    pages, before = [], None
    while page := f.bookmarks(shelf.ada, limit=2, before=before):
        pages.append([c.id for c in page])
        before = page[-1].position
    assert pages == [[ids[4], ids[3]], [ids[2], ids[1]], [ids[0]]]
    first = f.bookmarks(shelf.ada, limit=1)[0]
    assert first.bookmarked_at == T + 3 * MINUTE and first.position == (T + 3 * MINUTE, ids[4])
    plain = shelf.store.reads.card(ids[4])  # the card any list shows
    assert isinstance(first, ArticleCard)
    assert all(getattr(first, column.name) == getattr(plain, column.name) for column in fields(plain))
    assert f.bookmarks(shelf.ada)[-1].bookmarked_at == T  # its first bookmark's time
    assert f.is_bookmarked(shelf.ada, [ids[0], ids[2], 999]) == {ids[0], ids[2]}
    assert f.is_bookmarked(shelf.ada, []) == set()
    assert f.unbookmark(shelf.ada, ids[0]) and not f.unbookmark(shelf.ada, ids[0])
    assert [c.id for c in f.bookmarks(shelf.bob)] == [ids[2]]
    with pytest.raises(NotFoundError, match="no article 999"):
        f.bookmark(shelf.ada, 999, T)
    with pytest.raises(NotFoundError, match="no reader 999"):
        f.bookmark(999, ids[0], T)
    with pytest.raises(ValueError, match="between 1 and 200"):
        f.bookmarks(shelf.ada, limit=0)


# --- reading history -------------------------------------------------------------------------------------------


def test_a_read_is_one_row_per_article_with_its_latest_time(shelf: Shelf) -> None:
    f = shelf.store.follows
    first, second, third = (shelf.article() for _ in range(3))
    f.record_read(shelf.ada, first, 7, T)
    f.record_read(shelf.ada, second, None, T + MINUTE)
    f.record_read(shelf.ada, first, 8, T + 2 * MINUTE)  # opened again, in another story by now
    f.record_read(shelf.ada, second, 9, T)  # a view that lands late does not move the time back
    f.record_read(shelf.bob, third, None, T)
    assert f.history(shelf.ada, T - MINUTE) == [(first, 8, T + 2 * MINUTE), (second, None, T + MINUTE)]
    assert f.history(shelf.ada, T + 2 * MINUTE) == [(first, 8, T + 2 * MINUTE)]
    assert f.history(shelf.ada, T - MINUTE, limit=1) == [(first, 8, T + 2 * MINUTE)]
    assert _rows(shelf.store, reads) == 3
    with pytest.raises(NotFoundError, match="no article 999"):
        f.record_read(shelf.ada, 999, None, T)
    assert f.forget_history(shelf.ada) == 2
    assert f.history(shelf.ada, T - MINUTE) == [] and f.forget_history(shelf.ada) == 0
    assert f.history(shelf.bob, T - MINUTE) == [(third, None, T)]


# --- For You ---------------------------------------------------------------------------------------------------


@pytest.fixture
def newsroom(shelf: Shelf) -> Shelf:
    """Stories 1 to 5, whose members Ada follows, mutes or read in different ways (see the test below)."""
    f, ada = shelf.store.follows, shelf.ada
    f.follow(ada, "outlet", "alder-post", "Alder Post", T)
    f.follow(ada, "outlet", "wire-desk", "Wire Desk", T)
    f.follow(ada, "tag", "harbour", "#harbour", T)
    f.follow(ada, "tag", "weather", "", T)  # no name given: its key is shown
    f.follow(ada, "entity", "imogen-thackery", "Imogen Thackery", T)
    f.follow(ada, "outlet", "the-shouting-times", "The Shouting Times", T, mute=True)
    f.follow(ada, "tag", "football", "#football", T, mute=True)
    f.follow(ada, "story", "3", "Lighthouse sale", T)
    f.follow(ada, "story", "4", "Transfer gossip", T, mute=True)
    f.follow(shelf.bob, "outlet", "quillon-daily", "Quillon Daily", T)  # Bob's, not Ada's
    a1 = shelf.article("Alder Post", story=1, tags=("Harbour", "Weather"))
    a2 = shelf.article("Quillon Daily", story=1, entities=("Imogen Thackery", "Lucan Abernethy"))
    shelf.article("Wire Desk", story=1, tags=("Harbour",))
    shelf.article("The Shouting Times", story=2, tags=("Harbour",))  # muted outlet, followed tag
    shelf.article("Quillon Daily", story=2, tags=("Football",))  # muted tag
    shelf.article("The Shouting Times", story=3)  # a muted outlet in a story Ada follows
    shelf.article("Alder Post", story=4)  # a followed outlet in a story Ada muted
    shelf.article("The Shouting Times", story=5)
    a9 = shelf.article("Quillon Daily", story=5)
    for article_id in (a1, a2, a9):
        f.record_read(ada, article_id, None, T)
    f.record_read(shelf.bob, a1, None, T)
    return shelf


def test_for_you_signals_name_what_the_reader_follows_in_each_story(newsroom: Shelf) -> None:
    signals = newsroom.store.follows.for_you_signals(newsroom.ada, [1, 2, 3, 4, 5, 6, 1])
    assert signals == {
        1: StorySignals(outlets=("Alder Post", "Wire Desk"), tags=("#harbour", "weather"),
                        entities=("Imogen Thackery",), read_articles=2),
        2: StorySignals(tags=("#harbour",), muted=True),  # every member muted, one way or another
        3: StorySignals(followed_story=True),  # following the story outweighs its muted outlet
        4: StorySignals(outlets=("Alder Post",), muted=True),  # muting the story outweighs its outlet
        5: StorySignals(read_articles=1),  # one member of a muted outlet, one not
        6: StorySignals(),  # no members (yet)
    }  # fmt: skip
    bob = newsroom.store.follows.for_you_signals(newsroom.bob, [1, 2, 5])
    quillon = ("Quillon Daily",)
    assert bob == {
        1: StorySignals(quillon, read_articles=1),
        2: StorySignals(quillon),
        5: StorySignals(quillon),
    }
    assert newsroom.store.follows.for_you_signals(newsroom.ada, []) == {}


def _explain(conn: Connection, statement: str, params: Any) -> str:
    if conn.dialect.name == "postgresql":
        return " / ".join(row[0].strip() for row in conn.exec_driver_sql("EXPLAIN " + statement, params))
    return " / ".join(row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params))


def test_for_you_signals_take_two_statements_that_start_from_the_candidates_members(newsroom: Shelf) -> None:
    store = newsroom.store
    candidates = list(range(1, 201))
    theirs, members = _statements(store, lambda: store.follows.for_you_signals(newsroom.ada, candidates))
    assert len(_statements(store, lambda: store.follows.for_you_signals(newsroom.bob + 100, candidates))) == 2
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # A few rows make any plan cheap: price scans out, so that what is left is what the SQL allows.
            for plan in ("seqscan", "bitmapscan"):
                conn.exec_driver_sql(f"SET enable_{plan} = off")
        plans = [_explain(conn, *theirs), _explain(conn, *members)]
    if store.engine.dialect.name == "postgresql":
        assert "Index Cond: ((user_id = " in plans[0], plans[0]
        # A member's tags and entities are looked up by its id, whatever the planner makes of the rest.
        assert plans[1].count("SubPlan") == 2 and plans[1].count("(article_id = articles.id)") == 2, plans[1]
        return
    # SQLite has no statistics: these are the plans of any archive.
    assert "SCAN" not in " ".join(plans), plans
    assert "SEARCH follows USING PRIMARY KEY (user_id=? AND kind=?)" in plans[0], plans[0]
    assert plans[1].startswith("SEARCH articles USING INDEX ix_articles_story_id (story_id=?)"), plans[1]
    assert plans[1].count("article_id=?") == 3, plans[1]  # its read, its tags, its entities


# --- what goes with a reader or an article --------------------------------------------------------------------


def test_removing_a_reader_or_an_article_takes_their_follows_bookmarks_and_reads(shelf: Shelf) -> None:
    f = shelf.store.follows
    kept, removed = shelf.article(), shelf.article()
    for reader in (shelf.ada, shelf.bob):
        f.follow(reader, "tag", "harbour", "#harbour", T)
        for article_id in (kept, removed):
            f.bookmark(reader, article_id, T)
            f.record_read(reader, article_id, None, T)
    assert shelf.store.accounts.remove_user("bob", T)
    assert (_rows(shelf.store, follows), _rows(shelf.store, bookmarks), _rows(shelf.store, reads)) == (
        1,
        2,
        2,
    )
    with shelf.store.engine.begin() as conn:
        conn.execute(delete(articles).where(articles.c.id == removed))
    assert [c.id for c in f.bookmarks(shelf.ada)] == [kept]
    assert f.history(shelf.ada, T) == [(kept, None, T)]
    assert f.state(shelf.ada, "tag", "harbour") == "following"
