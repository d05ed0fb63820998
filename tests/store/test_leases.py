"""Leases on a real SQLite file: one holder at a time, renewal, expiry, release, and a race between processes."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadsheet.store import Store

T = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def test_one_holder_at_a_time_until_it_expires_or_is_released(store: Store) -> None:
    leases = store.leases
    first = leases.acquire("stories", "server", TTL, T)
    assert first.acquired and first.generation == 1
    refused = leases.acquire("stories", "import", TTL, T + timedelta(minutes=1))
    assert not refused.acquired and refused.holder == "server" and refused.until == T + TTL
    # Renewing keeps the generation: nobody else has written in between.
    renewed = leases.acquire("stories", "server", TTL, T + timedelta(minutes=4))
    assert renewed.acquired and renewed.generation == 1
    assert not leases.acquire("stories", "import", TTL, T + timedelta(minutes=8)).acquired  # renewed to 9:00
    taken = leases.acquire("stories", "import", TTL, T + timedelta(minutes=9))  # the server died: it lapsed
    assert taken.acquired and taken.generation == 2
    leases.release("stories", "import", T + timedelta(minutes=10))
    back = leases.acquire("stories", "server", TTL, T + timedelta(minutes=10))
    assert back.acquired and back.generation == 3  # the server learns that someone else held it meanwhile
    leases.release("stories", "someone-else", T + timedelta(minutes=11))  # not theirs: nothing happens
    assert not leases.acquire("stories", "import", TTL, T + timedelta(minutes=11)).acquired
    assert leases.acquire("other-work", "import", TTL, T).acquired  # leases are independent


def _contend(
    url: str, holder: str, start: multiprocessing.synchronize.Event, results: multiprocessing.Queue
) -> None:  # type: ignore[type-arg]
    store = Store.open(url)
    start.wait()
    results.put((holder, store.leases.acquire("stories", holder, TTL, T).acquired))
    store.close()


def test_processes_asking_at_the_same_moment_get_one_lease(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    Store.open(url).close()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_contend, args=(url, f"p{i}", start, results)) for i in range(4)]
    for w in workers:
        w.start()
    start.set()
    outcomes = [results.get(timeout=60) for _ in workers]
    for w in workers:
        w.join(30)
    assert sum(acquired for _, acquired in outcomes) == 1, outcomes


def test_a_write_guarded_by_the_lease_commits_only_while_its_writer_holds_it(store: Store) -> None:
    leases = store.leases
    mine = leases.acquire("stories", "slow", TTL, T)
    with store.engine.begin() as conn:  # still held: renewed
        assert leases.hold(conn, "stories", "slow", mine.generation, TTL, T + timedelta(minutes=4))
    assert leases.acquire("stories", "fast", TTL, T + timedelta(minutes=9)).acquired  # renewed until 9:00
    with store.engine.begin() as conn:  # lost to another holder since: refused
        assert not leases.hold(conn, "stories", "slow", mine.generation, TTL, T + timedelta(minutes=10))
    leases.release("stories", "fast", T + timedelta(minutes=11))
    again = leases.acquire("stories", "slow", TTL, T + timedelta(minutes=12))
    with (
        store.engine.begin() as conn
    ):  # held again, but others wrote in between: the old generation is refused
        assert not leases.hold(conn, "stories", "slow", mine.generation, TTL, T + timedelta(minutes=12))
        assert leases.hold(conn, "stories", "slow", again.generation, TTL, T + timedelta(minutes=12))
