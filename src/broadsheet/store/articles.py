"""SQL for articles and the URLs that reach them. Each write is one transaction: an article is stored
whole (row, URLs, signature) or not at all, which is what makes a killed crawl safe to rerun."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from broadsheet.errors import NotFoundError
from broadsheet.models import Article
from broadsheet.slugs import slugify
from broadsheet.store.db import dialect_insert
from broadsheet.store.prepared import Prepared
from broadsheet.store.schema import article_tags, article_urls, articles, enrichments, outlet_icons

__all__ = ["ArticleStore", "KnownArticle", "article_from_row", "newest_id", "tag_rows"]


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """The little dedupe needs to know about a stored article."""

    id: int
    canonical_url: str
    content_hash: str
    duplicate_of: int | None
    updated: datetime | None
    published: datetime | None


_KNOWN = (
    articles.c.id,
    articles.c.canonical_url,
    articles.c.content_hash,
    articles.c.duplicate_of,
    articles.c.updated,
    articles.c.published,
)


# Dedupe asks both for every article it is given (a crawl's, an import's): compiled once, and on SQLite run on
# the driver's cursor (store/prepared.py), they cost a tenth of a statement built and run through SQLAlchemy.
_URL_LEADS_TO = Prepared(select(article_urls.c.article_id).where(article_urls.c.url == bindparam("url")))
_BY_CONTENT_HASH = Prepared(
    select(*_KNOWN)
    .where(articles.c.content_hash == bindparam("content_hash"))
    .order_by(articles.c.id)
    .limit(1)
)
_ONE_BY_ONE = 8  # on SQLite, URLs looked up one statement each; more (and any on a server) go in IN lists

# The writes of each article stored, built once (a statement built per call costs SQLAlchemy its cache key each
# time); the upserts per back end, whose ON CONFLICT clauses differ.
_INSERT_ARTICLE = insert(articles)
_INSERT_TAGS = insert(article_tags)


@functools.cache
def _insert_urls(dialect: str) -> Any:
    """A URL already leading to an article keeps leading there: first come, first kept."""
    return dialect_insert(dialect, article_urls).on_conflict_do_nothing()


@functools.cache
def _upsert_icon(dialect: str) -> Any:
    row = dialect_insert(dialect, outlet_icons)
    return row.on_conflict_do_update(
        index_elements=["outlet_slug"], set_={"url": row.excluded.url, "seen_at": row.excluded.seen_at}
    )


def _known(row: Any) -> KnownArticle:
    return KnownArticle(
        row.id, row.canonical_url, row.content_hash, row.duplicate_of, row.updated, row.published
    )


def article_from_row(row: Any) -> Article:
    return Article(
        id=row.id,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        text=row.text,
        html=row.html,
        published=row.published,
        updated=row.updated,
        outlet=row.outlet,
        author=row.author,
        image=row.image,
        image_alt=row.image_alt,
        lang=row.lang,
        description=row.description,
        tags=tuple(json.loads(row.tags or "[]")),
        section=row.section,
        genre=row.genre,
        topic=row.topic,
        kind=row.kind,
        source_id=row.source_id,
        duplicate_of=row.duplicate_of,
        content_hash=row.content_hash,
        extraction_note=row.extraction_note,
        story_id=row.story_id,
    )


def _content_values(article: Article, signature: bytes | None, now: datetime) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "text": article.text,
        "html": article.html,
        "description": article.description,
        "author": article.author,
        "outlet": article.outlet,
        "image": article.image,
        "image_alt": article.image_alt,
        "lang": article.lang,
        "section": article.section,
        "genre": article.genre,
        "tags": json.dumps(list(article.tags), ensure_ascii=False),
        "published": article.published,
        "updated": article.updated,
        "word_count": len(article.text.split()),
        "content_hash": article.content_hash,
        "minhash": signature,
        "extraction_note": article.extraction_note,
        "modified_at": now,
        "outlet_slug": slugify(article.outlet),
    }


def tag_rows(article_id: int, tags: Collection[str], sort_time: datetime) -> list[dict[str, Any]]:
    """One row per distinct tag slug ("Politics" and "politics" are one tag; the first spelling is kept)."""
    rows: dict[str, dict[str, Any]] = {}
    for tag in tags:
        name = tag.strip()
        if name:
            slug = slugify(name)
            rows.setdefault(
                slug, {"slug": slug, "article_id": article_id, "name": name, "sort_time": sort_time}
            )
    return list(rows.values())


class ArticleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- reads --------------------------------------------------------------------------------------------

    def known_urls(self, urls: Collection[str]) -> dict[str, int]:
        """Which of these (canonicalised) URLs already lead to a stored article, and to which."""
        if not urls:
            return {}
        found: dict[str, int] = {}
        chunk = list(urls)
        with self.engine.connect() as conn:
            # An article's few addresses, on SQLite: a prepared lookup each costs less than one IN list built
            # through SQLAlchemy. On a database server each would be a round trip, so they go in one list.
            if len(chunk) <= _ONE_BY_ONE and conn.dialect.name == "sqlite":
                for url in chunk:
                    row = _URL_LEADS_TO.first(conn, {"url": url})
                    if row is not None:
                        found[url] = row.article_id
                return found
            for start in range(0, len(chunk), 500):
                part = chunk[start : start + 500]
                query = select(article_urls.c.url, article_urls.c.article_id).where(
                    article_urls.c.url.in_(part)
                )
                found.update({row.url: row.article_id for row in conn.execute(query)})
        return found

    def known(self, article_id: int) -> KnownArticle:
        with self.engine.connect() as conn:
            row = conn.execute(select(*_KNOWN).where(articles.c.id == article_id)).first()
        if row is None:
            raise NotFoundError(f"no article with id {article_id}")
        return _known(row)

    def by_content_hash(self, content_hash: str) -> KnownArticle | None:
        """The first stored article with this exact content (the original, not a copy of it)."""
        with self.engine.connect() as conn:
            row = _BY_CONTENT_HASH.first(conn, {"content_hash": content_hash})
        return _known(row) if row else None

    def exists(self, article_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(articles.c.id).where(articles.c.id == article_id)).first() is not None

    def get(self, article_id: int) -> Article:
        with self.engine.connect() as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
            if row is None:
                raise NotFoundError(f"no article with id {article_id}")
            article = article_from_row(row)
            article.aliases = tuple(self._urls(conn, article_id))
            article.also_published_at = tuple(self._copies(conn, [article_id]).get(article_id, ()))
        return article

    def _copies(self, conn: Connection, ids: list[int]) -> dict[int, list[str]]:
        """Canonical URLs of the copies of each of `ids` ("also published at"), oldest copy first."""
        query = (
            select(articles.c.duplicate_of, articles.c.canonical_url)
            .where(articles.c.duplicate_of.in_(ids))
            .order_by(articles.c.id)
        )
        copies: dict[int, list[str]] = {}
        for row in conn.execute(query):
            copies.setdefault(row.duplicate_of, []).append(row.canonical_url)
        return copies

    def _urls(self, conn: Connection, article_id: int) -> list[str]:
        query = (
            select(article_urls.c.url)
            .where(article_urls.c.article_id == article_id)
            .order_by(article_urls.c.url)
        )
        return [row.url for row in conn.execute(query)]

    def signatures_since(self, since: datetime) -> Iterator[tuple[int, bytes]]:
        """Signatures of originals (not copies) stored or changed since `since`, oldest first."""
        query = (
            select(articles.c.id, articles.c.minhash)
            .where(
                articles.c.modified_at >= since,
                articles.c.minhash.is_not(None),
                articles.c.duplicate_of.is_(None),
            )
            .order_by(articles.c.id)
        )
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield row.id, row.minhash

    def signatures_after(self, article_id: int, *, batch: int = 1000) -> Iterator[tuple[int, bytes | None]]:
        """Every article with an id above `article_id`, oldest first, with its signature when it is an original
        that has one (None for copies and for articles without text): what other processes stored since. Read
        `batch` at a time: a range of the primary key, cheap however big the table, where an unbounded
        `id > ?` lets PostgreSQL's generic plan for the prepared statement scan the whole table."""
        last = article_id
        while True:
            query = (
                select(articles.c.id, articles.c.minhash, articles.c.duplicate_of)
                .where(articles.c.id > last)
                .order_by(articles.c.id)
                .limit(batch)
            )
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield row.id, (row.minhash if row.duplicate_of is None else None)
            if len(rows) < batch:
                return
            last = rows[-1].id

    def iter_all(self, batch: int = 1000) -> Iterator[Article]:
        """Every stored article in id order, read in batches (keyset pagination, constant memory), with its
        copies' addresses (`also_published_at`) and every address it is known by (`urls`)."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(articles).where(articles.c.id > last).order_by(articles.c.id).limit(batch)
                )
                page = [article_from_row(row) for row in rows]
                ids = [a.id for a in page if a.id is not None]
                copies = self._copies(conn, ids)
                known: dict[int, list[str]] = {}
                if ids:
                    rows = conn.execute(
                        select(article_urls.c.article_id, article_urls.c.url)
                        .where(article_urls.c.article_id.in_(ids))
                        .order_by(article_urls.c.article_id, article_urls.c.url)
                    )
                    for row in rows:
                        known.setdefault(row.article_id, []).append(row.url)
            if not page:
                return
            for article in page:
                article.also_published_at = tuple(copies.get(article.id or 0, ()))
                article.urls = tuple(known.get(article.id or 0, ()))
            yield from page
            last = page[-1].id or last

    def max_id(self) -> int:
        """The newest article's id (0 when there are none)."""
        with self.engine.connect() as conn:
            return newest_id(conn)

    def count(self, *, duplicates: bool | None = None) -> int:
        query = select(func.count()).select_from(articles)
        if duplicates is not None:
            column = articles.c.duplicate_of
            query = query.where(column.is_not(None) if duplicates else column.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def top_outlets(self, limit: int = 10) -> list[tuple[str, int]]:
        query = (
            select(articles.c.outlet, func.count().label("n"))
            .group_by(articles.c.outlet)
            .order_by(func.count().desc(), articles.c.outlet)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.outlet, row.n) for row in conn.execute(query)]

    def date_range(self) -> tuple[datetime | None, datetime | None]:
        with self.engine.connect() as conn:
            row = conn.execute(select(func.min(articles.c.published), func.max(articles.c.published))).one()
        low, high = row
        return low, high

    # --- writes: one transaction each ---------------------------------------------------------------------

    def insert(self, article: Article, signature: bytes | None, urls: Collection[str], now: datetime) -> int:
        values = _content_values(article, signature, now)
        values.update(
            canonical_url=article.canonical_url,
            source_id=article.source_id,
            duplicate_of=article.duplicate_of,
            created_at=now,
            sort_time=article.published or now,
        )
        with self.engine.begin() as conn:
            # Parameters passed apart from the statement: it compiles once and is reused from SQLAlchemy's cache.
            new_id = int(conn.execute(_INSERT_ARTICLE, values).inserted_primary_key[0])  # type: ignore[index]
            self._add_urls(conn, new_id, {article.canonical_url, *urls})
            self._set_icon(conn, values["outlet_slug"], article.icon, now)
            self._set_tags(conn, new_id, article.tags, values["sort_time"], new=True)
        return new_id

    def replace_content(
        self, article_id: int, article: Article, signature: bytes | None, urls: Collection[str], now: datetime
    ) -> None:
        """An updated version of a stored article: new text and metadata, same id, old URLs kept. What
        enrichment made of the old version is forgotten, so the next enrichment run redoes it."""
        values = _content_values(article, signature, now)
        del values["url"]  # the address it was first found at stays; the new one joins article_urls
        if article.published is None:
            del values["published"]  # the date given before stays, and with it the place in the lists
        else:
            values["sort_time"] = article.published
        with self.engine.begin() as conn:
            conn.execute(update(articles).where(articles.c.id == article_id).values(**values))
            self._add_urls(conn, article_id, urls)
            self._set_icon(conn, values["outlet_slug"], article.icon, now)
            sort_time = conn.execute(
                select(articles.c.sort_time).where(articles.c.id == article_id)
            ).scalar_one()
            self._set_tags(conn, article_id, article.tags, sort_time, new=False)
            conn.execute(delete(enrichments).where(enrichments.c.article_id == article_id))

    def _set_icon(self, conn: Connection, outlet_slug: str, icon: str, now: datetime) -> None:
        """The outlet's icon, as its newest page names it (sites change icons)."""
        if not icon or not outlet_slug:
            return
        conn.execute(
            _upsert_icon(conn.dialect.name), {"outlet_slug": outlet_slug, "url": icon, "seen_at": now}
        )

    def add_urls(self, article_id: int, urls: Collection[str]) -> None:
        with self.engine.begin() as conn:
            self._add_urls(conn, article_id, urls)

    def _set_tags(
        self, conn: Connection, article_id: int, tags: Collection[str], sort_time: datetime, *, new: bool
    ) -> None:
        if not new:
            conn.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
        rows = tag_rows(article_id, tags, sort_time)
        if rows:
            conn.execute(_INSERT_TAGS, rows)

    def _add_urls(self, conn: Connection, article_id: int, urls: Collection[str]) -> None:
        if not urls:
            return
        rows = [{"url": url, "article_id": article_id} for url in sorted(urls)]
        conn.execute(_insert_urls(conn.dialect.name), rows)


_NEWEST_ID = select(func.coalesce(func.max(articles.c.id), 0))


def newest_id(conn: Connection) -> int:
    """The newest article's id (0 when there are none): one step down the primary key."""
    return int(conn.execute(_NEWEST_ID).scalar_one())
