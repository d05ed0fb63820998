"""What the job queue holds, read from Procrastinate's tables: counts by queue and state, the jobs that
failed or were retried, the workers alive; waiting for jobs to end (`crawl --once` on PostgreSQL).

Read-only but for `retry_failed`, which hands failed jobs back to the queue through Procrastinate itself.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from procrastinate import App
from sqlalchemy import Engine, text

from broadsheet.config import Settings

__all__ = [
    "FailedJob",
    "QueueStatus",
    "failed_among",
    "live_workers",
    "queue_status",
    "retry_failed",
    "wait_for",
]

FINAL = ("succeeded", "failed", "cancelled", "aborted")


@dataclass(frozen=True, slots=True)
class FailedJob:
    id: int
    task: str
    args: dict[str, object]
    attempts: int
    at: datetime | None


@dataclass(frozen=True, slots=True)
class QueueStatus:
    counts: dict[tuple[str, str], int]  # (queue, status) -> jobs
    retried: int  # jobs, of those listed, run more than once
    failed: list[FailedJob]  # newest first
    workers: int  # alive: a heartbeat within the stalled timeout

    def count(self, status: str, queue: str | None = None) -> int:
        return sum(n for (q, s), n in self.counts.items() if s == status and queue in (None, q))


def live_workers(engine: Engine, stalled_seconds: float) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - "
                     "make_interval(secs => :seconds)"),
                {"seconds": stalled_seconds},
            ).scalar_one()
        )  # fmt: skip


def workers_alive(settings: Settings, engine: Engine) -> bool:
    """Whether any worker on this database has sent a heartbeat within `worker_stalled_seconds`."""
    return live_workers(engine, settings.worker_stalled_seconds) > 0


def queue_status(engine: Engine, stalled_seconds: float, *, failed_limit: int = 20) -> QueueStatus:
    with engine.connect() as conn:
        counts = {
            (row.queue_name, str(row.status)): int(row.n)
            for row in conn.execute(
                text("SELECT queue_name, status, count(*) AS n FROM procrastinate_jobs GROUP BY 1, 2")
            )
        }
        retried = int(
            conn.execute(text("SELECT count(*) FROM procrastinate_jobs WHERE attempts > 1")).scalar_one()
        )
        failed = [
            FailedJob(row.id, row.task_name, dict(row.args or {}), row.attempts, row.at)
            for row in conn.execute(
                text(
                    "SELECT j.id, j.task_name, j.args, j.attempts, max(e.at) AS at FROM procrastinate_jobs j "
                    "LEFT JOIN procrastinate_events e ON e.job_id = j.id WHERE j.status = 'failed' "
                    "GROUP BY j.id ORDER BY at DESC NULLS LAST, j.id DESC LIMIT :limit"
                ),
                {"limit": failed_limit},
            )
        ]
    return QueueStatus(counts, retried, failed, live_workers(engine, stalled_seconds))


async def retry_failed(app: App, engine: Engine) -> int:
    """Hand every failed job back to the queue; how many."""
    with engine.connect() as conn:
        ids = [
            int(i)
            for i in conn.execute(text("SELECT id FROM procrastinate_jobs WHERE status = 'failed'")).scalars()
        ]
    for job_id in ids:
        await app.job_manager.retry_job_by_id_async(job_id, retry_at=datetime.now().astimezone())
    return len(ids)


def _unfinished(engine: Engine, ids: Sequence[int]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(:ids) AND status NOT IN "
                     "('succeeded', 'failed', 'cancelled', 'aborted')"),
                {"ids": list(ids)},
            ).scalar_one()
        )  # fmt: skip


def failed_among(engine: Engine, ids: Sequence[int]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM procrastinate_jobs WHERE id = ANY(:ids) AND status = 'failed'"),
                {"ids": list(ids)},
            ).scalar_one()
        )


async def wait_for(
    engine: Engine,
    ids: Sequence[int],
    *,
    timeout: float,
    every: float = 0.25,
    on_progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Wait until every job of `ids` has ended (succeeded or failed); False when `timeout` seconds passed
    first. `on_progress(done, total)` after each look."""
    deadline = time.monotonic() + timeout
    while True:
        left = await asyncio.to_thread(_unfinished, engine, ids)
        if on_progress is not None:
            on_progress(len(ids) - left, len(ids))
        if left == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every)
