"""The pipeline spread over worker processes on PostgreSQL: Procrastinate jobs that run the same steps the
one-process crawl runs (tasks.py), and what the queue holds (status.py). SQLite needs none of it."""

from broadsheet.workers.status import (
    FailedJob,
    QueueStatus,
    failed_among,
    live_workers,
    queue_status,
    retry_failed,
    wait_for,
    workers_alive,
)
from broadsheet.workers.tasks import QUEUES, defer_polls, defer_steps, job_conninfo, open_jobs, run_worker

__all__ = [
    "QUEUES",
    "FailedJob",
    "QueueStatus",
    "defer_polls",
    "defer_steps",
    "failed_among",
    "job_conninfo",
    "live_workers",
    "open_jobs",
    "queue_status",
    "retry_failed",
    "run_worker",
    "wait_for",
    "workers_alive",
]
