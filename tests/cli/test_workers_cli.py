"""Workers on PostgreSQL: real `broadsheet worker` processes taking jobs from the queue, real loopback
publishers, and `crawl --once` and `queue` driving and showing them; a worker killed with SIGKILL mid-crawl
leaves its jobs to another, which stores every article once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clirun import CliResult
from sqlalchemy import create_engine, text

from newsroom import article_page, make_stories, rss
from postgres import PostgresCluster
from publisher import Publisher
from storyset import coverage

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]


@pytest.fixture(params=["postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Workers exist only on PostgreSQL: this module runs on it alone (overrides the two-back-end fixture)."""
    cluster = request.getfixturevalue("postgres")
    url = cluster.database()
    yield url
    cluster.drop(url)


class Workers:
    """`broadsheet worker` processes for one home, stopped (or killed) at the end of the test."""

    def __init__(self, home: Path, logs: Path) -> None:
        self.home = home
        self.logs = logs
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.running)}.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "broadsheet", "--home", str(self.home), "worker", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a SIGKILL to its group takes its extraction processes too
            )
        self.running.append(worker)
        return worker

    def log(self, index: int) -> str:
        return (self.logs / f"worker-{index}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.running:
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(10)


@pytest.fixture
def workers(tmp_path: Path, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    # A dead worker is noticed within a few seconds here (30 s by default).
    monkeypatch.setenv("BROADSHEET_WORKER_STALLED_SECONDS", "3")
    monkeypatch.setenv("BROADSHEET_WORKER_SHUTDOWN_SECONDS", "5")
    monkeypatch.setenv("BROADSHEET_STORIES", "false")  # no model load: these tests are about the queue
    monkeypatch.setenv("BROADSHEET_ENRICH", "false")
    monkeypatch.setenv("BROADSHEET_LOG_LEVEL", "INFO")  # the workers' logs say what each job did
    running = Workers(tmp_path / "home", tmp_path)
    yield running
    running.stop_all()


def serve(
    publisher: Publisher, prefix: str, count: int, delay: float = 0.0, *, seed: int = 0, etag: str = '"1"'
) -> str:
    stories = make_stories(count, seed=seed)
    for story in stories:
        story.slug = f"{prefix}-{story.slug}"
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url), delay=delay)
    publisher.add(
        f"/{prefix}.xml", rss(stories, publisher.base_url), content_type="application/rss+xml", etag=etag
    )
    return publisher.url(f"/{prefix}.xml")


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "the workers") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def alive(url: str) -> bool:
    return bool(rows(url, "SELECT count(*) FROM procrastinate_workers")[0][0])


def test_crawl_once_is_done_by_workers_and_every_article_stored_once(
    cli: Cli, publisher: Publisher, workers: Workers, database_url: str
) -> None:
    feeds = [serve(publisher, f"desk{i}", 6, seed=i) for i in range(3)]
    for feed in feeds:
        assert cli("source", "add", feed).code == 0
    workers.start("--concurrency", "4")
    workers.start("--concurrency", "4")
    # The workers' own schedule polls the due sources, with nothing else asking.
    wait_until(lambda: rows(database_url, "SELECT count(*) FROM articles") == [(18,)], what="the schedule")
    wait_until(lambda: rows(database_url, "SELECT DISTINCT last_status FROM sources") == [("ok",)])
    stored = rows(database_url, "SELECT canonical_url, length(text) FROM articles")
    assert len({u for u, _ in stored}) == 18
    assert all(int(n) > 200 for _, n in stored)  # type: ignore[call-overload]
    assert rows(database_url, "SELECT DISTINCT etag FROM sources") == [('"1"',)]
    assert "no source is due" in cli("crawl", "--once").out

    # --once --all: every source polled again by the workers, waited for, and nothing stored twice.
    result = cli("crawl", "--once", "--all", "--timeout", "120")
    assert result.code == 0, result.err + workers.log(0)
    assert (
        "crawled 3 sources through the workers: 3 ok (3 unchanged), 0 failed; 0 articles stored" in result.out
    )
    assert rows(database_url, "SELECT count(*) FROM articles") == [(18,)]
    done = dict(
        rows(
            database_url,
            "SELECT task_name, count(*) FROM procrastinate_jobs WHERE status = 'succeeded' GROUP BY 1",
        )
    )
    assert done["broadsheet:poll_source"] >= 6 and done["broadsheet:run_steps"] >= 1

    # A new story on one feed: --once (due or not, here --all) stores just it.
    serve(publisher, "desk0", 7, seed=0, etag='"2"')
    result = cli("crawl", "--once", "--all", "--timeout", "120")
    assert "0 failed; 1 article stored" in result.out, result.out + result.err
    assert rows(database_url, "SELECT count(*) FROM articles") == [(19,)]

    status = cli("queue")
    assert status.code == 0, status.err
    assert "workers alive: 2" in status.out
    assert "sources" in status.out and "steps" in status.out


def test_a_worker_killed_mid_crawl_leaves_its_jobs_to_another_and_nothing_is_stored_twice(
    cli: Cli, publisher: Publisher, workers: Workers, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_EXTRACT_WORKERS", "2")  # the real process pool, as in production
    feed = serve(publisher, "slow", 30, delay=0.1)
    assert cli("source", "add", feed).code == 0
    first = workers.start()  # its schedule polls the source
    wait_until(
        lambda: rows(database_url, "SELECT count(*) FROM articles")[0][0] >= 5, what="the first articles"
    )
    os.killpg(first.pid, signal.SIGKILL)  # the worker and its extraction processes, mid-job
    first.wait(10)
    killed_at = rows(database_url, "SELECT count(*) FROM articles")[0][0]
    assert 5 <= killed_at < 30  # type: ignore[operator]
    statuses = rows(
        database_url, "SELECT status FROM procrastinate_jobs WHERE task_name = 'broadsheet:poll_source'"
    )
    assert statuses == [("doing",)]  # left by the dead worker

    workers.start()  # notices the dead worker's job (no heartbeat) and runs it again
    wait_until(
        lambda: (
            rows(database_url, "SELECT count(*), min(last_status) FROM articles, sources") == [(30, "ok")]
        ),
        timeout=90,
        what="the other worker to finish the crawl",
    )
    stored = rows(database_url, "SELECT canonical_url, length(text) FROM articles")
    assert len(stored) == 30 and len({u for u, _ in stored}) == 30  # every article, once
    assert all(int(n) > 200 for _, n in stored)  # type: ignore[call-overload]
    wait_until(lambda: rows(database_url, "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = "
               "'broadsheet:poll_source'") == [("succeeded", 2)])  # fmt: skip
    assert "was left by a worker that stopped" in workers.log(1)
    assert rows(database_url, "SELECT last_status, etag FROM sources") == [("ok", '"1"')]
    status = cli("queue")
    assert status.code == 0 and "workers alive: 1" in status.out
    assert "jobs retried (run more than once): 1" in status.out


def test_workers_carry_on_after_postgresql_restarts_mid_crawl_and_lose_nothing(
    cli: Cli, publisher: Publisher, workers: Workers, database_url: str, postgres: PostgresCluster
) -> None:
    assert cli("source", "add", serve(publisher, "restart", 30, delay=0.1)).code == 0
    worker = workers.start()
    wait_until(
        lambda: rows(database_url, "SELECT count(*) FROM articles")[0][0] >= 5, what="the first articles"
    )
    postgres.restart(down_seconds=2.0)  # every connection cut mid-crawl, and none possible for two seconds
    wait_until(
        lambda: (
            rows(database_url, "SELECT count(*), min(last_status) FROM articles, sources") == [(30, "ok")]
        ),
        timeout=90,
        what="the crawl to finish after the restart",
    )
    stored = rows(database_url, "SELECT canonical_url, length(text) FROM articles")
    assert len({u for u, _ in stored}) == 30  # every article, once
    assert all(int(n) > 200 for _, n in stored)  # type: ignore[call-overload]
    assert worker.poll() is None  # the same worker, reconnected
    # and it still takes new work from the queue
    serve(publisher, "restart", 31, etag='"2"')
    result = cli("crawl", "--once", "--all", "--timeout", "60")
    assert result.code == 0 and "1 article stored" in result.out, result.out + result.err + workers.log(0)


def test_two_sources_racing_for_the_same_article_store_it_once(
    cli: Cli, publisher: Publisher, workers: Workers, database_url: str
) -> None:
    # Two feeds list the same twelve pages; two workers poll them at the same moment.
    stories = make_stories(12)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url), delay=0.05)
    body = rss(stories, publisher.base_url)
    for name in ("a", "b"):
        publisher.add(f"/{name}.xml", body, content_type="application/rss+xml")
        assert cli("source", "add", publisher.url(f"/{name}.xml")).code == 0
    workers.start("--concurrency", "1")
    workers.start("--concurrency", "1")
    wait_until(lambda: len(rows(database_url, "SELECT id FROM procrastinate_workers")) == 2)
    result = cli("crawl", "--once", "--timeout", "120")
    assert result.code == 0, result.err
    assert rows(database_url, "SELECT count(*), count(DISTINCT canonical_url) FROM articles") == [(12, 12)]


def test_import_leaves_the_steps_to_the_workers_and_they_build_the_briefs_beside(
    cli: Cli, workers: Workers, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_STORIES", "true")  # stories (English model only) and their briefs
    monkeypatch.setenv("BROADSHEET_STORIES_MULTILINGUAL", "false")
    workers.start()
    wait_until(lambda: alive(database_url))
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    result = cli("import", str(path))
    assert result.code == 0, result.err
    assert "8 new" in result.out and "steps (enrichment, stories): done by a worker" in result.out
    assert rows(
        database_url, "SELECT status FROM procrastinate_jobs WHERE task_name = 'broadsheet:run_steps'"
    ) == [("succeeded",)]
    # The two stories several outlets tell get their briefs from the background job the steps queued.
    wait_until(lambda: rows(database_url, "SELECT count(*) FROM story_briefs") == [(2,)], timeout=120)
    assert ("succeeded",) in rows(
        database_url, "SELECT status FROM procrastinate_jobs WHERE task_name = 'broadsheet:run_background'"
    )


def test_worker_and_queue_say_what_to_do_on_sqlite(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BROADSHEET_DATABASE_URL")
    for command in (("worker",), ("queue",)):
        result = cli(*command)
        assert result.code == 1
        assert "need PostgreSQL" in result.err and "on SQLite `broadsheet serve`" in result.err


def test_crawl_once_says_no_worker_is_running_and_crawls_itself(
    cli: Cli, publisher: Publisher, database_url: str
) -> None:
    assert cli("source", "add", serve(publisher, "solo", 3)).code == 0
    result = cli("crawl", "--once")
    assert result.code == 0, result.err
    assert "no `broadsheet worker` is running" in result.err
    assert "3 new articles" in result.out


def test_workers_tell_the_sites_hub_of_new_articles(
    cli: Cli, publisher: Publisher, workers: Workers, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from websubhub import Hub

    with Hub() as hub:
        monkeypatch.setenv("BROADSHEET_WEBSUB_HUB", hub.url)
        monkeypatch.setenv("BROADSHEET_BASE_URL", "http://news.example")
        assert cli("source", "add", serve(publisher, "hubdesk", 3)).code == 0
        workers.start("--concurrency", "2")
        wait_until(lambda: rows(database_url, "SELECT count(*) FROM articles") == [(3,)], what="the schedule")
        feeds = ["http://news.example/feed.atom", "http://news.example/feed.rss"]
        # One ping per feed, one after the other: wait for both, then nothing else was announced.
        wait_until(lambda: set(feeds) <= set(hub.published), what="the hub's pings")
        assert sorted(set(hub.published)) == feeds
