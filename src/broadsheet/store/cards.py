"""Article cards as the reader lists them: the columns a card needs, its excerpt, and list cursors.

Shared by the read queries and search; which rows to read is decided there.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Connection, bindparam, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from broadsheet.errors import BadCursorError
from broadsheet.models import ArticleCard
from broadsheet.store.schema import articles
from broadsheet.text import collapse_whitespace

__all__ = [
    "CARD_COLUMNS",
    "ORIGINALS",
    "card",
    "cards_by_id",
    "decode_cursor",
    "encode_cursor",
    "excerpt",
]

EXCERPT_CHARS = 300
# Enough of the text for an excerpt after whitespace is collapsed, without reading whole articles.
LEAD_CHARS = 600


CARD_COLUMNS: tuple[ColumnElement[Any], ...] = (
    articles.c.id,
    articles.c.title,
    articles.c.url,
    articles.c.canonical_url,
    articles.c.outlet,
    articles.c.outlet_slug,
    articles.c.published,
    articles.c.sort_time,
    articles.c.image,
    articles.c.image_alt,
    articles.c.description,
    func.substr(articles.c.text, 1, LEAD_CHARS).label("lead"),
    articles.c.lang,
    articles.c.tags,
    articles.c.duplicate_of,
)

_CARD_WIDTH = len(CARD_COLUMNS)


class _NotACopy(ColumnElement[bool]):
    """`Not a copy`, written for each back end's planner so that a list walks its (sort_time, id) index and
    stops after one page. SQLite is given `duplicate_of + 0 IS NULL`, which no index can serve: it would
    otherwise walk ix_articles_duplicate_of (nearly every row) and sort. PostgreSQL is given the plain test:
    it knows from its statistics that most rows pass it, where it can only guess at an expression's (0.5 %)
    and would then read and sort all of an outlet's older articles to find the one before an article."""

    type = Boolean()
    # Nothing varies, so statements holding it have a cache key: compiled once, not on every execution.
    _traverse_internals = []  # noqa: RUF012  (SQLAlchemy's own declaration)
    inherit_cache = True


@compiles(_NotACopy)
def _not_a_copy(element: _NotACopy, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process((articles.c.duplicate_of + 0).is_(None), **kw)


@compiles(_NotACopy, "postgresql")
def _not_a_copy_postgresql(element: _NotACopy, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(articles.c.duplicate_of.is_(None), **kw)


ORIGINALS: ColumnElement[bool] = _NotACopy()


# Built once: building a statement costs more than SQLite takes to run it (and its compiled form is cached).
_BY_IDS = select(*CARD_COLUMNS).where(articles.c.id.in_(bindparam("ids", expanding=True)))


def cards_by_id(conn: Connection, ids: Sequence[int]) -> dict[int, ArticleCard]:
    """The cards of `ids` (those stored), by id, in one query."""
    if not ids:
        return {}
    return {c.id: c for c in map(card, conn.execute(_BY_IDS, {"ids": list(ids)}))}


def excerpt(description: str, lead: str, limit: int = EXCERPT_CHARS) -> str:
    """The description if there is one, else the opening of the text: one line, cut at a word, with "…"."""
    source = description or lead
    # Whitespace collapsed in the opening only, when that is long enough to cut:
    # a page builds dozens of cards.
    text = collapse_whitespace(source[: limit + limit // 4])
    if len(text) <= limit:
        text = collapse_whitespace(source)
        if len(text) <= limit:
            return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


def card(row: Sequence[Any]) -> ArticleCard:
    """An ArticleCard from a row whose first columns are CARD_COLUMNS, in that order (read by position: a
    page builds dozens, and reading 15 columns by name costs a third of building one)."""
    (id_, title, url, canonical_url, outlet, outlet_slug, published, sort_time, image, image_alt, description,
     lead, lang, tags, duplicate_of) = row[:_CARD_WIDTH]  # fmt: skip
    return ArticleCard(
        id=id_,
        title=title,
        url=url,
        canonical_url=canonical_url,
        outlet=outlet,
        outlet_slug=outlet_slug,
        published=published,
        sort_time=sort_time,
        image=image,
        image_alt=image_alt,
        excerpt=excerpt(description, lead or ""),
        lang=lang,
        tags=tuple(json.loads(tags)) if tags else (),
        duplicate_of=duplicate_of,
    )


def encode_cursor(sort_time: datetime, article_id: int) -> str:
    """Opaque position after which the next page starts: urlsafe base64 of "isotime|id"."""
    raw = f"{sort_time.astimezone(UTC).isoformat()}|{article_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    message = (
        "this page link is not valid (it may have been cut short or edited); start again from the first page"
    )
    if len(cursor) > 200:
        raise BadCursorError(message)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        when, _, number = raw.partition("|")
        sort_time = datetime.fromisoformat(when)
        article_id = int(number)
        if sort_time.tzinfo is None or article_id < 1 or not number.isdigit():
            raise ValueError("not a cursor this store makes")
        return sort_time.astimezone(UTC), article_id
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise BadCursorError(message) from exc
