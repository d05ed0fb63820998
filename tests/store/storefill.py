"""Helpers for the store's tests: `Add`, which ingests one invented article through the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadsheet.config import Settings
from broadsheet.dedupe import Action
from broadsheet.models import Article
from broadsheet.pipeline.ingest import Ingester
from broadsheet.store import Store

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


class Add(Protocol):
    def __call__(
        self,
        title: str,
        text: str,
        *,
        outlet: str = ...,
        hours: float | None = ...,
        tags: tuple[str, ...] = ...,
        lang: str = ...,
        description: str = ...,
        url: str | None = ...,
        expect: Action = ...,
    ) -> int: ...


def adder(store: Store, home: Path) -> Add:
    """Ingest one article through the pipeline (so dedupe runs as in a crawl); returns its id.
    `hours` after T0 is its published time; None means the publisher gave no date."""
    pipeline = Ingester(store, Settings(home=home), clock=lambda: T0 + timedelta(days=30))
    count = 0

    def add(
        title: str,
        text: str,
        *,
        outlet: str = "The Alder Gazette",
        hours: float | None = 0,
        tags: tuple[str, ...] = (),
        lang: str = "en",
        description: str = "",
        url: str | None = None,
        expect: Action = Action.NEW,
    ) -> int:
        nonlocal count
        count += 1
        host = outlet.lower().replace(" ", "")
        article = Article(
            url=url or f"https://{host}.example/news/{count}",
            canonical_url="",
            title=title,
            text=text,
            published=None if hours is None else T0 + timedelta(hours=hours),
            outlet=outlet,
            tags=tags,
            lang=lang,
            description=description,
        )
        result = pipeline.ingest(article)
        assert result.action is expect, result
        return result.article_id

    return add
