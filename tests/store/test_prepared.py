"""`Prepared` statements give exactly the rows SQLAlchemy gives for the same statement and parameters."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import Connection, bindparam, select
from storefill import Add

from broadsheet.dedupe import Action
from broadsheet.store import Store
from broadsheet.store.article_page import _AROUND, _ARTICLE
from broadsheet.store.cards import CARD_COLUMNS
from broadsheet.store.prepared import Prepared
from broadsheet.store.schema import articles


def same_rows(conn: Connection, prepared: Prepared, params: dict[str, Any]) -> list[Any]:
    expected = conn.execute(prepared.statement, params).all()
    got = prepared.rows(conn, params)
    assert [tuple(r) for r in got] == [tuple(r) for r in expected]
    assert [type(v) for r in got for v in r] == [
        type(v) for r in expected for v in r
    ]  # datetimes, bytes, None
    for g, e in zip(got, expected, strict=True):
        assert g._fields == e._fields
    return list(got)


def test_rows_match_sqlalchemys_values_types_and_names(store: Store, add: Add) -> None:
    ids = []
    for n in range(6):
        outlet = "Quillon Post" if n % 2 else "The Alder Gazette"
        text = f"The ferry to Quillon leaves at {n} o'clock from now on."
        ids.append(
            add(f"Ferry timetable change {n}", text, hours=n, outlet=outlet, tags=("Ferries",) * (n % 2))
        )
    undated = add("Harbour notice without a date", "The harbour office posted a notice.", hours=None)
    copy = add("Ferry timetable change 3", "The ferry to Quillon leaves at 3 o'clock from now on.", hours=4.5,
               outlet="Gull Point Gazette", expect=Action.COPY)  # fmt: skip
    seen: dict[str, int] = {"older": 0, "newer": 0, "copy": 0}
    with store.engine.connect() as conn:
        for article_id in [*ids, undated, copy, 10_000]:
            found = same_rows(conn, _ARTICLE, {"id": article_id})
            if not found:
                assert article_id == 10_000
                continue
            row = found[0]
            assert row.sort_time.tzinfo == UTC
            around = same_rows(
                conn, _AROUND, {"outlet": row.outlet_slug, "t": row.sort_time, "id": article_id}
            )
            for r in around:
                seen[r.kind] += 1
    assert all(seen.values()), seen  # every branch of the union was compared


def test_statements_with_expanding_parameters_are_refused(store: Store) -> None:
    by_ids = Prepared(select(*CARD_COLUMNS).where(articles.c.id.in_(bindparam("ids", expanding=True))))
    with store.engine.connect() as conn, pytest.raises(TypeError, match="expanding"):
        by_ids.rows(conn, {"ids": [1, 2]})


def test_cards_are_read_by_position_from_rows_that_start_with_the_card_columns() -> None:
    # card() unpacks the first columns in this order; a change to CARD_COLUMNS must change it too.
    assert [c.key for c in CARD_COLUMNS] == [
        "id", "title", "url", "canonical_url", "outlet", "outlet_slug", "published", "sort_time", "image",
        "image_alt", "description", "lead", "lang", "tags", "duplicate_of",
    ]  # fmt: skip
    assert [c.key for c in _ARTICLE.statement.selected_columns][: len(CARD_COLUMNS)] == [
        c.key for c in CARD_COLUMNS
    ]
