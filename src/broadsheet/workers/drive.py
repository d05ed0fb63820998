"""Driving the workers from a command (`broadsheet crawl --once` on PostgreSQL): queue the due polls, wait for
the workers to do them, then queue the steps over what they stored and wait again; report from what the store
and the queue say."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError, NotFoundError
from broadsheet.models import Source
from broadsheet.store import Store
from broadsheet.workers.status import failed_among, wait_for, workers_alive
from broadsheet.workers.tasks import defer_polls, defer_steps, open_jobs

__all__ = ["QueuedCrawl", "crawl_through_queue", "steps_through_queue"]


@dataclass
class QueuedCrawl:
    """What a crawl through the workers did: the sources polled, as their health now says."""

    sources: list[Source] = field(default_factory=list)
    new_articles: int = 0  # articles stored meanwhile (by these polls, or anything else writing)
    failed_jobs: int = 0  # jobs that ended failed: the queue (`broadsheet queue`) says which

    @property
    def failed(self) -> list[Source]:
        return [s for s in self.sources if s.last_status == "error"]

    def summary_lines(self) -> list[str]:
        failed = self.failed
        unchanged = sum(1 for s in self.sources if s.last_status == "not_modified")
        lines = [
            f"crawled {len(self.sources)} sources through the workers: {len(self.sources) - len(failed)} ok "
            f"({unchanged} unchanged), {len(failed)} failed; {self.new_articles} "
            f"article{'' if self.new_articles == 1 else 's'} stored (copies included)"
        ]
        lines += [f"  failed: source {s.id} {s.title or s.url}: {s.last_error}" for s in failed]
        if self.failed_jobs:
            lines.append(
                f"{self.failed_jobs} jobs failed: see `broadsheet queue`, retry with `broadsheet queue --retry`"
            )
        return lines


async def crawl_through_queue(
    settings: Settings,
    store: Store,
    *,
    all_sources: bool,
    timeout: float,
    on_progress: Callable[[int, int], None] | None = None,
) -> QueuedCrawl:
    """Queue a poll of every due source (all with `all_sources`), wait until workers did them and the steps
    after them. Raises BroadsheetError when no worker is alive to do it, or when `timeout` passes first (the
    jobs stay queued and run when a worker comes)."""
    if not workers_alive(settings, store.engine):
        raise BroadsheetError(
            "no worker is running on this database: start one with `broadsheet worker` (on any machine that "
            "reaches it), then run this again"
        )
    due = store.sources.due(utcnow(), all_sources=all_sources)
    result = QueuedCrawl()
    if not due:
        return result
    before = store.articles.count()
    async with open_jobs(settings, pool_size=2) as jobs:
        polls = await defer_polls(jobs, [s.id for s in due], force=all_sources)
        if not await wait_for(store.engine, polls, timeout=timeout, on_progress=on_progress):
            raise BroadsheetError(_late(len(polls), timeout))
        steps = await defer_steps(jobs)
        if not await wait_for(store.engine, steps, timeout=timeout):
            raise BroadsheetError(_late(len(steps), timeout))
    result.failed_jobs = failed_among(store.engine, [*polls, *steps])
    for source in due:
        with contextlib.suppress(NotFoundError):  # removed meanwhile
            result.sources.append(store.sources.get(source.id))
    result.new_articles = store.articles.count() - before
    return result


async def steps_through_queue(settings: Settings, store: Store, *, timeout: float) -> int:
    """Queue a run of the steps over stored articles (after an import) and wait until a worker has done it;
    how many of its jobs failed. Raises BroadsheetError when `timeout` passes first."""
    async with open_jobs(settings, pool_size=2) as jobs:
        steps = await defer_steps(jobs)
        if not await wait_for(store.engine, steps, timeout=timeout):
            raise BroadsheetError(_late(len(steps), timeout))
    return failed_among(store.engine, steps)


def _late(jobs: int, timeout: float) -> str:
    return (
        f"the workers did not finish the {jobs} jobs within {timeout:g} s; they stay queued and run as workers "
        "get to them (`broadsheet queue` shows them). Start more workers, or wait longer with --timeout"
    )
