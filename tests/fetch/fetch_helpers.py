"""Shared helpers for the fetch tests: run one fetch (or several) through a real Fetcher."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from broadsheet.config import Settings
from broadsheet.fetch import Fetcher, FetchResult

T = TypeVar("T")


def fetch(settings: Settings, url: str, **kwargs: Any) -> FetchResult:
    """One fetch with a fresh Fetcher."""

    async def go() -> FetchResult:
        async with Fetcher(settings) as fetcher:
            return await fetcher.fetch(url, **kwargs)

    return asyncio.run(go())


def with_fetcher(settings: Settings, body: Callable[[Fetcher], Awaitable[T]], **kwargs: Any) -> T:
    """Run `body(fetcher)` on a fresh Fetcher(settings, **kwargs)."""

    async def go() -> T:
        async with Fetcher(settings, **kwargs) as fetcher:
            return await body(fetcher)

    return asyncio.run(go())
