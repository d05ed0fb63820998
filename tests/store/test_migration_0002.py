"""Migration 0002 on a database that already holds articles: backfills, the FTS index, downgrade."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, text

from broadsheet.store import Store, search
from broadsheet.store.db import _alembic_config, connect, migrate
from broadsheet.store.schema import include_name, metadata


def _to(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _row(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "url": f"https://example.org/{n}",
        "canonical_url": f"https://example.org/{n}",
        "title": f"Story {n}",
        "text": f"Body of story {n}.",
        "content_hash": f"h{n}",
        "created_at": datetime(2026, 11, 1, 12, n),
        "modified_at": datetime(2026, 11, 1, 12, n),
    }
    row.update(values)
    return row


def _database_at_0001(tmp_path: Path) -> Engine:
    engine = connect(f"sqlite:///{tmp_path / 'old.db'}")
    _to(engine, "0001")
    rows = [
        _row(
            1,
            title="Lighthouse keeper honoured",
            published=datetime(2026, 10, 3, 9),
            outlet="Café & Bar",
            tags=json.dumps(["Coast", "coast", "Awards"]),
        ),
        _row(2, title="Dune fencing repaired", outlet="Quillon Post"),  # no published date, no tags
        _row(
            3,
            title="Lighthouse keeper honoured",
            duplicate_of=1,
            outlet="Wire",
            published=datetime(2026, 10, 3, 10),
        ),
    ]
    with engine.begin() as conn:
        for row in rows:
            # Raw SQL with 0001's columns: `metadata` already describes the newer table.
            conn.execute(
                text(f"INSERT INTO articles ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"),
                {
                    k: (v.isoformat(sep=" ", timespec="microseconds") if isinstance(v, datetime) else v)
                    for k, v in row.items()
                },
            )
        conn.execute(text("INSERT INTO article_urls (url, article_id) VALUES ('https://example.org/1', 1)"))
    return engine


def test_upgrading_a_0001_database_backfills_lists_tags_and_search(tmp_path: Path) -> None:
    engine = _database_at_0001(tmp_path)
    assert migrate(engine) == "0020"
    store = Store(engine)
    first, second, copy = (store.reads.card(i) for i in (1, 2, 3))
    assert first.sort_time == datetime.fromisoformat("2026-10-03T09:00:00+00:00")
    assert second.published is None and second.sort_time == datetime.fromisoformat(
        "2026-11-01T12:02:00+00:00"
    )
    assert (first.outlet_slug, second.outlet_slug, copy.outlet_slug) == ("cafe-bar", "quillon-post", "wire")
    assert [t.slug for t in store.reads.tags()] == ["awards", "coast"]
    assert store.reads.tag("coast").name == "Coast"  # type: ignore[union-attr]
    assert [c.id for c in store.reads.latest(limit=5).items] == [2, 1]
    # The index was built from existing rows; the copy is left out of it.
    assert [h.card.id for h in search(store, "lighthouse").hits] == [1]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM article_urls")).scalar() == 1  # nothing cascaded away
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, metadata) == []


def test_downgrade_to_0001_and_back_up_again(tmp_path: Path) -> None:
    engine = _database_at_0001(tmp_path)
    migrate(engine)
    _to(engine, "0001", down=True)
    with engine.connect() as conn:
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master"))}
        assert not {n for n in names if n.startswith(("articles_fts", "article_tags"))}
        assert conn.execute(text("SELECT count(*) FROM articles")).scalar() == 3
    migrate(engine)
    assert [h.card.id for h in search(engine, "dune").hits] == [2]


def test_the_index_follows_updates_and_deletes(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'b.db'}")
    with store.engine.begin() as conn:
        conn.execute(insert(metadata.tables["articles"]), _row(1, sort_time=datetime(2026, 11, 1)))
        conn.execute(
            insert(metadata.tables["articles"]), _row(2, sort_time=datetime(2026, 11, 2), duplicate_of=1)
        )
    assert [h.card.id for h in search(store, "story").hits] == [1]
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET text = 'Rewritten about kelp' WHERE id = 1"))
    assert search(store, "body").hits == ()
    assert [h.card.id for h in search(store, "kelp").hits] == [1]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM articles WHERE id = 1"))  # its copy becomes an original (SET NULL)
    assert [h.card.id for h in search(store, "story").hits] == [2]
    with store.engine.connect() as conn:
        conn.execute(text("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')"))
