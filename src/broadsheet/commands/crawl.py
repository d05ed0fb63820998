"""`broadsheet crawl [--once]`: poll sources, with a progress bar on a terminal and a summary after."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from broadsheet.commands.common import BRIEFS_HELP, app, err, finish_briefs, opened, out

if TYPE_CHECKING:  # the crawler pulls in extraction and dedupe: imported only when a crawl runs
    from broadsheet.config import Settings
    from broadsheet.pipeline.crawl import Crawler
    from broadsheet.pipeline.report import CrawlReport, SourceReport
    from broadsheet.store import Store

__all__ = ["crawl"]


class BarProgress:
    """Rich progress bars for sources and articles (only on a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.sources = progress.add_task("sources", total=0)
        self.entries = progress.add_task("articles", total=0)

    def sources_total(self, count: int) -> None:
        self.progress.update(self.sources, total=count, completed=0)
        self.progress.update(self.entries, total=0, completed=0)

    def entries_found(self, count: int) -> None:
        task = self.progress.tasks[self.entries]
        self.progress.update(self.entries, total=(task.total or 0) + count)

    def entry_done(self) -> None:
        self.progress.advance(self.entries)

    def source_done(self, report: SourceReport) -> None:
        self.progress.advance(self.sources)


def print_summary(report: CrawlReport) -> None:
    for line in report.summary_lines():
        out.print(line)


@app.command()
def crawl(
    once: Annotated[bool, typer.Option("--once", help="Fetch every due source once, then exit.")] = False,
    all_sources: Annotated[
        bool, typer.Option("--all", help="With --once: fetch every source now, due or not.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            min=1, help="With --once through workers (PostgreSQL): the most seconds to wait for them."
        ),
    ] = 3600,
    briefs: Annotated[bool, typer.Option("--briefs", help="With --once: " + BRIEFS_HELP)] = False,
) -> None:
    """Fetch due sources, extract and store new articles. Without --once, keeps polling until stopped.

    On PostgreSQL with `broadsheet worker` processes running, --once queues the work for them and waits until
    they have done it; without workers it crawls in this process."""
    from broadsheet.pipeline.assemble import build_crawler

    with opened() as (settings, store):
        if store.sources.count() == 0:
            if once:
                err.print("no sources to crawl; add one with: broadsheet source add URL")
                raise typer.Exit(1)
            out.print("no sources yet: add one from another terminal with `broadsheet source add URL`")
        if once and settings.on_postgresql:
            from broadsheet.workers import workers_alive

            if workers_alive(settings, store.engine):
                _once_through_workers(settings, store, all_sources=all_sources, timeout=timeout)
                finish_briefs(settings, store, build=briefs)
                return
            err.print("no `broadsheet worker` is running on this database: crawling in this process")
        if once:
            if out.is_terminal:
                columns = (
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                )
                with Progress(*columns, console=out, transient=True) as bars:
                    crawler = build_crawler(settings, store, progress=BarProgress(bars))
                    report = asyncio.run(crawler.run_once(all_sources=all_sources))
            else:
                crawler = build_crawler(settings, store)
                report = asyncio.run(crawler.run_once(all_sources=all_sources))
            if not report.sources:
                _nothing_due(store)
            else:
                print_summary(report)
            finish_briefs(settings, store, build=briefs)
            if report.sources and not report.ok:
                raise typer.Exit(1)  # nothing could run at all: every source failed
            return
        asyncio.run(_forever(build_crawler(settings, store)))


def _nothing_due(store: Store) -> None:
    next_due = store.sources.next_due_at()
    out.print(f"no source is due; the next is due at {next_due:%Y-%m-%d %H:%M} UTC (--all to force)"
              if next_due else "no source is due")  # fmt: skip


def _once_through_workers(settings: Settings, store: Store, *, all_sources: bool, timeout: float) -> None:
    from broadsheet.workers.drive import crawl_through_queue

    def shown(done: int, total: int) -> None:
        if out.is_terminal:
            out.print(f"\rsources polled by the workers: {done}/{total}", end="")

    result = asyncio.run(
        crawl_through_queue(settings, store, all_sources=all_sources, timeout=timeout, on_progress=shown)
    )
    if out.is_terminal:
        out.print()
    if not result.sources:
        _nothing_due(store)
        return
    for line in result.summary_lines():
        out.print(line)
    if len(result.failed) == len(result.sources):
        raise typer.Exit(1)  # nothing could run at all: every source failed


async def _forever(crawler: Crawler) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    out.print("crawling on schedule; Ctrl-C to stop")
    task = asyncio.create_task(crawler.run_forever(stop, print_summary))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():  # the loop ended by itself: an error worth showing
        stopping.cancel()
        task.result()
        return
    # The pass in flight is cancelled between articles; each stored article was committed whole.
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    out.print("stopped; everything already stored is kept")
