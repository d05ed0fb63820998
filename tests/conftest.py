"""Fixtures shared by the whole suite: real loopback publishers and Settings fit for talking to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broadsheet.config import Settings
from postgres import PostgresCluster, find_binaries
from publisher import Publisher


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    """A publisher on 127.0.0.1."""
    with Publisher("127.0.0.1") as pub:
        yield pub


@pytest.fixture
def publisher2() -> Iterator[Publisher]:
    """A second publisher on 127.0.0.2: a different host, for per-host limits and cross-host redirects."""
    with Publisher("127.0.0.2") as pub:
        yield pub


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for loopback tests: private networks allowed, no politeness delay, fast retries/timeouts."""
    return Settings(
        home=tmp_path,
        allow_private_networks=True,
        per_host_delay=0,
        retry_backoff=0.01,
        connect_timeout=2,
        request_timeout=5,
    )


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session (started on first use)."""
    binaries = find_binaries()
    if binaries is None:
        pytest.fail(
            "PostgreSQL is not installed: the tests run on it as well as on SQLite. Install Debian's "
            "postgresql (`make system-deps`), or name its bin folder in BROADSHEET_TEST_PG_BIN."
        )
    cluster = PostgresCluster(binaries)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database on each back end in turn: a SQLite file, or a migrated PostgreSQL database
    (dropped after the test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'b.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.database()
    yield url
    cluster.drop(url)
