"""Full-text search on PostgreSQL (migration 0011): the index follows its rows, is found through GIN, is made
by migrations a database owner can run; and the snippets' window, which is chosen in Python there."""

from __future__ import annotations

import asyncio
import html
import importlib
import random
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from storefill import T0, Add, adder

from broadsheet.config import Settings
from broadsheet.errors import StoreError
from broadsheet.pipeline.crawl import Crawler
from broadsheet.pipeline.ingest import Ingester
from broadsheet.store import Store, compact_index, index_segments, search
from broadsheet.store.db import _alembic_config, connect, migrate
from broadsheet.store.ftsquery import parse_query, to_tsquery
from broadsheet.store.schema import include_name, metadata
from broadsheet.store.search import Compaction, gin_scans, newest_floor, ranked_matches, snippet_html
from postgres import PostgresCluster

search_module = importlib.import_module("broadsheet.store.search")
on_postgresql = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _ids(store: Store, q: str) -> list[int]:
    return [hit.card.id for hit in search(store, q).hits]


@contextmanager
def _admin(cluster: PostgresCluster, database: str = "postgres") -> Iterator[psycopg.Connection[Any]]:
    """A superuser's connection to `database`, outside any transaction (CREATE DATABASE needs that)."""
    user = make_url(cluster.url(database)).username
    with psycopg.connect(
        host="127.0.0.1", port=cluster.port, user=user, dbname=database, autocommit=True
    ) as conn:
        yield conn


def _new_role_and_database(cluster: PostgresCluster, *, owner: bool) -> tuple[str, str]:
    """A login role that is no superuser, and a new database: the role's own, or one where it may only create
    tables (CREATE on the public schema, not on the database). Returns the role's URL and the database."""
    role, database = f"reader_{uuid.uuid4().hex[:8]}", f"owned_{uuid.uuid4().hex[:8]}"
    with _admin(cluster) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")  # type: ignore[arg-type]  # our own names
        conn.execute(f"CREATE DATABASE {database}" + (f" OWNER {role}" if owner else ""))  # type: ignore[arg-type]
    if not owner:
        with _admin(cluster, database) as conn:
            conn.execute(f"GRANT CREATE ON SCHEMA public TO {role}")  # type: ignore[arg-type]
    url = make_url(cluster.url(database)).set(username=role)
    return url.render_as_string(hide_password=False), database


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


# --- the index -------------------------------------------------------------------------------------------------


@on_postgresql
def test_the_index_follows_its_rows_and_never_holds_copies(store: Store, add: Add) -> None:
    first = add("Quay crane arrives", "The crane for the new quay arrived by barge on Tuesday.")
    second = add("Orchard fair opens", "Cider makers from the valley filled the square.", hours=1)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET title = 'Quay gantry arrives' WHERE id = :id"), {"id": first})
    assert _ids(store, "gantry") == [first]
    assert _ids(store, "crane") == [first]  # still in the text
    with (
        store.engine.begin() as conn
    ):  # marked a copy later: it leaves the results, and comes back when unmarked
        conn.execute(text("UPDATE articles SET duplicate_of = :o WHERE id = :id"), {"o": second, "id": first})
    assert _ids(store, "gantry") == []
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET duplicate_of = NULL WHERE id = :id"), {"id": first})
    assert _ids(store, "gantry") == [first]


@on_postgresql
def test_an_article_too_big_for_a_tsvector_is_stored_and_found_by_its_start(store: Store, add: Add) -> None:
    # Every word different: the worst case for a tsvector's size, which may not pass 1 MB.
    text_ = "Lighthouse log. " + " ".join(f"{uuid.uuid4().hex}{n}" for n in range(40_000))
    article = add("The longest log", text_)
    assert _ids(store, "lighthouse log") == [article]


@on_postgresql
def test_searches_find_their_matches_through_the_gin_index(store: Store, add: Add) -> None:
    for n in range(30):
        add(
            f"Harbour report {n}", f"The harbour master counted {n} boats.", hours=n, outlet=f"Outlet {n % 3}"
        )
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if "search_vector @@" in statement:
            statements.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert len(search(store, "harbour boats", outlet_slug="outlet-1", per_page=5).hits) == 5
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    ((statement, params),) = statements
    with store.engine.connect() as conn:
        with gin_scans(conn):
            plan = " / ".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + statement, params))
        # The planner's own settings are back for the rest of the transaction.
        assert conn.execute(text("SELECT current_setting('enable_seqscan')")).scalar() == "on"
    assert "Bitmap Index Scan on ix_articles_search_vector" in plan, plan
    assert "Seq Scan" not in plan and "ix_articles_outlet_slug" not in plan, plan  # the filter is a test


_PENDING = text("SELECT gin_clean_pending_list('ix_articles_search_vector'::regclass)")


@on_postgresql
def test_compacting_and_the_crawlers_upkeep_empty_the_gin_indexs_pending_list(
    store: Store, add: Add, tmp_path: Path
) -> None:
    def add_some(first: int) -> None:
        for n in range(first, first + 6):
            add(f"Quay works, day {n}", f"Day {n} of the works at the quay: the crane arrived.", hours=n)

    add_some(0)
    with store.engine.begin() as conn:  # new entries wait in the pending list: this merges them itself
        assert conn.execute(_PENDING).scalar_one() > 0
    add_some(6)
    assert index_segments(store) == 0
    assert compact_index(store, above=1) == Compaction(1, True)
    with store.engine.begin() as conn:
        assert conn.execute(_PENDING).scalar_one() == 0  # compact_index merged them
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'ix_articles_search_vector'")
        ).scalar_one()
        assert options == ["gin_pending_list_limit=1024"]  # migration 0014
    add_some(12)
    settings = Settings(home=tmp_path, search_max_segments=1, search_compact_seconds=0)
    crawler = Crawler(settings, store, Ingester(store, settings), clock=lambda: T0)
    asyncio.run(crawler.tidy_search_index())
    with store.engine.begin() as conn:
        assert conn.execute(_PENDING).scalar_one() == 0
    assert len(search(store, "crane", per_page=50).hits) == 18


# --- the migration ---------------------------------------------------------------------------------------------


@on_postgresql
def test_the_schema_matches_the_declared_one_but_for_the_search_index(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, metadata) == []  # include_name leaves out what 0011 added
        columns = conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'articles'")
        ).scalars()
        assert "search_vector" in set(columns)


@on_postgresql
def test_the_search_migration_goes_down_and_up_again_indexing_what_is_there(store: Store, add: Add) -> None:
    article = add("Pêche record at Veltra", "The boats came back full.")
    _to(store.engine, "0010", down=True)
    configs = text("SELECT count(*) FROM pg_ts_config WHERE cfgname = 'broadsheet_search'")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT to_regclass('ix_articles_search_vector')")).scalar() is None
        assert conn.execute(configs).scalar() == 0
    _to(store.engine, "head")
    assert _ids(store, "peche") == [article]


def test_a_database_owner_who_is_no_superuser_can_migrate_and_search(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url, _ = _new_role_and_database(postgres, owner=True)
    store = Store.open(url)  # migrates from nothing, adding unaccent (a trusted extension) on the way
    try:
        add = adder(store, tmp_path)
        article = add("Café terrace reopens", "The café on the quay reopened its terrace.")
        assert _ids(store, "cafe terrace") == [article]
    finally:
        store.close()


def test_a_user_who_may_not_add_unaccent_is_told_how_to_fix_it(
    postgres: PostgresCluster, tmp_path: Path
) -> None:
    url, database = _new_role_and_database(postgres, owner=False)
    engine = connect(url)
    try:
        with pytest.raises(StoreError, match=r"run CREATE EXTENSION unaccent; in this database"):
            migrate(engine)
    finally:
        engine.dispose()
    with _admin(postgres, database) as conn:  # what the message says to do
        conn.execute("CREATE EXTENSION unaccent")
    store = Store.open(url)
    try:
        article = adder(store, tmp_path)("Pêche record", "The boats came back full.")
        assert _ids(store, "peche") == [article]
    finally:
        store.close()


# --- snippets: the window FTS5's snippet() would show, from ts_headline's marked text ---------------------------

S, E = "\ue000s\ue001", "\ue002e\ue003"


def test_a_short_text_is_shown_whole_with_its_punctuation_and_everything_escaped() -> None:
    marked = f'<p> "A" & the {S}quay{E}.'
    assert snippet_html(marked, S, E, 24) == "&lt;p&gt; &quot;A&quot; &amp; the <mark>quay</mark>."


def test_a_long_text_is_cut_around_its_matches_with_ellipses() -> None:
    words = [f"w{n}" for n in range(100)]
    words[50] = f"{S}quay{E}"
    html = snippet_html(" ".join(words) + ".", S, E, 10)
    # Centred as FTS5 centres: (10 - 1) // 2 = 4 words before the match, 5 after.
    assert html == "…w46 w47 w48 w49 <mark>quay</mark> w51 w52 w53 w54 w55…"


def test_the_window_with_the_most_different_matches_wins_and_a_sentence_start_is_preferred() -> None:
    words = [f"w{n}" for n in range(60)]
    words[5] = f"{S}ferry{E}"
    words[40], words[43] = f"{S}ferry{E}", f"{S}tram{E}"
    words[38] = "end."
    html = snippet_html(" ".join(words), S, E, 8)
    assert html == "…w39 <mark>ferry</mark> w41 w42 <mark>tram</mark> w44 w45 w46…"  # starts its sentence


def test_the_start_and_end_of_the_text_show_no_ellipsis() -> None:
    words = [f"w{n}" for n in range(30)]
    assert snippet_html(" ".join([f"{S}quay{E}", *words]), S, E, 5) == "<mark>quay</mark> w0 w1 w2 w3…"
    assert snippet_html(" ".join([*words, f"{S}quay{E}!"]), S, E, 5) == "…w26 w27 w28 w29 <mark>quay</mark>!"
    assert snippet_html("", S, E, 5) == ""


def test_the_window_and_its_cuts_are_those_of_sqlites_own_snippet_function() -> None:
    # SQLite's snippet() over random texts, against snippet_html given the same words marked.
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(40)] + ["ferry", "tram", "quay"]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61')")
    compared = 0
    for _ in range(500):
        words = [
            rng.choice(vocabulary) + rng.choice([" ", " ", ". ", ", ", ": ", " - ", "\n\n"])
            for _ in range(80)
        ]
        doc = (
            rng.choice(["", '"', "<"]) + "".join(words[: rng.randint(1, 80)]).rstrip() + rng.choice(["", "!"])
        )
        looked_for = rng.sample(["ferry", "tram", "quay", "w1"], rng.randint(1, 3))
        size = rng.choice([5, 8, 24])
        db.execute("DELETE FROM t")
        db.execute("INSERT INTO t (rowid, x) VALUES (1, ?)", (doc,))
        row = db.execute(
            "SELECT snippet(t, 0, ?, ?, '…', ?) FROM t WHERE t MATCH ?", (S, E, size, " OR ".join(looked_for))
        ).fetchone()
        if row is None:
            continue
        expected = html.escape(row[0]).replace(S, "<mark>").replace(E, "</mark>")
        marked = "".join(f"{S}{w}{E}" if w in looked_for else w for w in re.split(r"([^\W_]+)", doc))
        assert snippet_html(marked, S, E, size) == expected, (doc, looked_for, size)
        compared += 1
    assert compared > 300


# --- a common word among the newest ids first ------------------------------------------------------------------


def test_the_floor_leaves_room_for_twice_the_window_among_the_newest_ids() -> None:
    assert newest_floor(estimate=100, newest_id=10_000, window=50) == 0  # under four windows: no floor
    # 40 % of 10 000 ids match: the newest 250 ids should hold 100 matches, twice a window of 50
    assert newest_floor(estimate=4_000, newest_id=10_000, window=50) == 9_750
    assert newest_floor(estimate=4_000, newest_id=0, window=50) == 0


@on_postgresql
def test_a_common_word_is_ranked_among_its_newest_matches_looking_at_the_newest_ids_first(
    store: Store, add: Add, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(8)
    for n in range(60):  # "quay" in every article, "crane" in about a third
        add(
            f"Quay day {n}",
            f"The quay {'crane ' if rng.random() < 0.3 else ''}works went on, day {n}.",
            hours=n,
        )
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE articles")  # the estimate comes from the column's statistics
    floors: list[int] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if "search_vector @@" in statement and not statement.startswith("EXPLAIN"):
            floors.append(params.get("floor", 0))

    def ranked(q: str) -> list[tuple[int, float]]:
        with store.engine.connect() as conn:
            return ranked_matches(conn, to_tsquery(parse_query(q)), limit=2, offset=1, window=3)

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        quay, crane = ranked("quay"), ranked("crane")
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert floors[0] > 0 and floors[-1] > 0  # both looked among the newest ids only
    with monkeypatch.context() as m:
        m.setattr(search_module, "_newest_floor", lambda *_: 0)
        assert ranked("quay") == quay and ranked("crane") == crane  # and found what a search of all finds
        assert len(quay) == len(crane) == 2
        # An estimate far too high puts the floor where fewer than a window match: searched again among all.
        m.setattr(search_module, "newest_floor", lambda estimate, newest, window: newest - 3)
        expected = ranked("crane")
    floors.clear()
    monkeypatch.setattr(search_module, "newest_floor", lambda estimate, newest, window: newest - 3)
    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        assert ranked("crane") == expected == crane
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    assert floors[0] > 0 and floors[-1] == 0
