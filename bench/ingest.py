"""Ingestion throughput: N publishers x M articles served on loopback, crawled by broadsheet.

Prints articles/s for the whole crawl (fetch feed -> parse -> fetch pages -> extract -> dedupe -> store) and
for trafilatura alone over the same pages, their ratio, and peak memory.

Pages: `--pages real` (default when ../shared/data/extraction-dev exists) serves the 949 real pages of that
set, dealt round-robin to the publishers behind invented feeds; `--pages invented` serves generated news
pages (lighter than real ones, so extraction is cheap and fixed costs weigh more). One article in ten of an
invented publisher is a copy of the previous publisher's (syndication), so dedupe does real work.

    .venv/bin/python bench/ingest.py [--pages real|invented] [--publishers 20] [--articles 50] [--workers 0]
"""

from __future__ import annotations

import argparse
import gzip
import multiprocessing
import multiprocessing.synchronize
import os
import random
import resource
import subprocess
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

from broadsheet.config import load_settings
from broadsheet.models import SourceKind
from broadsheet.store import Store
from vocabulary import WORDS

REAL_PAGES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "extraction-dev" / "html"


def invented_page(pub: int, art: int) -> bytes:
    rng = random.Random(pub * 100_000 + art)

    def sentence() -> str:
        return " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 26))).capitalize() + "."

    title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize()
    body = "\n".join(
        f"<p>{' '.join(sentence() for _ in range(rng.randint(2, 5)))}</p>" for _ in range(rng.randint(8, 16))
    )
    nav = "".join(f'<li><a href="/section/{w}">{w.title()}</a></li>' for w in WORDS)
    related = "".join(f'<li><a href="/a/{art + k}">{sentence()}</a></li>' for k in range(1, 6))
    published = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=art * 7 + pub)).isoformat()
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | Bench Post {pub}</title>
<meta property="og:site_name" content="Bench Post {pub}"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{published}">
<script type="application/ld+json">{{"@type":"NewsArticle","headline":"{title}","datePublished":"{published}",
"author":{{"@type":"Person","name":"Ada Writer{art % 13}"}}}}</script>
<style>body{{font-family:serif}} .nav{{display:flex}}</style></head><body>
<header><nav class="nav"><ul>{nav}</ul></nav><div class="cookie">We use cookies. <button>Accept</button></div></header>
<main><article><h1>{title}</h1><p class="byline">By Ada Writer{art % 13}</p>
<div class="share"><a href="#">Share on social</a> <a href="#">Email</a></div>{body}</article>
<aside class="related"><h2>Related</h2><ul>{related}</ul></aside></main>
<footer><p>Copyright Bench Post {pub}. All rights reserved.</p><ul>{nav}</ul></footer>
<script>window.analytics = {{ page: "{art}" }};</script></body></html>""".encode()


def load_pages(kind: str, publishers: int, articles: int) -> list[list[bytes]]:
    """Each publisher's article pages."""
    if kind == "real":
        files = sorted(REAL_PAGES.glob("*.html.gz"))
        dealt: list[list[bytes]] = [[] for _ in range(publishers)]
        for i, path in enumerate(files):
            dealt[i % publishers].append(gzip.decompress(path.read_bytes()))
        return dealt
    return [
        [invented_page(0 if art % 10 == 0 else pub, art) for art in range(articles)]
        for pub in range(publishers)
    ]


def feed(pub: int, base: str, count: int) -> bytes:
    items = []
    for art in range(count):
        date = format_datetime(datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=art * 7))
        items.append(
            f"<item><title>{escape(f'Bench story {pub}-{art}')}</title><link>{base}/a/{art}</link>"
            f"<pubDate>{date}</pubDate></item>"
        )
    channel = f"<title>Bench Post {pub}</title>{''.join(items)}"
    return f'<?xml version="1.0"?><rss version="2.0"><channel>{channel}</channel></rss>'.encode()


def serve(pages: list[list[bytes]], ready: multiprocessing.synchronize.Event) -> None:
    """One server per publisher, each on its own loopback address (its own host for limits and dedupe)."""
    for pub, own in enumerate(pages):
        host = f"127.0.0.{pub + 2}"
        routes = {f"/a/{art}": html for art, html in enumerate(own)}
        routes["/feed.xml"] = feed(pub, f"http://{host}:8765", len(own))
        routes["/robots.txt"] = b"User-agent: *\nAllow: /\n"

        class Handler(BaseHTTPRequestHandler):
            table = routes
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = self.table.get(self.path, b"")
                self.send_response(200 if body else 404)
                kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html"
                self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((host, 8765), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    threading.Event().wait()


def cpu_seconds() -> float:
    """User + system CPU of this process and of its reaped children (and theirs)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--pages", choices=["real", "invented"], default="real" if REAL_PAGES.is_dir() else "invented"
    )
    parser.add_argument("--publishers", type=int, default=20)
    parser.add_argument("--articles", type=int, default=50, help="per publisher (invented pages only)")
    parser.add_argument("--workers", type=int, default=0, help="extraction processes (0: one per core)")
    args = parser.parse_args()
    if args.pages == "real" and not REAL_PAGES.is_dir():
        print(f"skipped: real pages not found at {REAL_PAGES} (use --pages invented)")
        return

    pages = load_pages(args.pages, args.publishers, args.articles)
    total = sum(len(own) for own in pages)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(pages, ready), daemon=True)
    server.start()
    ready.wait(60)

    started, cpu_before = time.perf_counter(), cpu_seconds()
    for pub, own in enumerate(pages):
        for art, html in enumerate(own):
            trafilatura.extract(html, url=f"http://127.0.0.{pub + 2}:8765/a/{art}")
    alone, alone_cpu = time.perf_counter() - started, cpu_seconds() - cpu_before

    with tempfile.TemporaryDirectory() as home:
        # The crawl runs as the real command in its own process, so its CPU and memory are its own.
        env = {
            **os.environ,
            "BROADSHEET_ALLOW_PRIVATE_NETWORKS": "true",
            "BROADSHEET_PER_HOST_DELAY": "0",
            "BROADSHEET_EXTRACT_WORKERS": str(args.workers),
            "BROADSHEET_MAX_ENTRIES_PER_SOURCE": str(max(len(own) for own in pages)),
        }
        settings = load_settings(home)
        store = Store.open(settings.database)
        now = datetime.now(UTC)
        for pub in range(len(pages)):
            url = f"http://127.0.0.{pub + 2}:8765/feed.xml"
            store.sources.add(url, SourceKind.FEED, now=now, interval_seconds=1800, title=f"Bench Post {pub}")
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        command = [sys.executable, "-m", "broadsheet", "--home", home, "crawl", "--once"]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        crawl = time.perf_counter() - started
        crawl_cpu = cpu_seconds() - cpu_before
        crawl_mb = (
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        )  # the server is not reaped yet
        stored, copies = store.articles.count(), store.articles.count(duplicates=True)
        workers = load_settings(home, extract_workers=args.workers).workers
    server.terminate()
    server.join()
    if result.returncode != 0:
        sys.exit(f"crawl failed ({result.returncode}): {result.stderr[-2000:]}")

    alone_rate, rate = total / alone, total / crawl
    per_alone, per_crawl = 1000 * alone_cpu / total, 1000 * crawl_cpu / total
    print(f"pages: {total} ({args.pages}) from {len(pages)} publishers; extraction workers: {workers}")
    print(f"stored {stored} articles ({copies} duplicates); crawl said: {result.stdout.strip()}")
    print(f"trafilatura alone (1 process): {alone_rate:7.1f} articles/s ({alone:.1f} s)")
    print(f"broadsheet crawl --once:       {rate:7.1f} articles/s ({crawl:.1f} s, process start included)")
    print(f"ratio crawl / trafilatura:     {rate / alone_rate:7.2f}x (target >= 0.80)")
    print(f"CPU per article: trafilatura alone {per_alone:.1f} ms, whole crawl {per_crawl:.1f} ms "
          f"(fetch, parse, extraction extras, dedupe and storage add {100 * (per_crawl / per_alone - 1):.0f} %)")  # fmt: skip
    print(f"peak RSS of the largest crawl process: {crawl_mb:.0f} MB")


if __name__ == "__main__":
    main()
