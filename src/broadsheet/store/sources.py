"""SQL for sources: subscribe (one, or many from an OPML list), list with health a page at a time, schedule,
and record each fetch's outcome."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from broadsheet.errors import NotFoundError, SourceError
from broadsheet.models import Outline, Source, SourceKind
from broadsheet.store.db import dialect_insert
from broadsheet.store.schema import articles, sources

__all__ = ["FetchOutcome", "SourceStore"]

LISTED_ORDER = (sources.c.folder, sources.c.title, sources.c.id)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What one poll of a source came to; written in one statement."""

    at: datetime
    status: str  # ok | not_modified | error
    next_fetch_at: datetime
    interval_seconds: int
    http_status: int | None = None
    error: str | None = None
    new_articles: int = 0
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None  # refreshed feed title, when the feed gave one
    warning: str | None = None  # the document had errors but could be read; what and how much


def _source(row: Any) -> Source:
    return Source(
        id=row.id,
        url=row.url,
        kind=SourceKind(row.kind),
        format=row.format,
        title=row.title,
        site_url=row.site_url,
        folder=row.folder,
        created_at=row.created_at,
        etag=row.etag,
        last_modified=row.last_modified,
        last_fetch_at=row.last_fetch_at,
        last_success_at=row.last_success_at,
        last_new_at=row.last_new_at,
        last_status=row.last_status,
        last_http_status=row.last_http_status,
        last_error=row.last_error,
        last_warning=row.last_warning,
        error_count=row.error_count,
        interval_seconds=row.interval_seconds,
        next_fetch_at=row.next_fetch_at,
        article_count=getattr(row, "article_count", 0) or 0,
    )


class SourceStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        url: str,
        kind: SourceKind,
        *,
        now: datetime,
        interval_seconds: int,
        title: str = "",
        site_url: str = "",
        folder: str = "",
        format: str = "",
        warning: str = "",
    ) -> Source:
        """Subscribe; raises SourceError if the URL is already a source."""
        values = {
            "url": url,
            "kind": kind.value,
            "format": format,
            "title": title,
            "site_url": site_url,
            "folder": folder,
            "created_at": now,
            "interval_seconds": interval_seconds,
            "next_fetch_at": now,
            "last_warning": warning or None,
        }
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(sources).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        except IntegrityError as exc:
            existing = self.find_by_url(url)
            raise SourceError(
                f"{url} is already a source (id {existing.id if existing else '?'}); nothing added"
            ) from exc
        return self.get(int(new_id))

    def _select(self) -> Any:
        count = (
            select(func.count())
            .where(articles.c.source_id == sources.c.id)
            .correlate(sources)
            .scalar_subquery()
            .label("article_count")
        )
        return select(sources, count)

    def get(self, source_id: int) -> Source:
        with self.engine.connect() as conn:
            row = conn.execute(self._select().where(sources.c.id == source_id)).first()
        if row is None:
            raise NotFoundError(f"no source with id {source_id}; `broadsheet source list` shows the ids")
        return _source(row)

    def find_by_url(self, url: str) -> Source | None:
        with self.engine.connect() as conn:
            row = conn.execute(self._select().where(sources.c.url == url)).first()
        return _source(row) if row else None

    def all(self) -> list[Source]:
        with self.engine.connect() as conn:
            rows = conn.execute(self._select().order_by(*LISTED_ORDER))
            return [_source(row) for row in rows]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(sources)).scalar_one())

    def listing(self, *, offset: int, limit: int) -> list[Source]:
        """One page of the sources in the admin page's order (folder, title), with their health."""
        # Only the page's rows are counted: the article counts of rows skipped over are never computed.
        page = select(sources.c.id).order_by(*LISTED_ORDER).limit(limit).offset(offset)
        query = self._select().where(sources.c.id.in_(page)).order_by(*LISTED_ORDER)
        with self.engine.connect() as conn:
            return [_source(row) for row in conn.execute(query)]

    def after(self, source_id: int, *, limit: int) -> list[Source]:
        """Up to `limit` sources with ids above `source_id`, in id order (the API's pages: an id stays put
        while others are added or removed, so no source is skipped or shown twice)."""
        query = self._select().where(sources.c.id > source_id).order_by(sources.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [_source(row) for row in conn.execute(query)]

    def add_many(
        self,
        outlines: Sequence[Outline],
        *,
        now: datetime,
        interval_seconds: int,
        then: Callable[[Connection, int, int], None] | None = None,
    ) -> tuple[int, int]:
        """Subscribe to the feeds of `outlines` in one transaction, skipping those already subscribed; returns
        (added, skipped). `then(conn, added, skipped)` runs inside the same transaction (to count progress)."""
        urls = list(dict.fromkeys(o.url for o in outlines))
        with self.engine.begin() as conn:
            known = set(conn.execute(select(sources.c.url).where(sources.c.url.in_(urls))).scalars())
            fresh: dict[str, Outline] = {}
            for outline in outlines:
                if outline.url not in known:
                    fresh.setdefault(outline.url, outline)
            added = 0
            if fresh:
                rows = [
                    {"url": o.url, "kind": SourceKind.FEED.value, "title": o.title, "site_url": o.site_url,
                     "folder": o.folder, "created_at": now, "interval_seconds": interval_seconds,
                     "next_fetch_at": now}
                    for o in fresh.values()
                ]  # fmt: skip
                # Another process may subscribe to one of them meanwhile: it counts as already there.
                # An executemany's rowcount is kept only when asked for (SQLAlchemy's preserve_rowcount).
                result = conn.execute(
                    dialect_insert(conn, sources)
                    .on_conflict_do_nothing()
                    .execution_options(preserve_rowcount=True),
                    rows,
                )
                added = result.rowcount if result.rowcount >= 0 else len(rows)  # -1: the driver does not say
            skipped = len(urls) - added
            if then is not None:
                then(conn, added, skipped)
        return added, skipped

    def due(self, now: datetime, *, all_sources: bool = False) -> list[Source]:
        query = self._select().order_by(sources.c.next_fetch_at, sources.c.id)
        if not all_sources:
            query = query.where(sources.c.next_fetch_at <= now)
        with self.engine.connect() as conn:
            return [_source(row) for row in conn.execute(query)]

    def next_due_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            value: datetime | None = conn.execute(select(func.min(sources.c.next_fetch_at))).scalar()
        return value

    def remove(self, source_id: int) -> Source:
        """Unsubscribe. Articles stay (their source_id becomes NULL): what was read stays readable."""
        source = self.get(source_id)
        with self.engine.begin() as conn:
            conn.execute(sources.delete().where(sources.c.id == source_id))
        return source

    def record(self, source_id: int, outcome: FetchOutcome) -> None:
        values: dict[str, Any] = {
            "last_fetch_at": outcome.at,
            "last_status": outcome.status,
            "last_http_status": outcome.http_status,
            "next_fetch_at": outcome.next_fetch_at,
            "interval_seconds": outcome.interval_seconds,
        }
        if outcome.status == "error":
            values["last_error"] = outcome.error
            values["error_count"] = sources.c.error_count + 1
        else:
            values.update(last_error=None, error_count=0, last_success_at=outcome.at)
            if outcome.status == "ok":  # a document left unchanged (304) keeps its warning
                values.update(
                    etag=outcome.etag, last_modified=outcome.last_modified, last_warning=outcome.warning
                )
            if outcome.new_articles:
                values["last_new_at"] = outcome.at
            if outcome.title:
                values["title"] = outcome.title
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.id == source_id).values(**values))

    def make_due(self, source_ids: Sequence[int], now: datetime) -> None:
        """Refresh now (the web UI's "refresh" button, `crawl --once` on a fresh source)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(sources)
                .where(sources.c.id.in_(source_ids))
                .values(next_fetch_at=now - timedelta(seconds=1))
            )
