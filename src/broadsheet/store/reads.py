"""What the web reader lists: newest articles (by outlet, tag, language), cards, outlets, tags; the article page.

Each list is one walk down an index in (sort_time, id) order with a keyset cursor; no full text is read.
Full-text search lives in `search.py`, "related articles" in `related.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, Select, func, select, tuple_

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard, CardPage, EntityInfo, OutletInfo, TagInfo
from broadsheet.store.article_page import ArticlePage, read_article_page
from broadsheet.store.cards import CARD_COLUMNS, ORIGINALS, card, cards_by_id, decode_cursor, encode_cursor
from broadsheet.store.related import related_cards
from broadsheet.store.schema import article_entities, article_tags, articles, outlet_icons

__all__ = ["MAX_PAGE", "ReadStore"]

MAX_PAGE = 200  # most cards one list page may ask for


def _site(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


class ReadStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest(
        self,
        *,
        limit: int,
        cursor: str | None = None,
        outlet_slug: str | None = None,
        tag_slug: str | None = None,
        entity_slug: str | None = None,
        topic: str | None = None,
        lang: str | None = None,
        include_duplicates: bool = False,
    ) -> CardPage:
        """Newest first by (sort_time, id). `cursor` is the `next_cursor` of the page before; a cursor this
        store did not make raises BadCursorError. Copies are left out unless `include_duplicates`."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        query: Select[Any]
        if tag_slug is not None:
            # A tag's list walks article_tags' (slug, sort_time, article_id) index and joins each card.
            time, key = article_tags.c.sort_time, article_tags.c.article_id
            joined = article_tags.join(articles, articles.c.id == article_tags.c.article_id)
            query = select(*CARD_COLUMNS).select_from(joined).where(article_tags.c.slug == tag_slug)
        elif entity_slug is not None:  # the same walk down article_entities' index
            time, key = article_entities.c.sort_time, article_entities.c.article_id
            joined = article_entities.join(articles, articles.c.id == article_entities.c.article_id)
            query = select(*CARD_COLUMNS).select_from(joined).where(article_entities.c.slug == entity_slug)
        else:
            time, key = articles.c.sort_time, articles.c.id
            query = select(*CARD_COLUMNS)
        if topic is not None:
            query = query.where(articles.c.topic == topic)
        if outlet_slug is not None:
            query = query.where(articles.c.outlet_slug == outlet_slug)
        if lang is not None:
            query = query.where(articles.c.lang == lang)
        if not include_duplicates:
            query = query.where(ORIGINALS)
        if cursor is not None:
            after_time, after_id = decode_cursor(cursor)
            query = query.where(tuple_(time, key) < tuple_(after_time, after_id))
        query = query.order_by(time.desc(), key.desc()).limit(limit + 1)
        with self.engine.connect() as conn:
            cards = [card(row) for row in conn.execute(query)]
        if len(cards) <= limit:
            return CardPage(tuple(cards), None)
        last = cards[limit - 1]
        return CardPage(tuple(cards[:limit]), encode_cursor(last.sort_time, last.id))

    def card(self, article_id: int) -> ArticleCard:
        with self.engine.connect() as conn:
            row = conn.execute(select(*CARD_COLUMNS).where(articles.c.id == article_id)).first()
        if row is None:
            raise NotFoundError(f"no article with id {article_id}")
        return card(row)

    def cards(self, ids: list[int]) -> list[ArticleCard]:
        """Cards of `ids` in that order; ids not stored are left out."""
        with self.engine.connect() as conn:
            found = cards_by_id(conn, ids)
        return [found[i] for i in ids if i in found]

    def article_page(self, article_id: int, now: datetime, related: int = 6) -> ArticlePage:
        """What the article page shows (see `article_page.py`). Raises NotFoundError for an unknown id."""
        return read_article_page(self.engine, article_id, now, related)

    def related(self, article_id: int, limit: int = 6) -> list[ArticleCard]:
        """Articles about the same thing, other outlets first (see `related.py`)."""
        with self.engine.connect() as conn:
            return related_cards(conn, article_id, limit)

    # --- outlets and tags: counts include copies (each is an article its outlet published) ------------------

    def outlets(self) -> list[OutletInfo]:
        """Every outlet, most articles first, then by name."""
        query = select(
            articles.c.outlet_slug, func.count().label("n"), func.max(articles.c.sort_time).label("latest")
        ).group_by(articles.c.outlet_slug)
        with self.engine.connect() as conn:
            counts = list(conn.execute(query))
            icons = self._icons(conn)
            found = [self._outlet(conn, row.outlet_slug, row.n, row.latest, icons) for row in counts]
        return sorted(found, key=lambda o: (-o.article_count, o.name.casefold(), o.slug))

    def outlet(self, slug: str) -> OutletInfo | None:
        query = select(func.count().label("n"), func.max(articles.c.sort_time).label("latest")).where(
            articles.c.outlet_slug == slug
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
            return self._outlet(conn, slug, row.n, row.latest, self._icons(conn)) if row.n else None

    def _outlet(
        self, conn: Connection, slug: str, count: int, latest: datetime | None, icons: dict[str, str]
    ) -> OutletInfo:
        # The name and site as its newest article gives them: outlets rename, old spellings fade.
        newest = conn.execute(
            select(articles.c.outlet, articles.c.url)
            .where(articles.c.outlet_slug == slug)
            .order_by(articles.c.sort_time.desc(), articles.c.id.desc())
            .limit(1)
        ).one()
        return OutletInfo(slug, newest.outlet, count, latest, _site(newest.url), icons.get(slug, ""))

    def _icons(self, conn: Connection) -> dict[str, str]:
        """Each outlet's icon URL (of those whose pages name one), by outlet slug."""
        return {row.outlet_slug: row.url for row in conn.execute(select(outlet_icons))}

    def tags(self, limit: int = 50) -> list[TagInfo]:
        """The most used tags, most articles first."""
        query = (
            select(article_tags.c.slug, func.min(article_tags.c.name).label("name"), func.count().label("n"))
            .group_by(article_tags.c.slug)
            .order_by(func.count().desc(), article_tags.c.slug)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [TagInfo(row.slug, row.name, row.n) for row in conn.execute(query)]

    def entity(self, slug: str) -> EntityInfo | None:
        """The entity with this slug: its most used name and type, and how many articles mention it."""
        query = (
            select(article_entities.c.name, article_entities.c.type, func.count().label("n"))
            .where(article_entities.c.slug == slug)
            .group_by(article_entities.c.name, article_entities.c.type)
            .order_by(func.count().desc(), article_entities.c.name)
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query.limit(20)))
        if not rows:
            return None
        return EntityInfo(slug, rows[0].name, rows[0].type, sum(r.n for r in rows))

    def entity_stories(self, slug: str, limit: int, scan: int = 500) -> list[int]:
        """Ids of the stories whose articles mention the entity, most recent mention first (among its
        `scan` most recent mentions, so the cost stays flat however famous the entity)."""
        recent = (
            select(article_entities.c.article_id, article_entities.c.sort_time)
            .where(article_entities.c.slug == slug)
            .order_by(article_entities.c.sort_time.desc())
            .limit(scan)
            .subquery()
        )
        query = (
            select(articles.c.story_id, func.max(recent.c.sort_time).label("t"))
            .select_from(recent.join(articles, articles.c.id == recent.c.article_id))
            .where(articles.c.story_id.is_not(None))
            .group_by(articles.c.story_id)
            .order_by(func.max(recent.c.sort_time).desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [row.story_id for row in conn.execute(query)]

    def tag(self, slug: str) -> TagInfo | None:
        query = select(func.min(article_tags.c.name).label("name"), func.count().label("n")).where(
            article_tags.c.slug == slug
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
        return TagInfo(slug, row.name, row.n) if row.n else None
