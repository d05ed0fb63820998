"""Web reader latency under load: a database of N generated articles from M outlets, `broadsheet serve` as a
real process, and C concurrent clients (wrk, closed loop: each client sends its next request as soon as the
last is answered) on each page kind in turn.

Prints p50/p95/p99 latency and requests/s for the article page (every article equally likely, and readers
crowding onto new articles), home, outlet page and search (one or two content words, drawn as often as real
prose uses them). Targets on the 2-core machine: article p99 < 50 ms, home p99 < 100 ms, search p99 < 200 ms.

    .venv/bin/python bench/web.py [--articles 200000] [--outlets 500] [--clients 50] [--seconds 20]
                                  [--workers 1] [--zipf 1.0] [--hostile] [--postgresql]
                                  [--no-steps | --stories-only]

`--hostile` measures each page kind twice: quiet, then while hostile clients run beside the readers from
other loopback addresses (`Hostile`: 1 000 idle connections, 100 sending their headers a line a second, one
client asking for a new `?r=` on every request), and prints the readers' p99 against the quiet run, their
errors, what the hostile clients met, and the size of the server's temporary directory before, during and
after. Target: p99 within 2x, no errors, temporary disk use unchanged.

Needs wrk (`apt-get install -y wrk`): a load generator in Python takes a core of its own on a 2-core machine.

The filled database is kept in bench/results/ (per size and fill) and reused by later runs; `--refill` rebuilds
it. Filling goes through `broadsheet import`, the same pipeline crawled articles take: with every step, hours at
200 000 articles; `--no-steps` (no enrichment, stories or briefs) minutes; `--stories-only` (stories, by
`broadsheet recluster` over the --no-steps database) about an hour. On PostgreSQL, `--stories-only` copies the
SQLite database of the same fill (`broadsheet copy`), so both back ends serve the very same stories.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from broadsheet.web.server import raise_file_limit
from vocabulary import ZipfText

RESULTS = Path(__file__).resolve().parent / "results"


def generate(path: Path, articles: int, outlets: int, seed: int = 1) -> None:
    """JSON Lines of invented articles with the word statistics of real prose (vocabulary.ZipfText): 3-8
    paragraphs, tags, spread over 90 days, in publish order (so the highest id is the newest)."""
    rng = random.Random(seed)
    prose = ZipfText(seed)
    start = datetime(2026, 8, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(articles):
            outlet = f"Outlet {i % outlets:03d} News"
            words = prose.words_(rng.randint(120, 600))
            cut = sorted(rng.sample(range(20, len(words) - 10), rng.randint(2, 7)))
            paragraphs = [
                " ".join(words[a:b]).capitalize() + "."
                for a, b in zip([0, *cut], [*cut, len(words)], strict=True)
            ]
            record = {
                "url": f"https://outlet{i % outlets}.example/{i}",
                "title": " ".join(prose.words_(rng.randint(5, 11), skip_common=30)).capitalize() + f" {i}",
                "text": "\n\n".join(paragraphs),
                "published": (start + timedelta(seconds=i * 39)).isoformat(),
                "outlet": outlet,
                "lang": "en",
                "image": f"https://img{i % outlets}.example/{i}.jpg",
                "tags": [w.title() for w in prose.words_(2, skip_common=100)],
            }
            out.write(json.dumps(record) + "\n")


def fill(home: Path, articles: int, outlets: int, env: dict[str, str] | None = None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    data = home / "articles.jsonl"
    print(f"generating {articles} articles from {outlets} outlets ...", flush=True)
    generate(data, articles, outlets)
    started = time.perf_counter()
    command = [sys.executable, "-m", "broadsheet", "--home", str(home), "import", str(data)]
    subprocess.run(command, check=True, env=env)
    print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    data.unlink()


STORIES_DONE = "stories.done"  # in a --stories-only home: the recluster finished


def fill_stories(home: Path, articles: int, outlets: int) -> None:
    """The --stories-only SQLite home: the --no-steps database (copied when there is one, else filled), then
    grouped into stories by `broadsheet recluster` with enrichment off and MiniLM alone (the invented articles
    are all English). An interrupted recluster starts over."""
    if (home / STORIES_DONE).exists():
        return
    plain = RESULTS / f"web-zipf-{articles}-{outlets}-no-steps"
    no_steps = {**os.environ, "BROADSHEET_ENRICH": "false", "BROADSHEET_STORIES": "false"}
    if not (home / "broadsheet.db").exists():
        if (plain / "broadsheet.db").exists():
            home.mkdir(parents=True, exist_ok=True)
            for name in ("broadsheet.db", "secret.key"):
                shutil.copy2(plain / name, home / name)
        else:
            fill(home, articles, outlets, env=no_steps)
    started = time.perf_counter()
    print("grouping into stories (broadsheet recluster) ...", flush=True)
    command = [sys.executable, "-m", "broadsheet", "--home", str(home), "recluster"]
    # English text alone, so the English model alone (stories_multilingual off): half the embedding of the hour.
    env = {**os.environ, "BROADSHEET_ENRICH": "false", "BROADSHEET_STORIES_MULTILINGUAL": "false"}
    subprocess.run(command, check=True, env=env)
    print(f"grouped in {time.perf_counter() - started:.0f} s", flush=True)
    (home / STORIES_DONE).touch()


def copy_into(home: Path, url: str) -> None:
    """`broadsheet copy` of `home`'s SQLite database into the empty PostgreSQL database `url`, checked."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "broadsheet", "--home", str(home), "copy", "--to", url]
    env = {k: v for k, v in os.environ.items() if k != "BROADSHEET_DATABASE_URL"}  # from the SQLite file
    subprocess.run(command, check=True, env=env)
    print(f"copied into PostgreSQL in {time.perf_counter() - started:.0f} s", flush=True)


def wait_until_serving(base: str, tries: int) -> None:
    """Until the server at `base` answers its health check (at most `tries` connection attempts, 0.2 s apart)."""
    for _ in range(tries):
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


WRK_SCRIPT = """
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  i = math.random(#paths)
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


@dataclass
class Figures:
    requests: int
    seconds: float
    p50: float  # ms
    p95: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def load(base: str, paths: list[str], clients: int, seconds: int, workdir: Path) -> Figures:
    """Closed loop with wrk: `clients` connections, each sending its next request as soon as the previous
    one is answered, for `seconds`; paths are taken in turn from `paths`."""
    script, listing = workdir / "paths.lua", workdir / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    # One wrk thread per core: a single thread saturates on fast cached pages (30 KB at 10 000+ a second)
    # and its latency figures then break Little's law (mean 37 ms reported at 11 900 req/s over 50 clients).
    threads = max(1, min(clients, os.cpu_count() or 1))
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script), base,
               "--", str(listing)]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(row for row in output.splitlines() if row.startswith("RESULT "))
    n, micros, p50, p95, p99, errors = (int(v) for v in line.split()[1:])
    return Figures(n, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, errors)


IDLE, IDLE_ADDRESSES = 1000, 20  # 50 connections from each address: under the cap per address
SLOW, SLOW_ADDRESSES = 100, 2
SLOW_LINE_SECONDS = 1.0


@dataclass
class Tally:
    """What one kind of hostile connection met."""

    opened: int = 0
    open_now: int = 0
    closed_by_server: int = 0
    refused: int = 0  # answered 503
    failed: int = 0  # could not connect, or reset
    held: list[float] = field(default_factory=list)  # seconds each stayed open until the server closed it

    def line(self, name: str) -> str:
        held = f" after {float(np.median(self.held)):.1f} s (median)" if self.held else ""
        return (f"{name}: {self.opened} connections opened, {self.closed_by_server} closed by the server{held}, "
                f"{self.refused} refused with 503, {self.failed} failed to connect or were reset")  # fmt: skip


class Hostile:
    """The hostile clients, on an event loop of their own in a thread: IDLE connections that send nothing,
    SLOW that send their headers a line a second, and one client asking for a new `?r=` each request. A
    connection the server closes is opened again at once, as an attacker would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle = Tally()
        self.slow = Tally()
        self.busting: Counter[int | str] = Counter()
        self.busting_ms: list[float] = []
        self.busting_seconds = 0.0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: list[concurrent.futures.Future[None]] = []

    def describe(self) -> str:
        return (f"{IDLE} idle connections from {IDLE_ADDRESSES} addresses, {SLOW} slow-header connections from "
                f"{SLOW_ADDRESSES}, 1 cache-busting client")  # fmt: skip

    def __enter__(self) -> Hostile:
        self._thread.start()
        for i in range(IDLE):
            self._spawn(self._idle(f"127.0.1.{i % IDLE_ADDRESSES + 1}"))
        for i in range(SLOW):
            self._spawn(self._slow(f"127.0.2.{i % SLOW_ADDRESSES + 1}"))
        self._spawn(self._bust("127.0.3.1"))
        return self

    def __exit__(self, *_: object) -> None:
        for task in self._tasks:
            task.cancel()
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.5), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def settle(self, seconds: float = 20.0) -> None:
        """Wait until every hostile connection is open (or `seconds` have passed)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and (self.idle.open_now < IDLE or self.slow.open_now < SLOW):
            time.sleep(0.2)

    def report(self) -> list[str]:
        rate = len(self.busting_ms) / self.busting_seconds if self.busting_seconds else 0.0
        p99 = float(np.percentile(self.busting_ms, 99)) if self.busting_ms else 0.0
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.busting.items(), key=str))
        return [
            self.idle.line("idle"),
            self.slow.line("slow headers"),
            f"cache-busting client: {len(self.busting_ms)} requests ({rate:.0f}/s, p99 {p99:.0f} ms), {statuses}",
        ]

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.run_coroutine_threadsafe(job, self._loop))

    async def _connect(
        self, source: str, tally: Tally
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))
        except OSError:
            tally.failed += 1
            await asyncio.sleep(0.5)
            return None
        tally.opened += 1
        tally.open_now += 1
        return reader, writer

    def _ended(self, tally: Tally, first: bytes, started: float) -> None:
        tally.open_now -= 1
        if first.startswith(b"HTTP/1.1 503"):
            tally.refused += 1
        else:
            tally.closed_by_server += 1
            tally.held.append(time.monotonic() - started)

    async def _idle(self, source: str) -> None:
        while True:
            opened = await self._connect(source, self.idle)
            if opened is None:
                continue
            reader, writer = opened
            started, first = time.monotonic(), b""
            try:
                while chunk := await reader.read(65536):
                    first = first or chunk
            except ConnectionError:
                self.idle.failed += 1
            self._ended(self.idle, first, started)
            writer.close()
            if first.startswith(b"HTTP/1.1 503"):
                await asyncio.sleep(0.1)

    async def _slow(self, source: str) -> None:
        while True:
            opened = await self._connect(source, self.slow)
            if opened is None:
                continue
            reader, writer = opened
            started, first, line = time.monotonic(), b"", 0
            writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            try:
                while True:
                    try:
                        chunk = await asyncio.wait_for(reader.read(65536), SLOW_LINE_SECONDS)
                    except TimeoutError:
                        line += 1
                        writer.write(b"X-Slow-%d: a\r\n" % line)
                        continue
                    if not chunk:
                        break
                    first = first or chunk
            except ConnectionError:
                self.slow.failed += 1
            self._ended(self.slow, first, started)
            writer.close()
            if first.startswith(b"HTTP/1.1 503"):
                await asyncio.sleep(0.1)

    async def _bust(self, source: str) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=source)
        started = time.monotonic()
        async with httpx.AsyncClient(
            transport=transport, base_url=f"http://127.0.0.1:{self.port}", timeout=30
        ) as client:
            try:
                for n in range(10**9):
                    sent = time.perf_counter()
                    try:
                        status: int | str = (await client.get(f"/?r={n}")).status_code
                    except httpx.TransportError as exc:
                        status = type(exc).__name__
                        await asyncio.sleep(0.1)
                    self.busting[status] += 1
                    self.busting_ms.append((time.perf_counter() - sent) * 1000)
                    self.busting_seconds = time.monotonic() - started
            except asyncio.CancelledError:
                self.busting_seconds = time.monotonic() - started
                raise


def directory_bytes(path: Path) -> int:
    """Bytes in the files under `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def zipf_ranks(rng: np.random.Generator, n: int, size: int, exponent: float) -> list[int]:
    """`size` ranks in 1..n, rank r drawn with probability proportional to 1 / r**exponent."""
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    cdf = np.cumsum(weights) / weights.sum()
    return [min(int(i), n - 1) + 1 for i in cdf.searchsorted(rng.uniform(0, 1, size))]


def workload(articles: int, outlets: int, exponent: float, size: int = 50_000) -> dict[str, list[str]]:
    """The paths each page kind is driven with. Readers of a news site crowd onto what is new: "popular"
    draws the article's age rank (1 = newest) from a Zipf law with `exponent`; "uniform" reads every
    article of the archive equally often, the worst case for any cache."""
    rng = np.random.default_rng(3)
    prose = ZipfText(seed=5)
    outlet = [f"outlet-{int(i):03d}-news" for i in rng.integers(0, outlets, size)]
    queries = ["+".join(prose.words_(int(rng.integers(1, 3)), skip_common=150)) for _ in range(size)]
    return {
        "article (uniform)": [f"/articles/{int(i)}" for i in rng.integers(1, articles + 1, size)],
        "article (popular)": [
            f"/articles/{articles + 1 - int(r)}" for r in zipf_ranks(rng, articles, size, exponent)
        ],
        "home": ["/" if k % 2 else f"/?outlet={o}" for k, o in enumerate(outlet)],
        "outlet": [f"/outlets/{o}" for o in outlet],
        "search": [f"/search?q={q}" for q in queries],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--outlets", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=20, help="load per page kind")
    parser.add_argument("--zipf", type=float, default=1.0, help="popularity exponent for 'article (popular)'")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`serve --workers`)")
    parser.add_argument("--refill", action="store_true")
    parser.add_argument(
        "--pages", default="", help="comma-separated prefixes of page kinds to run (default: all)"
    )
    parser.add_argument(
        "--hostile", action="store_true", help="measure again with hostile clients beside the readers"
    )
    parser.add_argument(
        "--no-steps",
        action="store_true",
        help="fill without enrichment, stories and briefs (minutes at 200 000 articles instead of hours): "
        "pages then show no stories, entities or briefs",
    )
    parser.add_argument(
        "--stories-only",
        action="store_true",
        help="fill without enrichment and briefs, then group into stories (`broadsheet recluster`; from a copy "
        "of the --no-steps database when there is one): article pages read their coverage down the story's "
        "index, as on a running site; about an hour at 200 000 articles instead of the full steps' hours",
    )
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="the same on PostgreSQL: a cluster from Debian's binaries (as the tests start one), kept in "
        "bench/results/ (per size) and reused like the SQLite database",
    )
    args = parser.parse_args()
    if args.no_steps and args.stories_only:
        parser.error("--no-steps and --stories-only are two different fills: give one")
    variant = "-no-steps" if args.no_steps else "-stories" if args.stories_only else ""

    if shutil.which("wrk") is None:
        sys.exit("bench/web.py drives the server with wrk: install it (apt-get install -y wrk) and run again")
    database_env: dict[str, str] = {}
    fill_env = (
        {**os.environ, "BROADSHEET_ENRICH": "false", "BROADSHEET_STORIES": "false"} if args.no_steps else None
    )
    sqlite_home = RESULTS / f"web-zipf-{args.articles}-{args.outlets}{variant}"
    cluster = None
    if args.postgresql:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from postgres import PostgresCluster, find_binaries

        binaries = find_binaries()
        if binaries is None:
            sys.exit(
                "bench/web.py --postgresql needs PostgreSQL: `make system-deps` installs Debian's postgresql"
            )
        kept = RESULTS / f"web-pg-{args.articles}-{args.outlets}{variant}"
        if args.refill and kept.exists():
            shutil.rmtree(kept)
        cluster = PostgresCluster(binaries, root=kept)
        home = kept / "home"
        try:
            if cluster.has_database("bench"):
                database_env["BROADSHEET_DATABASE_URL"] = cluster.url("bench")
            else:
                shutil.rmtree(home, ignore_errors=True)
                cluster.drop(cluster.url("filling"))  # what an interrupted fill left
                database_env["BROADSHEET_DATABASE_URL"] = cluster.database(name="filling")
                if args.stories_only:  # the SQLite database's very stories, copied (filled first if need be)
                    fill_stories(sqlite_home, args.articles, args.outlets)
                    copy_into(sqlite_home, database_env["BROADSHEET_DATABASE_URL"])
                else:
                    fill(home, args.articles, args.outlets, env={**(fill_env or os.environ), **database_env})
                cluster.rename("filling", "bench")  # only a whole fill is reused
                database_env["BROADSHEET_DATABASE_URL"] = cluster.url("bench")
        except BaseException:
            cluster.stop()
            raise
    else:
        home = sqlite_home
        if args.refill and home.exists():
            shutil.rmtree(home)
        if args.stories_only:
            fill_stories(home, args.articles, args.outlets)
        elif not (home / "broadsheet.db").exists():
            fill(home, args.articles, args.outlets, env=fill_env)
        # A server that has run a while has its database in the OS file cache (it fits in memory here); read
        # it once so that the first page kind measured is not the one paying for the disk.
        with (home / "broadsheet.db").open("rb") as db:
            while db.read(1 << 24):
                pass
    try:
        serve_and_measure(args, home, database_env)
    finally:
        if cluster is not None:
            cluster.stop()


def serve_and_measure(args: argparse.Namespace, home: Path, database_env: dict[str, str]) -> None:
    raise_file_limit()  # the hostile clients' connections are this process's files
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    server_tmp = workdir / "server-tmp"  # the server's temporary files, and nothing else's
    server_tmp.mkdir()
    env = {
        **os.environ,
        **database_env,
        "BROADSHEET_CRAWL_IN_SERVER": "false",
        "BROADSHEET_LOG_LEVEL": "WARNING",
        "TMPDIR": str(server_tmp),
        # Readers all come from 127.0.0.1: more of them than one address may hold would be refused.
        "BROADSHEET_MAX_CONNECTIONS_PER_CLIENT": str(max(64, args.clients + 8)),
    }
    if args.hostile:  # each process holds the hostile clients' connections beside the readers'
        env["BROADSHEET_MAX_CONNECTIONS"] = str(HOSTILE_MAX_CONNECTIONS)
    server = subprocess.Popen([sys.executable, "-m", "broadsheet", "--home", str(home), "serve", "--port", str(port),
                               "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, tries=100)
        print(f"{'PostgreSQL' if database_env else 'SQLite'}: "
              f"{args.articles} articles, {args.outlets} outlets, {args.clients} concurrent clients (wrk, closed "
              f"loop), {args.seconds} s per page kind, server: {args.workers} process(es), popular = Zipf "
              f"exponent {args.zipf}")  # fmt: skip
        wanted = [p.strip() for p in args.pages.split(",") if p.strip()]
        pages = {
            name: paths
            for name, paths in workload(args.articles, args.outlets, args.zipf).items()
            if not wanted or name.startswith(tuple(wanted))
        }
        quiet = measure(base, pages, args.clients, args.seconds, workdir)
        if args.hostile:
            hostile_run(base, port, pages, quiet, args.clients, args.seconds, workdir, server_tmp)
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)


TARGETS = {"article (uniform)": 50, "article (popular)": 50, "home": 100, "outlet": 100, "search": 200}
HOSTILE_MAX_CONNECTIONS = 4096


def measure(
    base: str, pages: dict[str, list[str]], clients: int, seconds: int, workdir: Path
) -> dict[str, Figures]:
    """Each page kind in turn under wrk, a row printed for each; the figures by page kind."""
    print(f"{'page':18} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}  target p99")
    figures = {}
    for name, paths in pages.items():
        load(base, paths, clients, 3, workdir)  # warm-up
        f = figures[name] = load(base, paths, clients, seconds, workdir)
        verdict = "met" if f.p99 < TARGETS[name] else "NOT met"
        print(f"{name:18} {f.p50:8.1f} {f.p95:8.1f} {f.p99:8.1f} {f.rate:8.0f} {f.errors:7d}  "
              f"< {TARGETS[name]} ms: {verdict}", flush=True)  # fmt: skip
    return figures


def hostile_run(
    base: str,
    port: int,
    pages: dict[str, list[str]],
    quiet: dict[str, Figures],
    clients: int,
    seconds: int,
    workdir: Path,
    server_tmp: Path,
) -> None:
    """The same readers again, with the hostile clients running beside them from other loopback addresses."""
    tmp_before = directory_bytes(server_tmp)
    attack = Hostile(port)
    print(f"\nhostile clients: {attack.describe()}; server max_connections = {HOSTILE_MAX_CONNECTIONS} per process",
          flush=True)  # fmt: skip
    with attack:
        attack.settle()
        loud = measure(base, pages, clients, seconds, workdir)
        tmp_during = directory_bytes(server_tmp)
    report = attack.report()
    tmp_after = directory_bytes(server_tmp)
    print(
        f"\n{'page':18} {'quiet p99':>10} {'hostile p99':>12} {'ratio':>6} {'errors':>7}  target: within 2x, no errors"
    )
    for name, f in loud.items():
        ratio = f.p99 / quiet[name].p99 if quiet[name].p99 else float("inf")
        verdict = "met" if ratio <= 2 and f.errors == 0 else "NOT met"
        print(f"{name:18} {quiet[name].p99:10.1f} {f.p99:12.1f} {ratio:6.2f} {f.errors:7d}  {verdict}")
    print("\n" + "\n".join(report))
    closed = attack.idle.closed_by_server and attack.slow.closed_by_server
    print("idle and slow connections closed by the server (header_timeout): "
          + ("yes" if closed else "NOT closed: the server holds them as long as they like"))  # fmt: skip
    verdict = "unchanged" if tmp_after == tmp_before and tmp_during == tmp_before else "CHANGED"
    print(f"server temporary directory: {tmp_before} bytes before, {tmp_during} during, {tmp_after} after: "
          f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    main()
