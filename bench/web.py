"""Web reader latency under load: a database of N generated articles from M outlets, `broadsheet serve` as a
real process, and C concurrent clients (wrk, closed loop: each client sends its next request as soon as the
last is answered) on each page kind in turn.

Prints p50/p95/p99 latency and requests/s for the article page (every article equally likely, and readers
crowding onto new articles), home, outlet page and search (one or two content words, drawn as often as real
prose uses them). Targets on the 2-core machine: article p99 < 50 ms, home p99 < 100 ms, search p99 < 200 ms.

    .venv/bin/python bench/web.py [--articles 200000] [--outlets 500] [--clients 50] [--seconds 20]
                                  [--workers 1] [--zipf 1.0]

Needs wrk (`apt-get install -y wrk`): a load generator in Python takes a core of its own on a 2-core machine.

The filled database is kept in bench/results/ (per size) and reused by later runs; `--refill` rebuilds it.
Filling goes through `broadsheet import`, the same pipeline crawled articles take (several minutes at 200 000).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np

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


def fill(home: Path, articles: int, outlets: int) -> None:
    home.mkdir(parents=True, exist_ok=True)
    data = home / "articles.jsonl"
    print(f"generating {articles} articles from {outlets} outlets ...", flush=True)
    generate(data, articles, outlets)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "broadsheet", "--home", str(home), "import", str(data)], check=True)
    print(f"imported in {time.perf_counter() - started:.0f} s", flush=True)
    data.unlink()


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
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("bench/web.py drives the server with wrk: install it (apt-get install -y wrk) and run again")
    home = RESULTS / f"web-zipf-{args.articles}-{args.outlets}"
    if args.refill and home.exists():
        shutil.rmtree(home)
    if not (home / "broadsheet.db").exists():
        fill(home, args.articles, args.outlets)

    # A server that has run a while has its database in the OS file cache (it fits in memory here); read it
    # once so that the first page kind measured is not the one paying for the disk.
    with (home / "broadsheet.db").open("rb") as db:
        while db.read(1 << 24):
            pass
    port = free_port()
    env = {**os.environ, "BROADSHEET_CRAWL_IN_SERVER": "false", "BROADSHEET_LOG_LEVEL": "WARNING"}
    server = subprocess.Popen([sys.executable, "-m", "broadsheet", "--home", str(home), "serve", "--port", str(port),
                               "--workers", str(args.workers)],
                              env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        targets = {
            "article (uniform)": 50,
            "article (popular)": 50,
            "home": 100,
            "outlet": 100,
            "search": 200,
        }
        print(f"{args.articles} articles, {args.outlets} outlets, {args.clients} concurrent clients (wrk, closed "
              f"loop), {args.seconds} s per page kind, server: {args.workers} process(es), popular = Zipf "
              f"exponent {args.zipf}")  # fmt: skip
        print(f"{'page':18} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}  target p99")
        with tempfile.TemporaryDirectory() as workdir:
            wanted = [p.strip() for p in args.pages.split(",") if p.strip()]
            for name, paths in workload(args.articles, args.outlets, args.zipf).items():
                if wanted and not name.startswith(tuple(wanted)):
                    continue
                load(base, paths, args.clients, 3, Path(workdir))  # warm-up
                f = load(base, paths, args.clients, args.seconds, Path(workdir))
                verdict = "met" if f.p99 < targets[name] else "NOT met"
                print(f"{name:18} {f.p50:8.1f} {f.p95:8.1f} {f.p99:8.1f} {f.rate:8.0f} {f.errors:7d}  "
                      f"< {targets[name]} ms: {verdict}", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
