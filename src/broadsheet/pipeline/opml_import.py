"""OPML imports (`source import`, the admin page's upload): subscribe to a list's feeds as a job, in batches
of one transaction each, with the job's progress and outcome kept in the database.

Owns the order of the work (read, cap, subscribe batch by batch, record); not the SQL (`store/`) nor where the
job runs (a thread beside the web server, or the CLI's own process). Feeds are not fetched here: each is checked
on its first crawl.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError
from broadsheet.models import Outline
from broadsheet.sources import parse_opml
from broadsheet.store import Job, Store

__all__ = ["BATCH", "KIND", "import_opml", "run_import", "start_import", "summary"]

log = logging.getLogger(__name__)

KIND = "opml_import"
# Outlines per transaction: few commits for a big list, each short enough not to hold up other writers.
BATCH = 500
MAX_LABEL = 200


def start_import(store: Store, label: str, now: datetime) -> Job:
    """Record a queued import of the file called `label`; `run_import` does the work."""
    return store.jobs.create(KIND, label.strip()[:MAX_LABEL] or "an OPML file", now)


def run_import(
    store: Store, job_id: int, data: bytes, settings: Settings, clock: Callable[[], datetime] = utcnow
) -> Job:
    """Subscribe to the feeds of the OPML document `data` for job `job_id`; returns the job as it ended.

    A file that cannot be read fails the job with the reason. At most `settings.max_opml_outlines` feeds are
    taken, in the file's order; the job counts the others and says why they were left out. Any other error
    fails the job with its message, then propagates."""
    try:
        outlines = parse_opml(data)
    except BroadsheetError as exc:
        store.jobs.fail(job_id, f"could not read that OPML file: {exc}", clock())
        return store.jobs.get(job_id, clock())
    # A feed listed twice (in two folders, say) is one feed: the first listing counts, before the cap.
    first: dict[str, Outline] = {}
    for outline in outlines:
        first.setdefault(outline.url, outline)
    outlines = list(first.values())
    cap = settings.max_opml_outlines
    taken, left_out = outlines[:cap], max(0, len(outlines) - cap)
    note = (
        f"the file lists {len(outlines):,} feeds and one import takes at most {cap:,} (max_opml_outlines); "
        f"import the last {left_out:,} from a second file, or raise max_opml_outlines"
        if left_out
        else ""
    )
    store.jobs.start(job_id, clock(), total=len(taken), left_out=left_out, note=note)
    try:
        for start in range(0, len(taken), BATCH):
            _subscribe(store, job_id, taken[start : start + BATCH], settings, clock())
    except Exception as exc:
        done = store.jobs.get(job_id, clock()).processed
        store.jobs.fail(job_id, f"stopped after {done:,} feeds: {exc}. Import the file again; the feeds "
                                "already subscribed are skipped", clock())  # fmt: skip
        raise
    store.jobs.finish(job_id, clock())
    return store.jobs.get(job_id, clock())


def _subscribe(store: Store, job_id: int, batch: list[Outline], settings: Settings, now: datetime) -> None:
    store.sources.add_many(
        batch,
        now=now,
        interval_seconds=settings.default_poll_interval,
        then=lambda conn, added, skipped: store.jobs.advance(
            conn, job_id, now, processed=len(batch), added=added, skipped=skipped
        ),
    )


def import_opml(
    store: Store, label: str, data: bytes, settings: Settings, clock: Callable[[], datetime] = utcnow
) -> Job:
    """Start and run an import in this thread (the CLI)."""
    job = start_import(store, label, clock())
    return run_import(store, job.id, data, settings, clock)


def summary(job: Job) -> str:
    """The job in a sentence, as the admin page and the CLI show it."""
    if job.status == "failed":
        return f"Import of {job.label} failed: {job.error}."
    if job.status == "queued":
        return f"Import of {job.label} is about to start."
    counts = f"{job.added:,} added, {job.skipped:,} already here"
    if job.status == "running":
        return f"Importing {job.label}: {job.processed:,} of {job.total:,} feeds ({counts})."
    left = f" {job.left_out:,} feeds were left out: {job.note}." if job.left_out else ""
    return (
        f"Imported {job.added:,} feeds from {job.label} ({job.skipped:,} were already here); each is checked "
        f"on its first crawl.{left}"
    )
