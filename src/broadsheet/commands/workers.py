"""`broadsheet worker` and `broadsheet queue`: the pipeline's jobs on PostgreSQL (workers/)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from broadsheet.commands.common import ago, app, opened, out, settings

if TYPE_CHECKING:
    from broadsheet.config import Settings
    from broadsheet.store import Store

__all__ = ["queue", "worker"]


@app.command()
def worker(
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queue", "-q", help="Only jobs of this queue (repeat for more): sources, steps, upkeep."
        ),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(min=1, max=256, help="Jobs run at once (setting worker_concurrency).")
    ] = None,
) -> None:
    """Run the pipeline's jobs from the queue on PostgreSQL until stopped: polls of due sources, fetching and
    extracting their articles, the steps over stored articles and upkeep. Start any number, on any number of
    machines; a worker killed mid-job leaves its jobs to the others."""
    from broadsheet.workers import job_conninfo, run_worker

    current = settings()
    job_conninfo(current.database)  # the clear error on SQLite, before anything is opened
    with opened() as (current, _store):  # migrates the database, job queue included
        pass
    count = concurrency or current.worker_concurrency
    out.print(
        f"worker: {count} jobs at once from {', '.join(queues) if queues else 'every queue'}; Ctrl-C to stop"
    )
    asyncio.run(run_worker(current, queues=queues or None, concurrency=count))
    out.print("worker stopped")


@app.command()
def queue(
    retry: Annotated[bool, typer.Option("--retry", help="Hand every failed job back to the queue.")] = False,
) -> None:
    """What the job queue holds on PostgreSQL: jobs waiting, running, failed and retried by queue, the
    workers alive, and the last jobs that failed."""
    from broadsheet.workers import QUEUES, job_conninfo, queue_status

    job_conninfo(settings().database)
    with opened() as (current, store):
        if retry:
            retried = asyncio.run(_retry(current, store))
            out.print(f"{retried} failed jobs handed back to the queue")
        status = queue_status(store.engine, current.worker_stalled_seconds)
    table = Table("queue", "waiting", "running", "done", "failed", box=None)
    names = sorted({q for q, _ in status.counts} | set(QUEUES))
    for name in names:
        table.add_row(name, *(str(status.count(s, name)) for s in ("todo", "doing", "succeeded", "failed")))
    out.print(table)
    out.print(f"workers alive: {status.workers}; jobs retried (run more than once): {status.retried}")
    for job in status.failed:
        args = ", ".join(f"{k}={v}" for k, v in job.args.items())
        out.print(f"  failed: job {job.id} {job.task}({args}), {job.attempts} tries, {ago(job.at)}")
    if status.failed:
        out.print("retry them with: broadsheet queue --retry")


async def _retry(settings: Settings, store: Store) -> int:
    from broadsheet.workers import open_jobs, retry_failed

    async with open_jobs(settings, pool_size=2) as jobs:
        return await retry_failed(jobs, store.engine)
