"""SQL for jobs: long work started from the admin page (an OPML import), its progress and how it ended.

Owns the `jobs` table; not the work itself (`pipeline/opml_import.py`) nor where it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from broadsheet.errors import NotFoundError
from broadsheet.store.schema import jobs

__all__ = ["STALLED_AFTER", "Job", "JobStore"]

# A job moves its `updated_at` at every step (a batch takes well under a second); one that has not moved for
# this long belongs to a process that is gone.
STALLED_AFTER = timedelta(minutes=5)
STALLED = (
    "stopped without finishing: the server process running it ended (a restart?). Import the file again; the "
    "feeds already subscribed are skipped"
)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: str
    label: str
    status: str  # queued | running | done | failed
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    total: int
    processed: int
    added: int
    skipped: int
    left_out: int
    note: str
    error: str | None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


def _job(row: Any, now: datetime) -> Job:
    status, error = row.status, row.error
    if status in ("queued", "running") and now - row.updated_at > STALLED_AFTER:
        status, error = "failed", STALLED
    return Job(
        id=row.id, kind=row.kind, label=row.label, status=status, created_at=row.created_at,
        updated_at=row.updated_at, finished_at=row.finished_at, total=row.total, processed=row.processed,
        added=row.added, skipped=row.skipped, left_out=row.left_out, note=row.note, error=error,
    )  # fmt: skip


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, kind: str, label: str, now: datetime) -> Job:
        """A new job, queued."""
        values = {"kind": kind, "label": label, "status": "queued", "created_at": now, "updated_at": now}
        with self.engine.begin() as conn:
            job_id = conn.execute(insert(jobs).values(**values)).inserted_primary_key[0]  # type: ignore[index]
        return self.get(int(job_id), now)

    def get(self, job_id: int, now: datetime) -> Job:
        with self.engine.connect() as conn:
            row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"no job with id {job_id}")
        return _job(row, now)

    def recent(self, now: datetime, *, limit: int = 5, since: timedelta = timedelta(days=1)) -> list[Job]:
        """The newest jobs of the last `since`, newest first."""
        query = select(jobs).where(jobs.c.created_at >= now - since).order_by(jobs.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_job(row, now) for row in conn.execute(query)]

    def start(self, job_id: int, now: datetime, *, total: int, left_out: int = 0, note: str = "") -> None:
        """The work is known (`total` items, `left_out` more not attempted, `note` saying why) and begins."""
        self._set(job_id, status="running", updated_at=now, total=total, left_out=left_out, note=note)

    def advance(
        self, conn: Connection, job_id: int, now: datetime, *, processed: int, added: int, skipped: int
    ) -> None:
        """Inside the transaction of `conn`, the one that did the work: count it. Progress and work are
        committed together, so what the page shows was done."""
        conn.execute(
            update(jobs)
            .where(jobs.c.id == job_id)
            .values(
                updated_at=now,
                processed=jobs.c.processed + processed,
                added=jobs.c.added + added,
                skipped=jobs.c.skipped + skipped,
            )
        )

    def finish(self, job_id: int, now: datetime) -> None:
        self._set(job_id, status="done", updated_at=now, finished_at=now)

    def fail(self, job_id: int, error: str, now: datetime) -> None:
        self._set(job_id, status="failed", updated_at=now, finished_at=now, error=error)

    def _set(self, job_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))
