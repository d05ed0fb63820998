"""Fixtures shared by the whole suite: real loopback publishers and Settings fit for talking to them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from broadsheet.config import Settings
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
