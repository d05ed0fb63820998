"""Ingestion across processes: the same loopback publishers crawled by one SQLite process and by 1 and 2
`broadsheet worker` processes on PostgreSQL.

The publishers are bench/ingest.py's (the 949 real pages of ../shared/data/extraction-dev behind invented feeds,
or invented pages). Each run crawls every page into a fresh database with `broadsheet crawl --once --all`, timed
from its start to its end (process start included): on SQLite it does the work itself; on PostgreSQL it queues one
poll job per source and waits until the workers, already started and idle, have done them. What is measured is
ingestion (fetch, parse, extract, dedupe, store): enrichment and stories are off in every run, so that the
steps over stored articles (one at a time across machines by design) do not blur it.

Each worker runs `--extract-workers` extraction processes (1 by default), so that "two workers" means twice the
processes of one. PostgreSQL is a throwaway cluster started from Debian's binaries (as tests/postgres.py does;
as root the server runs as the `postgres` user), fsync off as in the tests: the figures are the pipeline's, not
the disk's.

    .venv/bin/python bench/scale.py [--pages real|invented] [--publishers 20] [--extract-workers 1] [--runs 1]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from broadsheet.config import load_settings
from broadsheet.models import SourceKind
from broadsheet.store import Store
from ingest import REAL_PAGES, load_pages, serve  # bench/ingest.py's publishers
from postgres import PostgresCluster, find_binaries  # the tests' throwaway cluster

# Per worker count: WAL bytes written by the crawl, database bytes, articles table with its indexes and TOAST,
# articles' indexes alone, article_urls with its indexes.
FOOTPRINT: dict[int, tuple[int, int, int, int, int]] = {}
BUSY: list[float] = []  # each crawl's share of the machine's CPU kept busy, in the order they ran


def environment(home: str, database_url: str, extract_workers: int, entries: int) -> dict[str, str]:
    env = {
        **os.environ,
        "BROADSHEET_HOME": home,
        "BROADSHEET_ALLOW_PRIVATE_NETWORKS": "true",
        "BROADSHEET_PER_HOST_DELAY": "0",
        "BROADSHEET_EXTRACT_WORKERS": str(extract_workers),
        "BROADSHEET_MAX_ENTRIES_PER_SOURCE": str(entries),
        "BROADSHEET_ENRICH": "false",
        "BROADSHEET_STORIES": "false",
        "BROADSHEET_LOG_LEVEL": "WARNING",
    }
    env.pop("BROADSHEET_DATABASE_URL", None)
    if database_url:
        env["BROADSHEET_DATABASE_URL"] = database_url
    return env


def add_sources(env: dict[str, str], publishers: int) -> Store:
    settings = load_settings(
        Path(env["BROADSHEET_HOME"]), database_url=env.get("BROADSHEET_DATABASE_URL", "")
    )
    store = Store.open(settings.database)
    now = datetime.now(UTC)
    for pub in range(publishers):
        url = f"http://127.0.0.{pub + 2}:8765/feed.xml"
        store.sources.add(url, SourceKind.FEED, now=now, interval_seconds=1800, title=f"Bench Post {pub}")
    return store


def busy_and_total() -> tuple[int, int]:
    """The machine's CPU time so far (all cores, every process: the database server and the publishers'
    server too), busy and in all, in clock ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def crawl(env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    busy_before, total_before = busy_and_total()
    command = [sys.executable, "-m", "broadsheet", "crawl", "--once", "--all", "--timeout", "1800"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    busy, total = busy_and_total()
    BUSY.append((busy - busy_before) / max(1, total - total_before))
    if done.returncode != 0:
        sys.exit(f"crawl failed ({done.returncode}): {done.stderr[-3000:]}")
    return took, done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""


def run_sqlite(publishers: int, extract_workers: int, entries: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as home:
        env = environment(home, "", extract_workers, entries)
        store = add_sources(env, publishers)
        took, said = crawl(env)
        stored = store.articles.count()
        store.close()
    print(f"  sqlite, 1 process: {said}")
    return took, stored


def run_workers(
    cluster: PostgresCluster, workers: int, publishers: int, extract_workers: int, entries: int
) -> tuple[float, int]:
    url = cluster.database()
    with tempfile.TemporaryDirectory() as home:
        env = environment(home, url, extract_workers, entries)
        store = add_sources(env, publishers)
        # Only the sources and steps queues: the upkeep queue's schedule would start polling on its own.
        command = [sys.executable, "-m", "broadsheet", "worker", "-q", "sources", "-q", "steps"]
        running = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(workers)
        ]
        try:
            engine = create_engine(url)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:  # every worker registered, its extraction processes started
                with engine.connect() as conn:
                    if (
                        conn.execute(text("SELECT count(*) FROM procrastinate_workers")).scalar_one()
                        == workers
                    ):
                        break
                time.sleep(0.2)
            time.sleep(2)
            with engine.connect() as conn:
                wal_before = conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
            took, said = crawl(env)
            with engine.connect() as conn:
                wal = conn.execute(
                    text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :lsn)"), {"lsn": wal_before}
                )
                sizes = conn.execute(
                    text(
                        "SELECT pg_database_size(current_database()), pg_total_relation_size('articles'), "
                        "pg_indexes_size('articles'), pg_total_relation_size('article_urls')"
                    )
                ).one()
                database, articles, indexes, urls = (int(value) for value in sizes)
                FOOTPRINT[workers] = (int(wal.scalar_one()), database, articles, indexes, urls)
            engine.dispose()
        finally:
            for worker in running:
                worker.send_signal(signal.SIGTERM)
            for worker in running:
                worker.wait(60)
        stored = store.articles.count()
        store.close()
    cluster.drop(url)
    print(f"  postgresql, {workers} worker(s): {said}")
    return took, stored


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pages", choices=["real", "invented"], default="real" if REAL_PAGES.is_dir() else "invented"
    )
    parser.add_argument("--publishers", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50, help="per publisher (invented pages only)")
    parser.add_argument(
        "--extract-workers", type=int, default=1, help="extraction processes per crawling process"
    )
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    if args.pages == "real" and not REAL_PAGES.is_dir():
        print(f"skipped: real pages not found at {REAL_PAGES} (use --pages invented)")
        return
    binaries = find_binaries()
    if binaries is None:
        print("skipped: PostgreSQL is not installed (`make system-deps` installs Debian's postgresql)")
        return

    pages = load_pages(args.pages, args.publishers, args.articles)
    total = sum(len(own) for own in pages)
    entries = max(len(own) for own in pages)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(pages, ready), daemon=True)
    server.start()
    ready.wait(60)
    cluster = PostgresCluster(binaries)
    rates: dict[str, list[float]] = {"sqlite": [], "pg1": [], "pg2": []}
    try:
        for run in range(args.runs):
            print(f"run {run + 1}:")
            for name in rates:
                if name == "sqlite":
                    took, stored = run_sqlite(args.publishers, args.extract_workers, entries)
                else:
                    workers = 1 if name == "pg1" else 2
                    took, stored = run_workers(
                        cluster, workers, args.publishers, args.extract_workers, entries
                    )
                if stored != total:
                    sys.exit(f"{name}: stored {stored} of {total} pages")
                rates[name].append(total / took)
                cores = os.cpu_count() or 1
                per_cpu = total / (took * BUSY[-1] * cores)
                print(f"    {total / took:.1f} articles/s, machine CPU busy {100 * BUSY[-1]:.0f} %, "
                      f"{per_cpu:.1f} articles per busy CPU-second")  # fmt: skip
    finally:
        cluster.stop()
        server.terminate()
        server.join()

    def shown(name: str) -> str:
        values = sorted(rates[name])
        return f"{values[len(values) // 2]:6.1f} articles/s" + (
            f" (runs: {', '.join(f'{v:.1f}' for v in rates[name])})" if len(values) > 1 else ""
        )

    best = {name: sorted(values)[len(values) // 2] for name, values in rates.items()}
    print(f"pages: {total} ({args.pages}) from {len(pages)} publishers; {args.extract_workers} extraction "
          f"process(es) per crawling process; cores: {os.cpu_count()}")  # fmt: skip
    print(f"SQLite, one process:           {shown('sqlite')}")
    print(f"PostgreSQL, one worker:        {shown('pg1')}")
    print(f"PostgreSQL, two workers:       {shown('pg2')}")
    if 1 in FOOTPRINT:
        wal, database, articles, indexes, urls = (value / total / 1024 for value in FOOTPRINT[1])
        print(f"PostgreSQL per article (one worker): WAL {wal:.1f} KiB, database {database:.1f} KiB (articles "
              f"{articles:.1f} KiB of it, their indexes {indexes:.1f} KiB; article_urls {urls:.1f} KiB)")  # fmt: skip
    print(f"two workers / one worker:      {best['pg2'] / best['pg1']:.2f}x (target >= 1.7)")
    print(f"one worker / SQLite process:   {best['pg1'] / best['sqlite']:.2f}x (target >= 0.8)")


if __name__ == "__main__":
    main()
