"""Fixtures for the store's read side: a real SQLite file and `add`, which ingests invented articles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from storefill import Add, adder

from broadsheet.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store.open(database_url)
    yield store
    store.close()


@pytest.fixture
def add(store: Store, tmp_path: Path) -> Add:
    return adder(store, tmp_path)
