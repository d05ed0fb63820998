"""Jobs in the database and subscribing many feeds at once: progress committed with the work, a job whose
process died is seen to have stopped, feeds already subscribed are skipped in one query a batch."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, text

from broadsheet.clock import utcnow
from broadsheet.models import Outline
from broadsheet.store import Store
from broadsheet.store.jobs import STALLED_AFTER
from broadsheet.store.schema import sources


def test_a_batch_is_subscribed_in_one_transaction_with_its_progress(store: Store) -> None:
    now = utcnow()
    job = store.jobs.create("opml_import", "subs.opml", now)
    store.jobs.start(job.id, now, total=5)
    store.sources.add_many([Outline(url="https://a.example/rss")], now=now, interval_seconds=60)
    statements: list[str] = []
    commits: list[None] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    event.listen(store.engine, "commit", lambda *a: commits.append(None))
    outlines = [Outline(url=f"https://{name}.example/rss", title=name, folder="News") for name in "abcde"]
    added, skipped = store.sources.add_many(
        outlines,
        now=now,
        interval_seconds=60,
        then=lambda conn, a, s: store.jobs.advance(conn, job.id, now, processed=5, added=a, skipped=s),
    )
    assert (added, skipped) == (4, 1)
    assert len(commits) == 1
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    done = store.jobs.get(job.id, now)
    assert (done.status, done.processed, done.added, done.skipped) == ("running", 5, 4, 1)
    assert {s.url: s.folder for s in store.sources.all()}["https://e.example/rss"] == "News"


def test_a_job_that_stopped_moving_is_shown_as_failed_with_the_reason(store: Store) -> None:
    now = utcnow()
    job = store.jobs.create("opml_import", "subs.opml", now)
    store.jobs.start(job.id, now, total=10)
    assert store.jobs.get(job.id, now + STALLED_AFTER - timedelta(seconds=1)).status == "running"
    later = store.jobs.get(job.id, now + STALLED_AFTER + timedelta(seconds=1))
    assert later.status == "failed" and later.error is not None
    assert "stopped without finishing" in later.error and "Import the file again" in later.error
    store.jobs.finish(job.id, now)
    assert store.jobs.get(job.id, now + timedelta(days=1)).status == "done"


def test_recent_jobs_are_the_newest_first_of_the_last_day(store: Store) -> None:
    now = utcnow()
    old = store.jobs.create("opml_import", "old.opml", now - timedelta(days=2))
    first = store.jobs.create("opml_import", "first.opml", now)
    second = store.jobs.create("opml_import", "second.opml", now)
    assert [j.id for j in store.jobs.recent(now)] == [second.id, first.id]
    assert old.id not in [j.id for j in store.jobs.recent(now)]


def test_a_feed_another_process_subscribes_meanwhile_counts_as_skipped(
    store: Store, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: there is no meanwhile to race")
    now = utcnow()
    taken, fresh = "https://taken.example/rss", "https://fresh.example/rss"
    other = create_engine(database_url)
    result: list[tuple[int, int]] = []
    try:
        with other.connect() as conn:
            conn.execute(
                sources.insert().values(url=taken, kind="feed", title="", site_url="", folder="",
                                        created_at=now, interval_seconds=60, next_fetch_at=now)
            )  # fmt: skip
            # Not committed yet: the subscribing process does not see it, and its insert waits for it.
            racer = threading.Thread(
                target=lambda: result.append(
                    store.sources.add_many(
                        [Outline(url=taken), Outline(url=fresh)], now=now, interval_seconds=60
                    )
                )
            )
            racer.start()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                waiting = conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar_one()
                if waiting:
                    break
                time.sleep(0.02)
            conn.commit()
            racer.join(10)
    finally:
        other.dispose()
    assert result == [(1, 1)]
    assert sorted(s.url for s in store.sources.all()) == [fresh, taken]
