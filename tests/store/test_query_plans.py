"""The reader's lists walk an index and stop after a page: checked with SQLite's EXPLAIN QUERY PLAN and
PostgreSQL's EXPLAIN (with other plans priced out, since a planner may rightly scan a table this small)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from storefill import Add

from broadsheet.store import Store
from broadsheet.store.cards import ORIGINALS
from broadsheet.store.schema import articles
from newsroom import make_stories


def _plans(store: Store, call: Callable[[], object]) -> list[str]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        statements.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    plans = []
    with store.engine.connect() as conn:
        if _postgresql(store):
            # A few rows make any plan cheap: price out the plans that cannot walk an index in order, so
            # that a Sort left in the plan means the index cannot give the order.
            for plan in ("seqscan", "bitmapscan", "sort"):
                conn.exec_driver_sql(f"SET enable_{plan} = off")
        for statement, params in statements:
            if _postgresql(store):
                rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
                plans.append(" / ".join(row[0].strip() for row in rows))
            else:
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                plans.append(" / ".join(row[3] for row in rows))
    return plans


def _postgresql(store: Store) -> bool:
    return store.engine.dialect.name == "postgresql"


@pytest.fixture
def filled(store: Store, add: Add) -> Store:
    for i, story in enumerate(make_stories(12)):
        add(story.title, story.text, outlet=("A", "B")[i % 2], hours=i, tags=tuple(story.tags))
    return store


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "ix_articles_sort_time (sort_time<?)"),
        ({"include_duplicates": True}, "ix_articles_sort_time (sort_time<?)"),
        ({"outlet_slug": "a"}, "ix_articles_outlet_slug (outlet_slug=? AND sort_time<?)"),
        ({"lang": "en"}, "ix_articles_lang (lang=? AND sort_time<?)"),
        ({"tag_slug": "veltra"}, "COVERING INDEX ix_article_tags_slug_sort_time (slug=? AND"),
    ],
)
def test_lists_walk_their_index_without_sorting(filled: Store, filters: dict[str, Any], index: str) -> None:
    cursor = filled.reads.latest(limit=1, **filters).next_cursor
    assert cursor is not None
    first, *_ = _plans(filled, lambda: filled.reads.latest(limit=1, **filters))
    (after,) = _plans(filled, lambda: filled.reads.latest(limit=1, cursor=cursor, **filters))
    if _postgresql(filled):
        name = index.split(" (")[0].split()[-1]
        for plan in (first, after):
            assert "Sort" not in plan and "Seq Scan" not in plan, plan
            assert name in plan, plan
        return
    assert "TEMP B-TREE" not in first and "TEMP B-TREE" not in after
    assert index.split(" (")[0] in first
    assert index in after


def test_outlet_counts_read_only_an_index(filled: Store) -> None:
    plans = _plans(filled, filled.reads.outlets)
    if _postgresql(filled):
        assert "Index Only Scan using ix_articles_outlet_slug" in plans[0], plans[0]
        assert all("ix_articles_outlet_slug" in plan for plan in plans[2:]), plans
        return
    assert plans[0] == "SCAN articles USING COVERING INDEX ix_articles_outlet_slug"
    assert plans[1] == "SCAN outlet_icons"  # one row per outlet
    assert all("ix_articles_outlet_slug" in plan for plan in plans[2:])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_with_real_statistics_postgresql_finds_an_articles_neighbours_down_its_outlets_index(
    store: Store, add: Add
) -> None:
    # No plan priced out: 600 articles of one outlet, analysed, as the planner sees a real archive. An
    # estimate it had to guess ("not a copy" written as an expression) once made it read and sort all of an
    # outlet's older articles to find the one before an article.
    first = add("Harbour board meets", "The harbour board met on Monday.", outlet="Quay Post")
    columns = [c for c in articles.c if c.computed is None and c.key != "id"]
    with store.engine.begin() as conn:
        row = conn.execute(select(*columns).where(articles.c.id == first)).one()._asdict()
        conn.execute(
            insert(articles),
            [
                {
                    **row,
                    "url": f"https://quay.example/{n}",
                    "canonical_url": f"https://quay.example/{n}",
                    "sort_time": row["sort_time"] + timedelta(minutes=n),
                }
                for n in range(1, 600)
            ],
        )
        conn.exec_driver_sql("ANALYZE articles")
        middle = conn.execute(
            select(articles.c.id).where(articles.c.url == "https://quay.example/300")
        ).scalar()
    statements: list[tuple[str, Any]] = []
    capture = lambda *args: statements.append((args[2], args[3]))  # noqa: E731
    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        page = store.reads.article_page(middle, now=datetime.now(UTC))
        store.reads.latest(limit=20, outlet_slug="quay-post")
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert page.previous is not None and page.following is not None
    listed = [(s, p) for s, p in statements if "ORDER BY articles.sort_time" in s]
    assert len(listed) == 2  # the page's neighbours (one statement), the outlet's list
    with store.engine.connect() as conn:
        for statement, params in listed:
            plan = " / ".join(r[0].strip() for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
            assert "Index Scan" in plan and "ix_articles_outlet_slug" in plan, plan
            assert "Bitmap Heap Scan" not in plan and "Sort Key: articles.sort_time" not in plan, plan


def test_statements_saying_not_a_copy_are_compiled_once_and_cached() -> None:
    # A construct without a cache key makes SQLAlchemy compile every statement holding it on every
    # execution (~1 ms for the article page's neighbours).
    statement = select(articles.c.id).where(ORIGINALS)
    assert statement._generate_cache_key() is not None
    assert statement._generate_cache_key() == select(articles.c.id).where(ORIGINALS)._generate_cache_key()
