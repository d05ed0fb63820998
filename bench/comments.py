"""Comments under load: 200 signed-in readers reading and posting on one hot story, against SQLite, with
`broadsheet serve` as a real process; then bursts of sign-ins (argon2id) beside the readers.

    .venv/bin/python bench/comments.py [--seconds 60] [--think 5] [--workers 1] [--api-readers 80]
                                       [--page-readers 80] [--posters 40] [--burst-size 50] [--burst-every 2]
                                       [--burst-seconds 30] [--burst-think 10]

A fresh home holds a few invented articles (enrichment and stories off), 200 reader accounts and, on the hot
article, `--earlier` top-level comments (every fifth with two replies), so the thread is full-size from the start.
Each connection is one signed-in reader: API readers fetch the thread (`GET /api/v1/articles/ID/comments`: up to
200 top-level comments with all their replies) with a personal API token as `Authorization: Bearer`, how apps
and scripts read; page readers fetch the article page, which shows the same thread, with a session cookie (a
signed-in reader's page is rendered for them, never answered from the page cache); posters post comments as
JSON with a token (`POST /api/v1/articles/ID/comments`), one in four a reply, each with the token of the next of
its share of the readers. Readers run in wrk (one process per kind); posters in this process (see `Posters`).

Two runs of `--seconds`: a closed loop (each connection sends its next request as soon as the last is answered:
the server's capacity, and its latency when 200 requests are always waiting), then paced (each connection waits
`--think` s on average between an answer and its next request). Targets, judged on each: reading a thread p99 <
100 ms, posting p99 < 250 ms; and every acknowledged comment (201) stored: the ids the server acknowledged are
looked up in the database afterwards. Then readers alone for `--burst-seconds`, each waiting `--burst-think` s
on average (a pace the server keeps up with), and again while bursts of `--burst-size` sign-ins at once (the
/signin form, each from its own loopback address) come every `--burst-every` s: sign-in latency and answers,
and the readers' p99 beside the bursts against without (target: within 2x, no reader errors). Also prints what
one argon2id hash costs here.

Rate limits are set as high as they go (what is measured is the server, not the limiter). Needs wrk
(`apt-get install -y wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx
import numpy as np

from broadsheet.clock import utcnow
from broadsheet.config import load_settings
from broadsheet.readers.markup import render_comment
from broadsheet.readers.passwords import hash_password, verify_password
from broadsheet.readers.tokens import new_token, token_hash
from broadsheet.store import Store
from broadsheet.web.security import SESSION_COOKIE
from vocabulary import ZipfText
from web import Figures, fill, free_port, wait_until_serving

PASSWORD = "hot-story-reader-1"
STEPS_OFF = {"BROADSHEET_ENRICH": "false", "BROADSHEET_STORIES": "false", "BROADSHEET_STORY_BRIEFS": "false"}
READ_TARGET, POST_TARGET, BURST_RATIO = 100.0, 250.0, 2.0  # ms, ms, reader p99 with bursts / without


# --- the home: articles, readers, an earlier thread ----------------------------------------------------------


@dataclass
class Cast:
    article_id: int
    names: list[str]
    user_ids: list[int]
    tokens: list[str]  # personal API tokens, one a reader
    cookies: list[str]  # session cookies, one a reader


def prepare(home: Path, readers: int, earlier: int) -> Cast:
    """Readers made through the store (one argon2id hash shared by all: sign-in costs the same, setup does not
    take minutes), each with an API token and a session; `earlier` top-level comments on the newest article,
    every fifth with two replies."""
    fill(home, articles=5, outlets=2, env={**os.environ, **STEPS_OFF})
    settings = load_settings(home)
    store = Store.open(settings.database)
    try:
        now, shared = utcnow(), hash_password(PASSWORD)
        article_id = store.articles.max_id()
        cast = Cast(article_id, [], [], [], [])
        for i in range(readers):
            user = store.accounts.add_user(f"reader{i:03d}", shared, "reader", now, f"Reader {i}")
            token, cookie = new_token("bs_"), new_token("bs_s_")
            store.accounts.add_token(user.id, "api", token_hash(token), "bench", now)
            store.accounts.open_session(
                user.id, token_hash(cookie), now, timedelta(days=settings.session_days)
            )
            cast.names.append(user.name)
            cast.user_ids.append(user.id)
            cast.tokens.append(token)
            cast.cookies.append(cookie)
        prose, rng = ZipfText(seed=11), random.Random(11)
        for i in range(earlier):
            body = f"**Point {i}.** " + " ".join(prose.words_(rng.randint(15, 60))).capitalize() + "."
            author = cast.user_ids[i % readers]
            first = store.comments.add(article_id, author, body, render_comment(body), now)
            if i % 5 == 0:
                for k in (1, 2):
                    reply = f"Reply {k}: " + " ".join(prose.words_(rng.randint(8, 30))) + "."
                    store.comments.add(article_id, cast.user_ids[(i + k) % readers], reply,
                                       render_comment(reply), now, first.id)  # fmt: skip
        return cast
    finally:
        store.close()


def stored_comments(home: Path, cast: Cast) -> set[int]:
    """Ids of every comment stored on the hot article, read through the store (each reader's own list)."""
    store = Store.open(load_settings(home).database)
    try:
        return {c.id for uid in cast.user_ids for c in store.comments.user_comments(uid)
                if c.article_id == cast.article_id}  # fmt: skip
    finally:
        store.close()


def argon2_cost(rounds: int = 5) -> tuple[float, float]:
    """Median ms of one hash_password and one verify_password here, in this process, one core."""
    hashed, hashes, checks = hash_password(PASSWORD), [], []
    for _ in range(rounds):
        started = time.perf_counter()
        hash_password(PASSWORD)
        hashes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        verify_password(hashed, PASSWORD)
        checks.append((time.perf_counter() - started) * 1000)
    return statistics.median(hashes), statistics.median(checks)


# --- the load: readers in wrk, posters in Python -----------------------------------------------------------

# Each wrk thread counts its answers by status; done() adds up every thread's after web.py's RESULT line. args:
# path, header name, a file of that header's values (one a reader), `think` (ms): the mean wait between an
# answer and the connection's next request, drawn from 0.5-1.5x; 0 is a closed loop.
READER_LUA = """
local threads = {}
local path, header, creds, n
counts, think = {}, 0
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args)
  path, header, creds, think = args[1], args[2], {}, tonumber(args[4])
  for line in io.lines(args[3]) do creds[#creds + 1] = line end
  math.randomseed(os.time() * 31 + tid)
  n = math.random(#creds)
end
function request()
  n = n % #creds + 1
  return wrk.format("GET", path, {[header] = creds[n]})
end
function delay()
  if think == 0 then return 0 end
  return math.random(math.floor(think / 2), math.floor(think * 3 / 2))
end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout))
  io.write(string.format("BYTES %d\\n", summary.bytes))
  for _, t in ipairs(threads) do
    for status, n in pairs(t:get("counts")) do io.write(string.format("STATUS %d %d\\n", status, n)) end
  end
end
"""


@dataclass
class Load:
    """What one kind of connection met: web.py's figures, answers by status, acknowledged comment ids."""

    figures: Figures
    statuses: Counter[int]
    bytes: int
    acked: list[int] = field(default_factory=list)
    client_cpu: float = 0.0  # seconds of CPU the load generator spent, where measured

    def failed(self) -> int:
        """Answers that were not 2xx, and requests that got no answer (connect, read or timeout errors)."""
        return self.figures.errors + sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    def answers(self) -> str:
        return ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items()))


class Readers:
    """One wrk process (one thread) reading one path: started at once, read when it ends."""

    def __init__(self, workdir: Path, base: str, path: str, header: str, values: Path, clients: int,
                 seconds: int, think: float) -> None:  # fmt: skip
        lua = workdir / "readers.lua"
        if not lua.exists():  # written once: another wrk may be reading it
            lua.write_text(READER_LUA)
        command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(lua), base,
                   "--", path, header, str(values), str(int(think * 1000))]  # fmt: skip
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def result(self) -> Load:
        output, _ = self._process.communicate()
        rows = [line.split() for line in output.splitlines()]
        if self._process.returncode or ["RESULT"] not in (r[:1] for r in rows):
            raise RuntimeError(f"wrk failed ({self._process.returncode}): {output}")
        n, micros, p50, p95, p99, errors = (int(v) for v in next(r for r in rows if r[:1] == ["RESULT"])[1:])
        statuses = Counter({int(r[1]): int(r[2]) for r in rows if r[:1] == ["STATUS"]})
        size = next(int(r[1]) for r in rows if r[:1] == ["BYTES"])
        return Load(Figures(n, micros / 1e6, p50 / 1000, p95 / 1000, p99 / 1000, errors), statuses, size)


class Posters:
    """`clients` readers posting comments as JSON with `Authorization: Bearer`, each connection from its own
    loopback address (127.0.5.x) and with the tokens of its own share of the readers, on an event loop in a
    thread of this process. Not wrk: it cannot choose its address, and from one address the per-address comment
    limit (bursts of 10) would answer for the server. One post in four answers the poster's last acknowledged
    comment. Requests in flight when the time is up are waited for, so every answer is counted."""

    def __init__(
        self, base: str, path: str, tokens: list[str], clients: int, seconds: int, think: float
    ) -> None:
        self.base, self.path, self.tokens, self.clients = base, path, tokens, clients
        self.seconds, self.think = seconds, think
        self.ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors = self.bytes = 0
        self.acked: list[int] = []
        self.elapsed = self.cpu = self.answered = 0.0
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # raised again on the caller's thread, in result()
            self._failure = exc

    def result(self) -> Load:
        self._thread.join()
        if self._failure is not None:
            raise RuntimeError("the posters failed") from self._failure
        ms = np.array(self.ms or [0.0])
        p50, p95, p99 = (float(np.percentile(ms, q)) for q in (50, 95, 99))
        figures = Figures(len(self.ms), max(self.elapsed, 1e-9), p50, p95, p99, self.errors)
        return Load(figures, self.statuses, self.bytes, self.acked, self.cpu)

    async def _run(self) -> None:
        clients = [client_from(f"127.0.5.{k % 250 + 1}", self.base) for k in range(self.clients)]
        started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_THREAD)
        deadline = started + self.seconds
        await asyncio.gather(*(self._poster(k, client, deadline) for k, client in enumerate(clients)))
        used = resource.getrusage(resource.RUSAGE_THREAD)
        self.elapsed = max(self.seconds, self.answered - started)  # a wait past the deadline is not counted
        self.cpu = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime

    async def _poster(self, k: int, client: httpx.AsyncClient, deadline: float) -> None:
        rng, last, n = random.Random(k), None, 0
        async with client:
            while True:
                if self.think:  # before the first post too, as wrk does: readers do not all start at once
                    wait = rng.uniform(0.5, 1.5) * self.think
                    await asyncio.sleep(max(0.0, min(wait, deadline - time.monotonic())))
                if time.monotonic() >= deadline:
                    break
                token = self.tokens[(k + n * self.clients) % len(self.tokens)]
                body: dict[str, object] = {
                    "body": f"Comment {k}-{n} on the **hot story**: here is what I think."
                }
                if last is not None and n % 4 == 3:
                    body = {"body": f"Reply {k}-{n}: *quite* so.", "parent_id": last}
                n += 1
                sent = time.perf_counter()
                try:
                    answer = await client.post(
                        self.path, json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                except httpx.TransportError:
                    self.errors += 1
                    await asyncio.sleep(0.1)
                    continue
                self.ms.append((time.perf_counter() - sent) * 1000)
                self.answered = time.monotonic()
                self.statuses[answer.status_code] += 1
                self.bytes += len(answer.content)
                if answer.status_code == 201:
                    last = int(answer.json()["id"])
                    self.acked.append(last)


def client_from(address: str, base: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (any of 127/8). verify=False: plain HTTP on
    loopback, and loading the CA bundle takes ~50 ms of this process's event loop per client."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
    return httpx.AsyncClient(transport=transport, base_url=base, timeout=30)


THREAD, PAGE, POST = "read thread (API, token)", "read article page (cookie)", "post comment (API, token)"
TARGETS = {THREAD: READ_TARGET, PAGE: READ_TARGET, POST: POST_TARGET}


@dataclass
class Crowd:
    """The three kinds of connection, each a signed-in reader, and their credentials."""

    base: str
    article_id: int
    workdir: Path
    tokens: list[str]
    bearers: Path  # "Bearer <token>", a line a reader
    cookies: Path  # "bs_session=<token>", a line a reader
    api_readers: int
    page_readers: int
    posters: int

    def run(self, seconds: int, think: float, posting: bool = True) -> dict[str, Load]:
        """Every kind at once for `seconds`, each connection waiting `think` s on average between requests."""
        thread, page = f"/api/v1/articles/{self.article_id}/comments", f"/articles/{self.article_id}"
        runs: dict[str, Readers | Posters] = {}
        if self.api_readers:
            runs[THREAD] = Readers(self.workdir, self.base, thread, "Authorization", self.bearers,
                                   self.api_readers, seconds, think)  # fmt: skip
        if self.page_readers:
            runs[PAGE] = Readers(self.workdir, self.base, page, "Cookie", self.cookies, self.page_readers,
                                 seconds, think)  # fmt: skip
        if posting and self.posters:
            runs[POST] = Posters(self.base, thread, self.tokens, self.posters, seconds, think)
        return {name: run.result() for name, run in runs.items()}


# --- sign-in bursts -------------------------------------------------------------------------------------------


class SignInBursts:
    """Every `every` s, `size` sign-ins at once through the /signin form (CSRF token and Origin as a browser
    sends them), each from its own loopback address 127.0.4.x (the per-address sign-in limit is not what is
    measured), on an event loop in a thread of its own."""

    def __init__(self, base: str, names: list[str], size: int, every: float) -> None:
        self.base, self.names, self.size, self.every = base, names, size, every
        self.statuses: Counter[int | str] = Counter()
        self.ms: list[float] = []
        self.bursts = 0
        self.cpu = 0.0  # seconds of CPU these clients took
        self._stop = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # raised again on the caller's thread, in __exit__
            self._failure = exc

    def __enter__(self) -> SignInBursts:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(60)
        if self._failure is not None:
            raise RuntimeError("the sign-in bursts failed") from self._failure

    def line(self) -> str:
        ms = np.array(self.ms or [0.0])
        answers = ", ".join(f"{s}: {n}" for s, n in sorted(self.statuses.items(), key=str))
        return (f"{self.bursts} bursts of {self.size}: {len(self.ms)} sign-ins, p50 {np.percentile(ms, 50):.0f} "
                f"ms, p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms; answers {answers} (303: signed "
                "in; 503: the password queue was full; 429: limited)")  # fmt: skip

    async def _run(self) -> None:
        cpu = resource.getrusage(resource.RUSAGE_THREAD)
        try:
            await self._bursts()
        finally:
            used = resource.getrusage(resource.RUSAGE_THREAD)
            self.cpu = used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime

    async def _bursts(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            clients = [client_from(f"127.0.4.{k % 250 + 1}", self.base) for k in range(self.size)]
            try:
                page = (await clients[0].get("/signin")).text  # one anonymous form token serves them all
                found = re.search(r'name="csrf" value="([^"]+)"', page)
                if found is None:
                    raise RuntimeError("no CSRF token on /signin")
                await asyncio.gather(*(self._one(k, c, found.group(1)) for k, c in enumerate(clients)))
            finally:
                for client in clients:
                    await client.aclose()
            self.bursts += 1
            await asyncio.sleep(max(0.0, self.every - (time.monotonic() - started)))

    async def _one(self, k: int, client: httpx.AsyncClient, csrf: str) -> None:
        name = self.names[(self.bursts * self.size + k) % len(self.names)]
        form = {"name": name, "password": PASSWORD, "csrf": csrf, "next": "/"}
        sent = time.perf_counter()
        try:
            status: int | str = (
                await client.post("/signin", data=form, headers={"Origin": self.base})
            ).status_code
        except httpx.TransportError as exc:
            status = type(exc).__name__
        self.ms.append((time.perf_counter() - sent) * 1000)
        self.statuses[status] += 1


# --- where the CPU went -----------------------------------------------------------------------------------------


def cpu_ticks(server: int) -> tuple[int, int, int]:
    """(the machine's busy clock ticks, all its ticks, every core and process; the ticks of process `server` and
    its children), so far, from /proc."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    own = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (name)"; name may hold spaces
        except OSError:  # the process ended meanwhile
            continue
        if stat.parent.name == str(server) or rest[1] == str(server):  # itself, or a child (--workers)
            own += int(rest[11]) + int(rest[12])  # utime, stime
    return sum(fields) - idle, sum(fields), own


def cpu_line(before: tuple[int, int, int], after: tuple[int, int, int], seconds: float) -> str:
    busy, total, own = (b - a for a, b in zip(before, after, strict=True))
    server = own / os.sysconf("SC_CLK_TCK") / seconds
    return f"machine CPU {busy / max(1, total):.0%} busy; the server's processes used {server:.2f} cores"


# --- the run --------------------------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def judged(load: Load, target: float) -> str:
    if not load.figures.requests:
        return "NOT met (nothing answered)"
    return verdict(load.figures.p99 < target)


def table(title: str, loads: dict[str, Load], cpu: str) -> None:
    print(
        f"\n{title}\n{'':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'failed':>7}  target p99"
    )
    for name, load in loads.items():
        f = load.figures
        print(f"{name:28} {f.p50:8.1f} {f.p95:8.1f} {f.p99:8.1f} {f.rate:8.1f} {load.failed():7d}  "
              f"< {TARGETS[name]:.0f} ms: {judged(load, TARGETS[name])}")  # fmt: skip
    for name, load in loads.items():
        size = load.bytes / max(1, load.figures.requests)
        spent = f"; the posting clients took {load.client_cpu:.1f} s of CPU" if load.client_cpu else ""
        print(f"  {name}: answers {load.answers() or 'none'}; {size / 1024:.0f} KiB a response{spent}")
    print(f"  {cpu}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60, help="each of the two main runs")
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between requests, paced run")
    parser.add_argument("--readers", type=int, default=200, help="reader accounts")
    parser.add_argument("--api-readers", type=int, default=80, help="connections reading the API thread")
    parser.add_argument("--page-readers", type=int, default=80, help="connections reading the article page")
    parser.add_argument("--posters", type=int, default=40, help="connections posting comments")
    parser.add_argument("--earlier", type=int, default=250, help="top-level comments on the story beforehand")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`serve --workers`)")
    parser.add_argument("--burst-size", type=int, default=50, help="sign-ins sent at once")
    parser.add_argument("--burst-every", type=float, default=2.0, help="seconds from one burst to the next")
    parser.add_argument("--burst-seconds", type=int, default=30, help="paced readers alone, then with bursts")
    parser.add_argument(
        "--burst-think", type=float, default=10.0, help="mean seconds between a reader's requests there"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(
            "bench/comments.py drives the server with wrk: install it (apt-get install -y wrk) and run again"
        )
    workdir = Path(tempfile.mkdtemp(prefix="bench-comments-"))
    try:
        serve_and_measure(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def serve_and_measure(args: argparse.Namespace, workdir: Path) -> None:
    home = workdir / "home"
    cast = prepare(home, args.readers, args.earlier)
    hash_ms, verify_ms = argon2_cost()
    bearers, cookies = workdir / "bearers.txt", workdir / "cookies.txt"
    bearers.write_text("".join(f"Bearer {t}\n" for t in cast.tokens))
    cookies.write_text("".join(f"{SESSION_COOKIE}={c}\n" for c in cast.cookies))
    before = stored_comments(home, cast)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    wrk_connections = args.api_readers + args.page_readers
    idle = min(300.0, max(10.0, 2 * args.think, 2 * args.burst_think))
    env = {
        **os.environ,
        **STEPS_OFF,
        "BROADSHEET_CRAWL_IN_SERVER": "false",
        "BROADSHEET_LOG_LEVEL": "WARNING",
        "BROADSHEET_COMMENTS_PER_MINUTE": "10000",  # the most the setting takes
        "BROADSHEET_LOGINS_PER_MINUTE": "10000",
        "BROADSHEET_MAX_CONNECTIONS_PER_CLIENT": str(wrk_connections + 64),  # all 127.0.0.1's
        # Paced readers wait up to 1.5x their think time before each request, the first included (wrk opens every
        # connection at once): a connection the server dropped meanwhile would count as a wrk error, where a
        # browser opens a connection when it has something to ask, and opens another without a word.
        "BROADSHEET_KEEPALIVE_TIMEOUT": str(idle),
        "BROADSHEET_HEADER_TIMEOUT": str(idle),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    server = subprocess.Popen([sys.executable, "-m", "broadsheet", "--home", str(home), "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    crowd = Crowd(base, cast.article_id, workdir, cast.tokens, bearers, cookies, args.api_readers, args.page_readers,
                  args.posters)  # fmt: skip
    try:
        wait_until_serving(base, tries=150)
        print(f"SQLite, {os.cpu_count()} cores (server and wrk on the same machine); `serve --workers "
              f"{args.workers}`, crawler off; {args.readers} reader accounts; the hot story: article "
              f"{cast.article_id}, {len(before)} comments beforehand; {args.api_readers} API readers + "
              f"{args.page_readers} page readers (wrk) + {args.posters} posters (httpx, each from its own address), "
              "each connection a signed-in reader (API: a personal token as `Authorization: Bearer`, how apps and "
              "scripts read and post; page: a session cookie). Rate limits at their highest: not what is "
              "measured.")  # fmt: skip
        print(f"argon2id here: hash_password {hash_ms:.1f} ms, verify_password {verify_ms:.1f} ms (median of 5, "
              "one core)", flush=True)  # fmt: skip
        report(args, crowd, cast, home, before, server.pid)
    finally:
        server.terminate()
        server.wait(30)


def report(
    args: argparse.Namespace, crowd: Crowd, cast: Cast, home: Path, before: set[int], server: int
) -> None:
    def measured(seconds: int, think: float, posting: bool = True) -> tuple[dict[str, Load], str]:
        ticks, started = cpu_ticks(server), time.monotonic()
        loads = crowd.run(seconds, think, posting)
        return loads, cpu_line(ticks, cpu_ticks(server), time.monotonic() - started)

    warm = crowd.run(3, 0.0)
    closed, cpu = measured(args.seconds, 0.0)
    table(f"closed loop, {args.seconds} s: each connection sends its next request as soon as it is answered",
          closed, cpu)  # fmt: skip
    paced, cpu = measured(args.seconds, args.think)
    table(f"paced, {args.seconds} s: each connection waits {args.think:g} s on average (0.5-1.5x) between an "
          "answer and its next request", paced, cpu)  # fmt: skip

    acked = {i for run in (warm, closed, paced) for i in run[POST].acked} if args.posters else set()
    stored = stored_comments(home, cast) - before
    lost = acked - stored
    print(f"\nwrites: {len(acked)} acknowledged (201), {len(stored)} new comments stored, {len(lost)} "
          f"acknowledged but not stored: {verdict(not lost)}; {len(stored - acked)} stored without an "
          "acknowledgement (the answer lost: timed out or cut)", flush=True)  # fmt: skip

    quiet, quiet_cpu = measured(args.burst_seconds, args.burst_think, posting=False)
    with SignInBursts(crowd.base, cast.names, args.burst_size, args.burst_every) as bursts:
        loud, loud_cpu = measured(args.burst_seconds, args.burst_think, posting=False)
    print(f"\nsign-ins beside readers waiting {args.burst_think:g} s on average between requests, "
          f"{args.burst_seconds} s, a burst every {args.burst_every:g} s: {bursts.line()}")  # fmt: skip
    print(f"{'readers':28} {'alone p99':>10} {'bursts p99':>11} {'ratio':>6} {'failed':>7}  target: within "
          f"{BURST_RATIO:g}x, none failed")  # fmt: skip
    for name in quiet:
        a, b = quiet[name].figures, loud[name].figures
        ratio = b.p99 / a.p99 if a.p99 else float("inf")
        met = bool(a.requests and b.requests) and ratio <= BURST_RATIO and not loud[name].failed()
        print(f"{name:28} {a.p99:10.1f} {b.p99:11.1f} {ratio:6.2f} {loud[name].failed():7d}  {verdict(met)} "
              f"({a.rate:.1f} -> {b.rate:.1f} req/s; p50 {a.p50:.0f} -> {b.p50:.0f} ms)")  # fmt: skip
    for name, load in loud.items():
        print(f"  {name} beside the bursts: answers {load.answers() or 'none'}, {load.figures.errors} requests "
              "unanswered (connect, read or timeout errors)")  # fmt: skip
    print(f"  readers alone: {quiet_cpu}\n  beside the bursts: {loud_cpu}; the sign-in clients took "
          f"{bursts.cpu:.1f} s of CPU")  # fmt: skip


if __name__ == "__main__":
    main()
