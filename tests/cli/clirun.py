"""What the CLI tests share beside their fixtures (which are in this folder's conftest): what a CLI run returns,
and the database a run used, opened the way the command opens it (SQLite in the home, or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broadsheet.store import Store

__all__ = ["CliResult", "cli_database", "open_store"]


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def cli_database(cli_env: dict[str, str], home: Path) -> str:
    """The database URL the CLI uses for `home` in this environment: BROADSHEET_DATABASE_URL when `cli_env`
    sets one (the PostgreSQL case), else the SQLite file in the home."""
    return cli_env.get("BROADSHEET_DATABASE_URL") or f"sqlite:///{(home / 'broadsheet.db').resolve()}"


@contextmanager
def open_store(cli_env: dict[str, str], home: Path) -> Iterator[Store]:
    """The store the CLI writes for `home`, opened as the CLI opens it (and migrated), closed afterwards:
    for tests that look into (or hold something in) the database beside the command."""
    store = Store.open(cli_database(cli_env, home))
    try:
        yield store
    finally:
        store.close()
