"""Ingestion throughput: N invented publishers x M articles served on loopback, crawled by broadsheet.

Prints articles/s for the whole crawl (fetch -> parse -> fetch pages -> extract -> dedupe -> store) and for
trafilatura alone over the same pages, their ratio, and peak memory.

    .venv/bin/python bench/ingest.py [--publishers 20] [--articles 50] [--workers 0]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import multiprocessing.synchronize
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

import trafilatura

from broadsheet.config import Settings
from broadsheet.crawl import Crawler
from broadsheet.models import SourceKind
from broadsheet.pipeline import Pipeline
from broadsheet.store import Store

WORDS = [
    "council",
    "harbour",
    "river",
    "station",
    "minister",
    "budget",
    "vote",
    "bridge",
    "storm",
    "school",
    "hospital",
    "market",
    "union",
    "rail",
    "court",
    "police",
    "museum",
    "festival",
    "farmers",
    "election",
    "airport",
    "energy",
    "water",
    "housing",
    "tax",
    "report",
    "season",
    "coach",
    "league",
    "village",
    "mayor",
    "plan",
    "study",
    "scientists",
    "company",
    "workers",
    "strike",
    "prices",
    "road",
    "weather",
    "fire",
    "rescue",
    "island",
    "coast",
    "valley",
    "city",
    "region",
    "border",
    "trade",
    "talks",
    "agreement",
    "officials",
    "residents",
    "protest",
    "delay",
    "repair",
    "record",
    "year",
    "week",
    "morning",
    "evening",
    "announced",
    "said",
    "expected",
    "confirmed",
    "warned",
    "opened",
    "closed",
    "rejected",
]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 26))]
    return " ".join(words).capitalize() + "."


def article_page(pub: int, art: int, rng: random.Random, base: str) -> tuple[str, str]:
    title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize()
    paragraphs = "\n".join(
        f"<p>{' '.join(sentence(rng) for _ in range(rng.randint(2, 5)))}</p>"
        for _ in range(rng.randint(8, 16))
    )
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in WORDS[:25])
    related = "".join(f'<li><a href="/a/{art + k}">{sentence(rng)}</a></li>' for k in range(1, 6))
    published = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=art * 7 + pub)).isoformat()
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench Post {pub}</title>
<meta property="og:site_name" content="Bench Post {pub}"><meta property="og:title" content="{title}">
<link rel="canonical" href="{base}/a/{art}"><meta property="article:published_time" content="{published}">
<script type="application/ld+json">{{"@type":"NewsArticle","headline":"{title}","datePublished":"{published}",
"author":{{"@type":"Person","name":"Reporter {art % 13}"}}}}</script>
<style>body{{font-family:serif}} .nav{{display:flex}}</style></head><body>
<header><nav class="nav"><ul>{nav}</ul></nav><div class="cookie">We use cookies. <button>Accept</button></div></header>
<main><article><h1>{title}</h1><p class="byline">By Reporter {art % 13}</p>
<div class="share"><a href="#">Share on social</a> <a href="#">Email</a></div>
{paragraphs}
</article><aside class="related"><h2>Related</h2><ul>{related}</ul></aside></main>
<footer><p>Copyright Bench Post {pub}. All rights reserved.</p><ul>{nav}</ul></footer>
<script>window.analytics = {{ page: "{art}" }};</script></body></html>"""
    return title, html


def site(pub: int, articles: int, base: str) -> dict[str, bytes]:
    """Every path of one publisher: /feed.xml and /a/<n>. A tenth of articles copy the previous publisher's."""
    rng = random.Random(pub)
    routes: dict[str, bytes] = {}
    items = []
    for art in range(articles):
        seed_pub = pub - 1 if pub and art % 10 == 0 else pub  # syndicated wire copy
        title, html = article_page(seed_pub, art, random.Random(seed_pub * 100_000 + art), base)
        routes[f"/a/{art}"] = html.encode()
        date = format_datetime(datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=art * 7))
        items.append(
            f"<item><title>{escape(title)}</title><link>{base}/a/{art}</link><pubDate>{date}</pubDate></item>"
        )
    rng.shuffle(items)
    feed = f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench Post {pub}</title>{"".join(items)}</channel></rss>'
    routes["/feed.xml"] = feed.encode()
    routes["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return routes


def serve(publishers: int, articles: int, ports: list[int], ready: multiprocessing.synchronize.Event) -> None:
    servers = []
    for _ in range(publishers):
        server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
        ports.append(server.server_address[1])
        servers.append(server)

    for pub, server in enumerate(servers):
        routes = site(pub, articles, f"http://127.0.0.1:{server.server_address[1]}")

        class Handler(BaseHTTPRequestHandler):
            table = routes

            def do_GET(self) -> None:
                body = self.table.get(self.path)
                self.send_response(200 if body else 404)
                kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
                self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else kind)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        server.RequestHandlerClass = Handler
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--publishers", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0: one per core)")
    args = parser.parse_args()

    manager = multiprocessing.Manager()
    ports = manager.list()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=serve, args=(args.publishers, args.articles, ports, ready), daemon=True
    )
    server.start()
    ready.wait(60)
    bases = [f"http://127.0.0.1:{port}" for port in list(ports)]

    pages = [
        (f"{base}/a/{art}", html)
        for pub, base in enumerate(bases)
        for path, html in site(pub, args.articles, base).items()
        if path.startswith("/a/")
        for art in [int(path.rsplit("/", 1)[1])]
    ]
    started = time.perf_counter()
    for url, html in pages:
        trafilatura.extract(html.decode(), url=url)
    alone = time.perf_counter() - started
    alone_rate = len(pages) / alone

    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home), allow_private_networks=True, per_host_delay=0, extract_workers=args.workers,
            max_entries_per_source=args.articles,
        )  # fmt: skip
        store = Store.open(settings.database)
        now = datetime.now(UTC)
        for pub, base in enumerate(bases):
            store.sources.add(
                f"{base}/feed.xml", SourceKind.FEED, now=now, interval_seconds=1800, title=f"P{pub}"
            )
        pipeline = Pipeline(store, settings)
        started = time.perf_counter()
        report = asyncio.run(Crawler(settings, store, pipeline).run_once())
        crawl = time.perf_counter() - started
        stored = store.articles.count()
        copies = store.articles.count(duplicates=True)
    server.terminate()
    failed = report.failed
    rate = len(pages) / crawl
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"pages: {len(pages)} from {len(bases)} publishers; stored {stored} ({copies} duplicates); "
          f"failed sources {len(failed)}; extraction workers {settings.workers}")  # fmt: skip
    print(f"trafilatura alone (1 process): {alone_rate:7.1f} articles/s ({alone:.1f} s)")
    print(f"broadsheet crawl:              {rate:7.1f} articles/s ({crawl:.1f} s)")
    print(f"ratio pipeline / trafilatura:  {rate / alone_rate:7.2f}x (target >= 0.80)")
    print(f"peak memory: main process {peak_mb():.0f} MB, largest child {children:.0f} MB")
    if failed or stored != len(pages):
        sys.exit(f"unexpected: {[f.error for f in failed]} stored={stored}")


if __name__ == "__main__":
    main()
