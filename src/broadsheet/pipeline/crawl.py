"""The crawl: for each due source, fetch -> parse -> (fetch page -> extract) -> ingest, then the steps over
stored articles (stories, ...) and a tidy search index.

A failure on one source or one entry is recorded and the run goes on. A source's validators (ETag,
Last-Modified) are saved only after all its entries are stored, so a crawl killed midway re-reads the feed
next time instead of being told "304, nothing new".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor
from datetime import datetime, timedelta

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.dedupe import canonical_url
from broadsheet.errors import BroadsheetError, ExtractError, FetchError, HTTPStatusError
from broadsheet.extract import extract_article
from broadsheet.fetch import Fetcher, FetchKind, FetchResult
from broadsheet.models import Extracted, Feed, FeedEntry, Source, SourceKind
from broadsheet.pipeline.ingest import Ingester, article_from_entry
from broadsheet.pipeline.pool import StartMethod, extraction_pool
from broadsheet.pipeline.report import CrawlProgress, CrawlReport, SourceReport
from broadsheet.pipeline.schedule import next_poll
from broadsheet.pipeline.steps import BACKGROUND_BATCHES, Step, run_step
from broadsheet.pipeline.websub import Subscriber, announce
from broadsheet.sources import parse_feed
from broadsheet.store import FetchOutcome, Push, Store, compact_index

__all__ = ["Crawler", "Poller"]

log = logging.getLogger(__name__)
MAX_CHILD_SITEMAPS = 5
BACKGROUND_REST = 30.0  # seconds between background rounds that found nothing to do


class Crawler:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        ingester: Ingester,
        *,
        steps: Sequence[Step] = (),
        background: Sequence[Step] = (),
        progress: CrawlProgress | None = None,
        clock: Callable[[], datetime] = utcnow,
        start_method: StartMethod = "fork",
    ) -> None:
        self.start_method: StartMethod = start_method
        self.steps = tuple(steps)
        # Slow steps (story briefs, the optional LLM's rewrites) that run beside the passes by `run_forever`,
        # never in one.
        self.background = tuple(background)
        # Set for each background step when a pass's steps did work (new stories, say), so that it looks now
        # rather than at the end of its rest.
        self._fresh = {step.name: asyncio.Event() for step in self.background}
        self.settings = settings
        self.store = store
        self.ingester = ingester
        self.progress = progress
        self.clock = clock
        # When the search index was last left tidy; until then (a merge cut short included) each pass looks.
        self._compacted_at: datetime | None = None
        # Set (from the event loop) when a source should be polled before the next scheduled wake-up: a WebSub
        # hub pushed to it (web/pages/websub.py).
        self.wake = asyncio.Event()

    async def run_once(self, *, all_sources: bool = False, source_ids: Sequence[int] = ()) -> CrawlReport:
        """Poll every due source (or all of them, or the ones named) once."""
        due = self.store.sources.due(self.clock(), all_sources=all_sources or bool(source_ids))
        if source_ids:
            due = [s for s in due if s.id in source_ids]
        report = CrawlReport()
        if self.progress:
            self.progress.sources_total(len(due))
        if not due:
            return report
        async with self.poller() as poller:
            report.sources = list(await asyncio.gather(*(poller.source(s) for s in due)))
            if self.settings.websub_hub and self.settings.base_url and any(s.new for s in report.sources):
                await announce(self.settings, poller.fetcher, self.announced_feeds())
        for step in self.steps:  # also picks up articles a failed earlier pass left waiting
            await self.run_step(step, report)
        if any(tally.articles for tally in report.steps.values()):
            for fresh in self._fresh.values():
                fresh.set()
        await self.tidy_search_index()  # a cheap look when there is nothing to do
        return report

    def announced_feeds(self) -> list[str]:
        """The site's feeds a hub is told of after new articles: the front page's, in both formats."""
        base = self.settings.base_url.rstrip("/")
        return [f"{base}/feed.atom", f"{base}/feed.rss"]

    @contextlib.asynccontextmanager
    async def poller(self) -> AsyncIterator[Poller]:
        """A fetcher and an extraction pool for polling sources one by one (`Poller.source`), shared by every
        poll made with it: a crawl pass's, or a worker's for its whole life (workers/). On leaving, waits for
        at most the extractions already running."""
        run: Poller | None = None
        try:
            async with Fetcher(self.settings) as fetcher:
                run = Poller(self, fetcher, extraction_pool(self.settings.workers, self.start_method))
                yield run
        finally:
            if run is not None:
                run.executor.shutdown(wait=True, cancel_futures=True)

    async def tidy_search_index(self) -> None:
        """Keep the full-text index in few segments (store.search.compact_index): looked at once every
        `search_compact_every_hours`, then merged in slices of at most `search_compact_seconds` a pass until
        done, so a pass (and a shutdown) never waits long and the whole index is not rewritten often.
        Searching works either way, so a failure is only logged."""
        now = self.clock()
        every = timedelta(hours=self.settings.search_compact_every_hours)
        if self._compacted_at is not None and now - self._compacted_at < every:
            return
        try:
            done = await asyncio.to_thread(
                compact_index,
                self.store,
                above=self.settings.search_max_segments,
                max_seconds=self.settings.search_compact_seconds,
            )
        except Exception:
            log.exception("compacting the search index failed; searches still work, only slower")
            return
        if done.finished:
            self._compacted_at = now
        if done.steps:
            log.info(
                "search index: %d merge steps, %s", done.steps, "done" if done.finished else "more next pass"
            )

    async def run_step(self, step: Step, report: CrawlReport) -> None:
        """Run one step over stored articles in a thread (ONNX Runtime and numpy release the GIL), so the server
        beside it keeps answering; a bounded share per pass, so a big backlog (a first start on an old
        database) is worked off over several passes while sources keep being polled. A failure here loses
        nothing: the articles are stored and wait for the next pass."""
        tally, error = await asyncio.to_thread(run_step, step, self.settings.step_batches_per_pass)
        if tally is not None:
            report.steps[step.name] = tally
        if error:
            report.step_errors[step.name] = error

    async def run_forever(self, stop: asyncio.Event, on_report: Callable[[CrawlReport], None]) -> None:
        """Poll on schedule until `stop` is set; sleeps until the next source is due (at most a minute, so
        sources added meanwhile are picked up). The background steps run beside it meanwhile."""
        beside = [asyncio.create_task(self._run_beside(step, stop)) for step in self.background]
        try:
            await self._poll_forever(stop, on_report)
        finally:
            for task in beside:
                task.cancel()
            await asyncio.gather(*beside, return_exceptions=True)

    async def _run_beside(self, step: Step, stop: asyncio.Event) -> None:
        """Rounds of a background step, each in a thread and short (BACKGROUND_BATCHES, or the step's own time
        limit); after a round that stored nothing (nothing to do, or the server down), a rest of
        BACKGROUND_REST seconds, cut short when a pass's steps did work. A round in flight when `stop` is set
        runs to its end in its thread; only the waiting is cut short."""
        fresh = self._fresh[step.name]
        while not stop.is_set():
            fresh.clear()
            tally, _error = await asyncio.to_thread(run_step, step, BACKGROUND_BATCHES)  # logs a failure
            worked = tally is not None and tally.articles > 0
            if worked and tally is not None:
                log.info("%s: %s", step.name, tally.summary())
            await _either(stop, fresh, timeout=1.0 if worked else BACKGROUND_REST)

    async def _poll_forever(self, stop: asyncio.Event, on_report: Callable[[CrawlReport], None]) -> None:
        while not stop.is_set():
            report = await self.run_once()
            if report.sources:
                on_report(report)
            next_due = self.store.sources.next_due_at()
            wait = 60.0 if next_due is None else (next_due - self.clock()).total_seconds()
            self.wake.clear()
            await _either(stop, self.wake, timeout=min(60.0, max(1.0, wait)))


class Poller:
    """Polls sources one at a time or many at once, sharing a fetcher and an extraction pool between them
    (`Crawler.poller`). `source` records each poll's outcome in the source's health and never raises for
    what a publisher did; only the store failing (the database gone) raises."""

    def __init__(self, crawler: Crawler, fetcher: Fetcher, executor: Executor) -> None:
        self.c = crawler
        self.fetcher = fetcher
        self.executor = executor
        self.websub = Subscriber(crawler.settings, crawler.store, fetcher)
        # Backpressure: pages are fetched faster than they are extracted; without a bound, every fetched page
        # of a big crawl would wait in memory for a worker. Sized well above the fetcher's own concurrency so
        # that it bounds memory, not speed.
        settings = crawler.settings
        self.pages_in_flight = asyncio.Semaphore(4 * max(settings.max_concurrency, settings.workers))

    async def source(self, source: Source) -> SourceReport:
        report = SourceReport(source.id, source.url, source.title)
        started = self.c.clock()
        try:
            outcome = await self._poll(source, report, started)
        except BroadsheetError as exc:
            outcome = self._failed(source, report, started, exc, str(exc))
        except Exception as exc:  # a bug must not end the crawl for every other source; it is logged in full
            log.exception("source %s (%s) failed unexpectedly", source.id, source.url)
            outcome = self._failed(
                source, report, started, exc, f"internal error ({type(exc).__name__}: {exc})"
            )
        self.c.store.sources.record(source.id, outcome)
        if self.c.progress:
            self.c.progress.source_done(report)
        return report

    def _failed(
        self, source: Source, report: SourceReport, started: datetime, exc: Exception, message: str
    ) -> FetchOutcome:
        report.status, report.error = "error", message
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        interval, due = next_poll(
            self.c.settings,
            now=started,
            interval=source.interval_seconds,
            new_articles=0,
            failed=True,
            error_count=source.error_count,
            retry_after=retry_after,
        )
        # A server that answered 200 with something unreadable is told apart from one that never answered.
        status = exc.status if isinstance(exc, HTTPStatusError) else report.http_status
        return FetchOutcome(started, "error", due, interval, http_status=status, error=message)

    async def _poll(self, source: Source, report: SourceReport, started: datetime) -> FetchOutcome:
        kind: FetchKind = "page" if source.kind is SourceKind.PAGE else "feed"
        pushed = self.c.store.websub.take_pushes(source.id) if kind == "feed" else []
        if pushed:
            return await self._pushed(source, report, started, pushed)
        result = await self.fetcher.fetch(
            source.url, kind=kind, etag=source.etag, last_modified=source.last_modified
        )
        report.http_status = result.status
        title: str | None = None
        if result.not_modified:
            report.status = "not_modified"
        elif source.kind is SourceKind.PAGE:
            report.entries = 1
            await self._entry(source, FeedEntry(url=source.url), report, page=result)
        else:
            feed = parse_feed(result.content, result.url, result.content_type)
            entries = await self._entries(feed)
            title = feed.title or None
            report.warning = feed.warning
            report.entries = len(entries)
            await self._take(source, entries, report)
            await self.websub.after_poll(source.id, feed.hub, feed.self_url or result.url, started)
        interval, due = self._schedule(source, report, started)
        return FetchOutcome(
            started,
            report.status,
            due,
            interval,
            http_status=result.status,
            new_articles=report.new + report.updated,
            etag=result.etag,
            last_modified=result.last_modified,
            title=title if not source.title else None,
            warning=report.warning or None,
        )

    async def _pushed(
        self, source: Source, report: SourceReport, started: datetime, pushed: list[Push]
    ) -> FetchOutcome:
        """Read what the source's WebSub hub pushed, in place of polling: each document parsed as a fetched one
        would be (an unreadable one is skipped and logged), their entries handled as a poll's. The feed's
        conditional-GET validators stay as they were: the next poll still asks what changed since the last."""
        entries: dict[str, FeedEntry] = {}
        for push in pushed:
            try:
                feed = parse_feed(push.body, source.url, push.content_type)
            except BroadsheetError as exc:
                log.warning("websub: source %s: a pushed document was unreadable: %s", source.id, exc)
                continue
            entries.update((entry.url, entry) for entry in feed.entries)
        report.entries = len(entries)
        await self._take(source, list(entries.values())[: self.c.settings.max_entries_per_source], report)
        interval, due = self._schedule(source, report, started)
        return FetchOutcome(started, report.status, due, interval, new_articles=report.new + report.updated,
                            etag=source.etag, last_modified=source.last_modified)  # fmt: skip

    async def _take(self, source: Source, entries: list[FeedEntry], report: SourceReport) -> None:
        """Fetch, extract and store those of a poll's (or a push's) entries not stored yet."""
        fresh = self._fresh(entries)
        if self.c.progress:
            self.c.progress.entries_found(len(fresh))
        # A source's entries mostly share one host: more at once than that host's connection limit would only
        # hold shared slots while queueing for the host, starving every other source.
        lane = asyncio.Semaphore(self.c.settings.per_host_connections)
        await asyncio.gather(*(self._entry(source, entry, report, lane=lane) for entry in fresh))

    def _schedule(self, source: Source, report: SourceReport, started: datetime) -> tuple[int, datetime]:
        """(interval, when due) after a good poll or push: the schedule's, held back while a hub pushes."""
        interval, due = next_poll(self.c.settings, now=started, interval=source.interval_seconds,
                                  new_articles=report.new + report.updated, failed=False)  # fmt: skip
        return interval, self.websub.next_due(source.id, due, started)

    async def _entries(self, feed: Feed) -> list[FeedEntry]:
        """The feed's newest entries; for a sitemap index, those of its first child sitemaps."""
        entries = list(feed.entries)
        for child in feed.sitemaps[:MAX_CHILD_SITEMAPS]:
            try:
                result = await self.fetcher.fetch(child, kind="feed")
                entries.extend(parse_feed(result.content, result.url, result.content_type).entries)
            except BroadsheetError as exc:
                log.warning("child sitemap %s skipped: %s", child, exc)
        floor = datetime.min.replace(tzinfo=self.c.clock().tzinfo)
        entries.sort(key=lambda e: e.published or e.updated or floor, reverse=True)
        return entries[: self.c.settings.max_entries_per_source]

    def _fresh(self, entries: list[FeedEntry]) -> list[FeedEntry]:
        """Entries not stored yet, or stored but updated since (by the feed's own updated date)."""
        keys = {canonical_url(e.url): e for e in entries}
        known = self.c.store.articles.known_urls(list(keys))
        fresh: list[FeedEntry] = []
        for key, entry in keys.items():
            if key not in known:
                fresh.append(entry)
            elif entry.updated is not None:
                stored = self.c.store.articles.known(known[key])
                if stored.updated is None or entry.updated > stored.updated + timedelta(seconds=1):
                    fresh.append(entry)
        return fresh

    async def _entry(
        self,
        source: Source,
        entry: FeedEntry,
        report: SourceReport,
        page: FetchResult | None = None,
        lane: asyncio.Semaphore | None = None,
    ) -> None:
        async with lane or contextlib.nullcontext(), self.pages_in_flight:
            extracted, note, page_url = await self._extract(entry, page)
        if extracted is None:
            report.fallbacks += 1
            if not (entry.content_html or entry.summary or entry.title):
                log.info("entry %s skipped: %s and the feed has no content", entry.url, note)
                self._tick()
                return
        article = article_from_entry(entry, extracted, page_url=page_url, source=source, note=note)
        if not article.text and not article.title:
            self._tick()
            return
        result = self.c.ingester.ingest(article, urls=(entry.url, page_url))
        counter = {"new": "new", "copy": "duplicates", "update": "updated"}.get(result.action.value)
        if counter:
            setattr(report, counter, getattr(report, counter) + 1)
        self._tick()

    def _tick(self) -> None:
        if self.c.progress:
            self.c.progress.entry_done()

    async def _extract(self, entry: FeedEntry, page: FetchResult | None) -> tuple[Extracted | None, str, str]:
        """(extracted, why not, final page URL). Never raises: a page that fails is a fallback, not a loss."""
        if page is None and not self.c.settings.fetch_article_pages:
            return None, "fetching article pages is turned off (fetch_article_pages)", entry.url
        try:
            if page is None:
                page = await self.fetcher.fetch(entry.url, kind="page")
        except FetchError as exc:
            return None, f"page not fetched: {exc}", entry.url
        loop = asyncio.get_running_loop()
        pool = self.executor
        try:
            extracted = await loop.run_in_executor(pool, extract_article, page.content, page.url)
        except ExtractError as exc:
            return None, f"no article text on the page: {exc}", page.url
        except BrokenExecutor:
            # A worker died (out of memory, a crash in a C library): start a fresh pool for the pages to come.
            log.error("extraction worker died on %s; restarting the pool", page.url)
            if self.executor is pool:  # the first of the pages it took down restarts it
                pool.shutdown(wait=False, cancel_futures=True)
                self.executor = extraction_pool(self.c.settings.workers, self.c.start_method)
            return None, "the extraction worker crashed on this page", page.url
        except Exception as exc:  # an extractor bug on one page must not lose the entry
            log.exception("extraction failed on %s", page.url)
            return None, f"extraction failed ({type(exc).__name__}: {exc})", page.url
        return extracted, "", page.url


async def _either(first: asyncio.Event, second: asyncio.Event, *, timeout: float) -> None:
    """Wait until either event is set, or `timeout` seconds."""
    waits = [asyncio.ensure_future(first.wait()), asyncio.ensure_future(second.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
