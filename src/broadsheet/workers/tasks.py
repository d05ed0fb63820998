"""The pipeline's work as Procrastinate jobs on PostgreSQL: what each job does, and the worker that runs them.

The jobs call the very steps the one-process crawl runs (pipeline/): only the driver differs. Each is safe to
run twice (a second poll of a source that is no longer due does nothing; an article stored once is judged
"same" the next time; the steps work off what is waiting), so a job retried after its worker died stores
nothing twice.

Queues, and what is in them:
- "sources": `poll_source`, one job per source, at most one waiting and one running per source (its queueing
  lock and lock), and any number of sources at once across workers;
- "steps": `run_steps`, the steps over stored articles (enrichment, stories), one at a time across every
  machine (lock "steps"; the stories lease guards them besides);
- "upkeep": the periodic jobs: `defer_due_polls` (every POLL_TICK_SECONDS), `retry_stalled` (the jobs of
  workers that stopped sending heartbeats, run again), `tidy_search_index`, `remove_old_jobs`, and
  `run_background` (the story briefs, and the optional LLM's rewrites when `llm_url` is set), each minute and
  as soon as `run_steps` did work, one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg_pool
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate.exceptions import AlreadyEnqueued, ConnectorException, UniqueViolation
from procrastinate.jobs import Status
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.errors import ConfigError, NotFoundError
from broadsheet.pipeline.steps import BACKGROUND_BATCHES, run_step
from broadsheet.pipeline.websub import announce
from broadsheet.store import Store

if TYPE_CHECKING:
    from broadsheet.pipeline.crawl import Crawler, Poller

__all__ = [
    "QUEUES",
    "WorkerState",
    "defer_polls",
    "defer_steps",
    "job_conninfo",
    "open_jobs",
    "run_worker",
]

log = logging.getLogger(__name__)

QUEUES = ("sources", "steps", "upkeep")
POLL_TICK_SECONDS = 15
STORE_THREADS = 2
STEPS_LOCK = "steps"
BACKGROUND_LOCK = "background"
BACKGROUND_JOB_SECONDS = 50.0  # a background job's rounds stop after this; the job is queued each minute
KEEP_FINISHED_HOURS = 24  # finished jobs stay listed by `broadsheet queue` this long
KEEP_FAILED_HOURS = 7 * 24  # and failed ones this long, to be looked into and retried
# A job that failed on the database (the server restarting, a connection dropped) is run again: each job is
# idempotent, so running it whole again is the retry of every transaction it made.
ON_DATABASE_ERROR = RetryStrategy(
    max_attempts=5, exponential_wait=2, retry_exceptions={OperationalError, InterfaceError}
)

# What losing the database raises, here and in Procrastinate, and the pauses (first, most) before trying again.
DATABASE_ERRORS = (ConnectorException, psycopg.OperationalError, psycopg_pool.PoolTimeout, OSError)
RECONNECT_PAUSE = (1.0, 30.0)

# The one app of this process, its jobs registered on it below; `open_jobs` lends it the connector of the
# database in force (Procrastinate binds each task to one app: a second app would rename them).
app = App(connector=PsycopgConnector())


def job_conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL; ConfigError for any other database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            "workers and the job queue need PostgreSQL (set database_url, env BROADSHEET_DATABASE_URL, to "
            "postgresql+psycopg://USER:PASSWORD@HOST/DATABASE); on SQLite `broadsheet serve` or `broadsheet "
            "crawl` does all the work in one process"
        )
    query = dict(url.query)
    query.setdefault("connect_timeout", "10")
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


@asynccontextmanager
async def open_jobs(settings: Settings, *, pool_size: int = 4) -> AsyncIterator[App]:
    """The job queue of this database, open: Procrastinate's app with broadsheet's jobs, connected with a
    pool of at most `pool_size` connections. Raises ConfigError on SQLite."""
    connector = PsycopgConnector(
        conninfo=job_conninfo(settings.database), min_size=1, max_size=max(2, pool_size)
    )
    with app.replace_connector(connector):
        async with app.open_async():
            yield app


# --- deferring ----------------------------------------------------------------------------------------------


async def defer_polls(jobs: App, source_ids: list[int], *, force: bool = False) -> list[int]:
    """Queue a poll of each source; the ids of the jobs that will do it (one already waiting for a source is
    its job)."""
    ids = []
    for source_id in source_ids:
        ids += await _defer_once(
            jobs, "broadsheet:poll_source", f"source:{source_id}", source_id=source_id, force=force
        )
    return ids


async def defer_steps(jobs: App) -> list[int]:
    """Queue a run of the steps over stored articles (or find the one already waiting)."""
    return await _defer_once(jobs, "broadsheet:run_steps", STEPS_LOCK)


async def defer_background(jobs: App) -> list[int]:
    """Queue a round of the background steps (or find the one already waiting)."""
    return await _defer_once(jobs, "broadsheet:run_background", BACKGROUND_LOCK, timestamp=int(time.time()))


async def _defer_once(jobs: App, task: str, lock: str, **arguments: Any) -> list[int]:
    """Queue `task` under `lock` (one waiting and one running at a time): the new job's id, or the waiting
    one's when there is one already."""
    deferrer = jobs.configure_task(task, allow_unknown=False, lock=lock, queueing_lock=lock)
    try:
        return [await deferrer.defer_async(**arguments)]
    except AlreadyEnqueued:
        return await _waiting(jobs, lock)


async def _waiting(jobs: App, queueing_lock: str) -> list[int]:
    waiting = await jobs.job_manager.list_jobs_async(queueing_lock=queueing_lock, status="todo")
    return [job.id for job in waiting if job.id is not None]


# --- the worker ---------------------------------------------------------------------------------------------


@dataclass
class WorkerState:
    """What a worker's jobs share for its whole life: settings, store, the crawler and its poller (one
    fetcher, one extraction pool)."""

    settings: Settings
    store: Store
    crawler: Crawler
    poller: Poller


@asynccontextmanager
async def worker_state(settings: Settings) -> AsyncIterator[WorkerState]:
    from broadsheet.pipeline.assemble import build_crawler

    # The store is used by the event loop (one call at a time, whatever the concurrency), the steps' thread and
    # short calls handed to threads: a pool of STORE_THREADS + db.OTHER_THREADS, and a few more for a burst.
    store = Store.open(settings.database, threads=STORE_THREADS)
    async with AsyncExitStack() as stack:
        stack.callback(store.close)
        # forkserver: this process has threads (the database pools', asyncio's), which a fork would copy
        crawler = build_crawler(settings, store, start_method="forkserver")
        poller = await stack.enter_async_context(crawler.poller())
        # Start the extraction processes now: started by a first job, they would hold up the event loop, and
        # with it the heartbeats that tell other workers this one is alive.
        await asyncio.get_running_loop().run_in_executor(poller.executor, abs, 0)
        yield WorkerState(settings, store, crawler, poller)


async def run_worker(settings: Settings, *, queues: list[str] | None, concurrency: int) -> None:
    """Run jobs from `queues` (all when None) until SIGINT or SIGTERM, `concurrency` at once; periodic jobs
    are deferred by whichever worker's turn it is. Raises ConfigError on SQLite.

    Losing the database (a restart, a network cut) does not end the worker: Procrastinate's worker stops when
    its connection to listen on drops, and is started again here, after a pause that grows from 1 to 30 s
    while the database stays away. The job that was running is retried by Procrastinate (ON_DATABASE_ERROR)
    or, when even that could not be written, by `retry_stalled` once its worker's heartbeat is old."""
    unknown = sorted(set(queues or ()) - set(QUEUES))
    if unknown:
        raise ConfigError(f"no queue named {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pause = RECONNECT_PAUSE[0]
    async with worker_state(settings) as state:
        while not stop.is_set():
            started = time.monotonic()
            try:
                if await _work_until(stop, settings, state, queues=queues, concurrency=concurrency):
                    return
                log.warning("the worker stopped when its database connection dropped; starting it again")
            except DATABASE_ERRORS as exc:
                log.warning("cannot reach the database (%s); trying again in %.0f s", _one_line(exc), pause)
            if time.monotonic() - started > 60:  # it ran a good while: this is a new outage
                pause = RECONNECT_PAUSE[0]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            pause = min(pause * 2, RECONNECT_PAUSE[1])


async def _work_until(
    stop: asyncio.Event, settings: Settings, state: WorkerState, *, queues: list[str] | None, concurrency: int
) -> bool:
    """Run Procrastinate's worker until `stop` (True: stopped as asked, its jobs finished or handed back) or
    until it stops by itself (False)."""
    stalled = settings.worker_stalled_seconds
    async with open_jobs(settings, pool_size=queue_connections(concurrency)) as jobs:
        work = asyncio.create_task(
            jobs.run_worker_async(
                queues=list(queues or QUEUES),
                concurrency=concurrency,
                name=f"{socket.gethostname()}:{os.getpid()}",
                additional_context={"broadsheet": state},
                update_heartbeat_interval=max(0.5, stalled / 3),
                stalled_worker_timeout=stalled,
                fetch_job_polling_interval=5.0,
                shutdown_graceful_timeout=settings.worker_shutdown_seconds,
                install_signal_handlers=False,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if work.done():
            work.result()  # raises what stopped it, if anything did
            return stop.is_set()
        work.cancel()  # Procrastinate's graceful stop: running jobs get worker_shutdown_seconds to finish
        with contextlib.suppress(asyncio.CancelledError):
            await work
        return True


def queue_connections(concurrency: int) -> int:
    """Procrastinate's pool for a worker running `concurrency` jobs: one held to listen, one for heartbeats
    and fetching, and one for every two jobs finishing at once (each holds one for a moment)."""
    return 2 + max(2, (concurrency + 1) // 2)


def _one_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    return " ".join(str(cause).split()) or type(cause).__name__


def _state(context: JobContext) -> WorkerState:
    state: WorkerState = context.additional_context["broadsheet"]
    return state


# --- the jobs -----------------------------------------------------------------------------------------------


@app.task(name="broadsheet:poll_source", queue="sources", pass_context=True, retry=ON_DATABASE_ERROR)
async def poll_source(context: JobContext, source_id: int, force: bool = False) -> None:
    """Poll one source: fetch, extract and store what is new, record its health; then queue the steps when
    anything was stored. Does nothing for a source removed meanwhile, or one no longer due (another job
    polled it first) unless `force`."""
    state = _state(context)
    store = state.store
    try:
        source = store.sources.get(source_id)
    except NotFoundError:  # unsubscribed since the job was queued
        log.info("source %s is gone; nothing to poll", source_id)
        return
    if not force and source.next_fetch_at > utcnow():
        log.info("source %s was polled meanwhile; next due %s", source_id, source.next_fetch_at)
        return
    report = await state.poller.source(source)
    log.info(
        "source %s %s: %s, %d new, %d duplicates, %d updated%s",
        source.id, source.url, report.status, report.new, report.duplicates, report.updated,
        f" ({report.error})" if report.error else "",
    )  # fmt: skip
    if report.new or report.updated or report.duplicates:
        await defer_steps(context.app)


@app.task(name="broadsheet:run_steps", queue="steps", pass_context=True, retry=ON_DATABASE_ERROR)
async def run_steps(context: JobContext) -> None:
    """The steps over stored articles, in a thread (the worker's event loop keeps sending heartbeats), all of
    what is waiting. A step that fails is logged and its articles wait for the next run."""
    state = _state(context)
    if state.settings.websub_hub and state.settings.base_url:  # new articles: tell the site's hub first
        await announce(state.settings, state.poller.fetcher, state.crawler.announced_feeds())
    worked = False
    for step in state.crawler.steps:
        tally, error = await asyncio.to_thread(run_step, step, None)
        if tally is not None and (tally.articles or tally.busy):
            log.info("%s: %s", step.name, tally.summary())
            worked = worked or bool(tally.articles)
        if error:
            log.warning("%s: not updated this time (%s)", step.name, error)
    if (
        worked and state.crawler.background
    ):  # the briefs of the stories that grew, now rather than next minute
        await defer_background(context.app)


@app.periodic(cron=f"* * * * * */{POLL_TICK_SECONDS}", periodic_id="due")
@app.task(
    name="broadsheet:defer_due_polls", queue="upkeep", pass_context=True, queueing_lock="defer_due_polls"
)
async def defer_due_polls(context: JobContext, timestamp: int) -> None:
    """Queue a poll of every due source, but those being polled (a worker that died polling one leaves it
    to `retry_stalled`) and those already queued (their queueing lock)."""
    state = _state(context)
    due = await asyncio.to_thread(state.store.sources.due, utcnow())
    if not due:
        return
    running = await context.app.job_manager.list_jobs_async(task="broadsheet:poll_source", status="doing")
    busy = {job.task_kwargs.get("source_id") for job in running}
    await defer_polls(context.app, [source.id for source in due if source.id not in busy])


@app.periodic(cron="* * * * * */10", periodic_id="stalled")
@app.task(name="broadsheet:retry_stalled", queue="upkeep", pass_context=True, queueing_lock="retry_stalled")
async def retry_stalled(context: JobContext, timestamp: int) -> None:
    """Run again the jobs of workers that stopped sending heartbeats (killed, their machine gone)."""
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=_state(context).settings.worker_stalled_seconds
    )
    for job in stalled:
        log.warning("job %s (%s %s) was left by a worker that stopped; running it again", job.id,
                    job.task_name, job.task_kwargs)  # fmt: skip
        try:
            await manager.retry_job(job)
        except UniqueViolation:
            # A job for the same thing is already waiting (its queueing lock): that one does the work, and
            # this one ends as aborted, or neither would ever run (the waiting one needs this one's lock).
            log.warning("job %s: another job waits to do the same; this one is aborted", job.id)
            await manager.finish_job(job, Status.ABORTED, delete_job=False)


@app.periodic(cron="*/10 * * * *", periodic_id="tidy")
@app.task(
    name="broadsheet:tidy_search_index",
    queue="upkeep",
    pass_context=True,
    lock="tidy_search_index",
    queueing_lock="tidy_search_index",
)
async def tidy_search_index(context: JobContext, timestamp: int) -> None:
    """The crawler's own upkeep of the search index (`Crawler.tidy_search_index`: a look, a merge in slices
    when split; nothing to do on PostgreSQL's GIN index, which PostgreSQL keeps itself)."""
    await _state(context).crawler.tidy_search_index()


@app.periodic(cron="17 * * * *", periodic_id="old_jobs")
@app.task(name="broadsheet:remove_old_jobs", queue="upkeep", pass_context=True)
async def remove_old_jobs(context: JobContext, timestamp: int) -> None:
    """Forget jobs that finished more than a day ago (failed ones: a week)."""
    manager = context.app.job_manager
    await manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_cancelled=True, include_aborted=True)
    await manager.delete_old_jobs(nb_hours=KEEP_FAILED_HOURS, include_failed=True)


@app.periodic(cron="* * * * *", periodic_id="background")
@app.task(
    name="broadsheet:run_background",
    queue="upkeep",
    pass_context=True,
    lock=BACKGROUND_LOCK,
    queueing_lock=BACKGROUND_LOCK,
)
async def run_background(context: JobContext, timestamp: int) -> None:
    """Rounds of each slow step (story briefs, the optional LLM's rewrites), short ones (BACKGROUND_BATCHES)
    while they find work, for at most BACKGROUND_JOB_SECONDS: the next minute's job goes on from there."""
    started = time.monotonic()
    for step in _state(context).crawler.background:
        while True:
            tally, _error = await asyncio.to_thread(run_step, step, BACKGROUND_BATCHES)
            if tally is None or not tally.articles:
                break
            log.info("%s: %s", step.name, tally.summary())
            if time.monotonic() - started > BACKGROUND_JOB_SECONDS:
                return
