"""Web reader latency under load: a database of N generated articles from M outlets, `broadsheet serve` as a
real process, and C concurrent clients (closed loop) on each page kind in turn.

Prints p50/p95/p99 latency and requests/s for the article page, home, outlet page and search.
Targets on the 2-core machine: article p99 < 50 ms, home p99 < 100 ms, search p99 < 200 ms.

    .venv/bin/python bench/web.py [--articles 200000] [--outlets 500] [--clients 50] [--requests 2000] [--workers 1]

The filled database is kept in bench/results/ (per size) and reused by later runs; `--refill` rebuilds it.
Filling goes through `broadsheet import`, the same pipeline crawled articles take (several minutes at 200 000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from vocabulary import WORDS

RESULTS = Path(__file__).resolve().parent / "results"


def generate(path: Path, articles: int, outlets: int, seed: int = 1) -> None:
    """JSON Lines of invented articles: varied words, 3-8 paragraphs, tags, spread over 90 days."""
    rng = random.Random(seed)
    start = datetime(2026, 8, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for i in range(articles):
            outlet = f"Outlet {i % outlets:03d} News"
            words = [rng.choice(WORDS) for _ in range(rng.randint(120, 600))]
            cut = sorted(rng.sample(range(20, len(words) - 10), rng.randint(2, 7)))
            paragraphs = [
                " ".join(words[a:b]).capitalize() + "."
                for a, b in zip([0, *cut], [*cut, len(words)], strict=True)
            ]
            record = {
                "url": f"https://outlet{i % outlets}.example/{i}",
                "title": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize()
                + f" {i}",
                "text": "\n\n".join(paragraphs),
                "published": (start + timedelta(seconds=i * 39)).isoformat(),
                "outlet": outlet,
                "lang": "en",
                "image": f"https://img{i % outlets}.example/{i}.jpg",
                "tags": [rng.choice(WORDS).title(), rng.choice(WORDS).title()],
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


async def load(
    base: str, paths: Callable[[random.Random], str], clients: int, total: int
) -> tuple[list[float], float, int]:
    """Closed loop: `clients` tasks each send the next request as soon as the previous one is answered."""
    latencies: list[float] = []
    errors = 0
    remaining = total
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker(seed: int) -> None:
            nonlocal remaining, errors
            rng = random.Random(seed)
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                try:
                    response = await client.get(paths(rng))
                except (
                    httpx.TransportError
                ):  # a dropped connection is a failed request, not the end of the run
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, errors


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--outlets", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000, help="per page kind")
    parser.add_argument("--workers", type=int, default=1, help="server processes (`serve --workers`)")
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()

    home = RESULTS / f"web-{args.articles}-{args.outlets}"
    if args.refill and home.exists():
        shutil.rmtree(home)
    if not (home / "broadsheet.db").exists():
        fill(home, args.articles, args.outlets)

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
        kinds: dict[str, Callable[[random.Random], str]] = {
            "article": lambda r: f"/articles/{r.randint(1, args.articles)}",
            "home": lambda r: (
                "/" if r.random() < 0.5 else f"/?outlet=outlet-{r.randrange(args.outlets):03d}-news"
            ),
            "outlet": lambda r: f"/outlets/outlet-{r.randrange(args.outlets):03d}-news",
            "search": lambda r: f"/search?q={r.choice(WORDS)}+{r.choice(WORDS)}",
        }
        targets = {"article": 50, "home": 100, "outlet": 100, "search": 200}
        print(f"{args.articles} articles, {args.outlets} outlets, {args.clients} concurrent clients, "
              f"{args.requests} requests per kind, server: {args.workers} process(es)")  # fmt: skip
        print(f"{'page':8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'errors':>7}  target p99")
        for name, paths in kinds.items():
            asyncio.run(load(base, paths, args.clients, 100))  # warm-up
            latencies, elapsed, errors = asyncio.run(load(base, paths, args.clients, args.requests))
            p99 = pct(latencies, 99)
            verdict = "met" if p99 < targets[name] else "NOT met"
            print(f"{name:8} {pct(latencies, 50):8.1f} {pct(latencies, 95):8.1f} {p99:8.1f} "
                  f"{len(latencies) / elapsed:8.0f} {errors:7d}  < {targets[name]} ms: {verdict}")  # fmt: skip
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
