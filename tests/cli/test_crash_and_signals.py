"""A real crawler process killed with SIGKILL mid-run, and the polling loop stopped with SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import cli_database
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from newsroom import article_page, make_stories, rss
from publisher import Publisher

pytestmark = pytest.mark.slow


def broadsheet(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "broadsheet", "--home", str(home), *args]


class Database:
    """The crawler's database looked into from beside it, on the back end the CLI uses (SQLite in the home,
    or PostgreSQL): plain reads, no migration, so a crawler still creating the SQLite file is left alone."""

    def __init__(self, cli_env: dict[str, str], home: Path) -> None:
        url = cli_database(cli_env, home)
        self.sqlite_file = home / "broadsheet.db" if url.startswith("sqlite") else None
        self.engine = create_engine(url, connect_args={"timeout": 10} if self.sqlite_file else {})

    def rows(self, sql: str) -> list[Any]:
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            return []
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]

    def stored(self, where: str = "") -> int:
        try:
            return int(self.rows(f"SELECT count(*) FROM articles {where}")[0][0])
        except (IndexError, OperationalError):  # no file, or its schema not created yet
            return 0


@pytest.fixture
def database(cli_env: dict[str, str], tmp_path: Path) -> Iterator[Database]:
    db = Database(cli_env, tmp_path / "home")
    yield db
    db.engine.dispose()


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
    publisher: Publisher, tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
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
        wait_for(lambda t=threshold, c=crawler: database.stored() >= t or c.poll() is not None)
        crawler.send_signal(signal.SIGKILL)
        # Returns only once every holder of the pipes is gone: orphaned extraction workers would hang here.
        crawler.communicate(timeout=30)
        assert crawler.returncode == -signal.SIGKILL
        counts.append(database.stored())
    assert 4 <= counts[0] <= counts[1] < 40

    finish = subprocess.run(broadsheet(home, "crawl", "--once"), capture_output=True, text=True, check=False)
    assert finish.returncode == 0, finish.stderr
    if database.sqlite_file is not None:  # a killed writer never leaves a torn SQLite file
        assert database.rows("PRAGMA integrity_check") == [("ok",)]
    rows = database.rows("SELECT canonical_url, text FROM articles")
    assert len(rows) == 40
    assert len({url for url, _ in rows}) == 40
    assert all(len(text) > 200 for _, text in rows)  # full text, never a half-written row
    # validators saved only once every entry was stored
    assert database.rows("SELECT last_status, etag FROM sources") == [("ok", '"1"')]


def test_polling_loop_stops_cleanly_on_sigterm(
    publisher: Publisher, tmp_path: Path, database: Database
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
    wait_for(lambda: database.stored("WHERE story_id IS NOT NULL") == 3 or loop.poll() is not None)
    time.sleep(0.3)  # let the pass report and the loop go to sleep
    loop.send_signal(signal.SIGTERM)
    out, err = loop.communicate(timeout=20)
    assert loop.returncode == 0, err
    assert "3 new articles" in out and "stopped" in out
    assert database.stored("WHERE story_id IS NOT NULL") == 3  # kept, grouped
