"""A real crawler process killed with SIGKILL mid-run, and the polling loop stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsroom import article_page, make_stories, rss
from publisher import Publisher

pytestmark = pytest.mark.slow


def broadsheet(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "broadsheet", "--home", str(home), *args]


def stored(home: Path, where: str = "") -> int:
    db = home / "broadsheet.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db, timeout=10) as conn:
        try:
            return int(conn.execute(f"SELECT count(*) FROM articles {where}").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0


def wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the crawler")


def serve(publisher: Publisher, count: int, delay: float) -> None:
    stories = make_stories(count)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url), delay=delay)
    publisher.add(
        "/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml", etag='"1"'
    )


def test_crawl_killed_with_sigkill_loses_nothing_and_stores_nothing_twice(
    publisher: Publisher, tmp_path: Path, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_EXTRACT_WORKERS", "2")  # the real process pool, as in production
    serve(publisher, 40, delay=0.08)
    home = tmp_path / "home"
    subprocess.run(
        broadsheet(home, "source", "add", publisher.url("/feed.xml")), check=True, capture_output=True
    )

    counts = []
    for threshold in (4, 14):  # kill twice, at different points of the run
        crawler = subprocess.Popen(
            broadsheet(home, "crawl", "--once"), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        wait_for(lambda t=threshold, c=crawler: stored(home) >= t or c.poll() is not None)
        crawler.send_signal(signal.SIGKILL)
        # Returns only once every holder of the pipes is gone: orphaned extraction workers would hang here.
        crawler.communicate(timeout=30)
        assert crawler.returncode == -signal.SIGKILL
        counts.append(stored(home))
    assert 4 <= counts[0] <= counts[1] < 40

    finish = subprocess.run(broadsheet(home, "crawl", "--once"), capture_output=True, text=True, check=False)
    assert finish.returncode == 0, finish.stderr
    with sqlite3.connect(home / "broadsheet.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT canonical_url, text FROM articles").fetchall()
        assert len(rows) == 40
        assert len({url for url, _ in rows}) == 40
        assert all(len(text) > 200 for _, text in rows)  # full text, never a half-written row
        status = conn.execute("SELECT last_status, etag FROM sources").fetchone()
    assert status == ("ok", '"1"')  # validators saved only once every entry was stored


def test_polling_loop_stops_cleanly_on_sigterm(
    publisher: Publisher, tmp_path: Path, cli_env: dict[str, str]
) -> None:
    serve(publisher, 3, delay=0)
    home = tmp_path / "home"
    subprocess.run(
        broadsheet(home, "source", "add", publisher.url("/feed.xml")), check=True, capture_output=True
    )
    loop = subprocess.Popen(
        broadsheet(home, "crawl"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # The pass ends once its articles are grouped into stories.
    wait_for(lambda: stored(home, "WHERE story_id IS NOT NULL") == 3 or loop.poll() is not None)
    time.sleep(0.3)  # let the pass report and the loop go to sleep
    loop.send_signal(signal.SIGTERM)
    out, err = loop.communicate(timeout=20)
    assert loop.returncode == 0, err
    assert "3 new articles" in out and "stopped" in out
    assert os.path.exists(home / "broadsheet.db")
