"""The stories step: embeds stored articles that have no story yet and streams them through the clusterer,
in publish order, storing each batch's decisions atomically.

Runs after each crawl pass, after `broadsheet import`, and for `broadsheet recluster`. The clusterer's open
window lives in memory for as long as this object does; a new process rebuilds it from the stories still open
(their members' stored vectors and text), so a restart changes no decision.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import Connection

from broadsheet.clock import utcnow
from broadsheet.cluster import ClusterConfig, ClusterItem, StoryClusterer, strip_label
from broadsheet.config import Settings
from broadsheet.enrich import (
    E5_KIND,
    Embedder,
    default_threads,
    embedding_text,
    load_embedder,
    reference_mean,
)
from broadsheet.errors import StoriesBusyError
from broadsheet.models import StoryEvent
from broadsheet.pipeline.enrich import configured_embedder
from broadsheet.store import PendingArticle, Store, StoryUpdate

__all__ = ["MULTILINGUAL_TOKENS", "StoryBuilder", "StoryTally", "multilingual_text"]

log = logging.getLogger(__name__)
BATCH = 256  # articles embedded and placed per transaction
RELATED_STORIES = 8  # related stories kept per story
RELATED_MIN_COSINE = 0.3  # centroids less alike than this are not related, however few others there are
LEASE = "stories"  # one process at a time clusters (see store/leases.py)
LEASE_TTL = timedelta(minutes=5)  # renewed every batch; a holder that died frees it after this


# The multilingual encoder reads a headline and the start of its lead (~25 words): it is most of a story's
# embedding cost (which grows with length), headlines are what it decides best, and English full text is judged
# by the English model (cluster/clusterer.py).
MULTILINGUAL_TOKENS = 48


def multilingual_text(title: str, text: str) -> str:
    """What the multilingual encoder reads of an article: title and lead as the main embedder's, without a
    format label before the title ("The Latest: ..."), which a live blog repeats over unrelated updates."""
    return strip_label(embedding_text(title, text))


@dataclass
class StoryTally:
    articles: int = 0
    new_stories: int = 0
    merges: int = 0
    splits: int = 0
    embedded: int = 0
    embed_seconds: float = 0.0
    cluster_seconds: float = 0.0
    load_seconds: float = 0.0  # loading the models (and the multilingual reference mean) this run loaded
    closed: int = 0
    events: list[StoryEvent] = field(default_factory=list)
    busy: str = ""  # when another process held the stories step: who, and until when

    def summary(self) -> str:
        if self.busy:
            return f"left for {self.busy}, which is grouping articles into stories now"
        loaded = f"; models loaded in {self.load_seconds:.1f} s" if self.load_seconds else ""
        return (
            f"{self.articles} articles into stories ({self.new_stories} new stories, {self.merges} merged, "
            f"{self.splits} split), "
            f"{self.embedded} embedded in {self.embed_seconds:.1f} s{loaded}"
        )


class StoryBuilder:
    """The stories step (a pipeline.steps.Step)."""

    name = "stories"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        batch_size: int = BATCH,
        load_embedder: Callable[[], Embedder] | None = None,
        multilingual: Embedder | None = None,
    ) -> None:
        """`load_embedder` shares an embedder loaded elsewhere (enrichment's), on first use; without it, the
        configured one is loaded. With `stories_multilingual` on, every article is also embedded by the
        multilingual encoder (`multilingual`, or multilingual E5 loaded on first use), so that stories join
        across languages."""
        self.batch_size = batch_size
        self.store = store
        self.settings = settings
        self._embedder = embedder
        self._load_embedder = load_embedder or partial(configured_embedder, settings)
        self._multilingual = multilingual
        self.config = ClusterConfig(gap=timedelta(hours=settings.story_gap_hours))
        self._clusterer: StoryClusterer | None = None
        self.holder = f"{socket.gethostname()} pid {os.getpid()} ({secrets.token_hex(3)})"
        self._generation = 0  # of the lease when this builder last held it
        self._load_seconds = 0.0  # spent loading models, all runs together

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            started = time.perf_counter()
            self._embedder = self._load_embedder()
            self._load_seconds += time.perf_counter() - started
        return self._embedder

    @property
    def _models_dir(self) -> Path:
        return self.settings.models_dir or self.settings.home / "models"

    @property
    def multilingual(self) -> Embedder | None:
        """The multilingual embedder, or None when stories are not joined across languages."""
        if not self.settings.stories_multilingual:
            return None
        if self._multilingual is None:
            # All cores unless told otherwise, as the main embedder: this encoder is most of a story's cost.
            threads = self.settings.embedding_threads or default_threads()
            started = time.perf_counter()
            self._multilingual = load_embedder(
                E5_KIND, self._models_dir, threads, max_tokens=MULTILINGUAL_TOKENS
            )
            self._load_seconds += time.perf_counter() - started
        return self._multilingual

    def run(
        self, progress: Callable[[int, int], None] | None = None, max_batches: int | None = None
    ) -> StoryTally:
        """Cluster the articles that have no story yet (at most `max_batches` batches, or all);
        returns what was done. On any error the in-memory window is dropped, so the next run rebuilds it
        from what the database holds, never counting the failed batch twice. While another process holds the
        stories step, nothing is done and the tally says who (`busy`)."""
        busy = self._take_lease()
        if busy:
            return StoryTally(busy=busy)
        try:
            return self._run(progress, max_batches)
        except BaseException:
            self._clusterer = None
            raise
        finally:
            self._release_lease()

    def _hold_lease(self, conn: Connection) -> None:
        """Every write of decisions renews the lease in its own transaction, and is undone unless this
        builder still holds it as it took it: a process too slow to renew (a model switch re-embedding the
        window, a suspended machine) may have lost it to another, whose stories it must not overwrite."""
        if not self.store.leases.hold(conn, LEASE, self.holder, self._generation, LEASE_TTL, utcnow()):
            raise StoriesBusyError(
                f"another process took over grouping stories while this one was too slow to renew its lease "
                f"({LEASE_TTL.seconds // 60} min); nothing of this batch was stored, and the next run goes on"
            )

    def _release_lease(self) -> None:
        try:
            self.store.leases.release(LEASE, self.holder, utcnow())
        except Exception:  # the error that matters (often the same database failure) is already on its way
            log.exception("could not release the stories lease; it lapses in %s", LEASE_TTL)

    def _take_lease(self) -> str:
        """Take or renew the stories lease; '' when held, else who holds it. A window kept in memory is
        dropped when another process has held the lease since: it may have changed the stories."""
        lease = self.store.leases.acquire(LEASE, self.holder, LEASE_TTL, utcnow())
        if not lease.acquired:
            until = f" until {lease.until:%H:%M:%S} UTC" if lease.until else ""
            return f"{lease.holder}{until}"
        if lease.generation != self._generation:
            self._clusterer = None
            self._generation = lease.generation
        return ""

    def _run(self, progress: Callable[[int, int], None] | None, max_batches: int | None) -> StoryTally:
        tally = StoryTally()
        loaded = self._load_seconds
        clusterer = self._open_window(tally)
        batches = 0
        while (max_batches is None or batches < max_batches) and (
            batch := self.store.stories.pending(self.batch_size)
        ):
            batches += 1
            vectors, multi = self._vectors(batch, tally)
            started = time.perf_counter()
            touched: set[int] = set()
            members: list[tuple[int, int]] = []
            late: list[tuple[int, int]] = []
            events: list[StoryEvent] = []
            for article in batch:
                if article.duplicate_of is not None and clusterer.story_of(article.duplicate_of) is None:
                    # A copy of an article whose story has closed joins that story as it is stored.
                    closed = self.store.stories.story_of([article.duplicate_of]).get(article.duplicate_of)
                    if closed is not None:
                        late.append((article.id, closed))
                        continue
                    # No story to join: placed on its own merits.
                    vectors.update(self._embed([article], tally, self.embedder))
                    if self.multilingual is not None:
                        multi.update(self._embed([article], tally, self.multilingual))
                assignment = clusterer.add(_item(article, vectors.get(article.id), multi.get(article.id)))
                members.append((article.id, assignment.story_id))
                touched.add(assignment.story_id)
                tally.new_stories += assignment.new
                for merge in assignment.merges:
                    events.append(
                        StoryEvent(
                            article.sort_time, "merge", merge.merged, merge.into, merge.score, merge.reason
                        )
                    )
                    touched.update((merge.merged, merge.into))
                for split in assignment.splits:
                    members += [(moved, split.new_story) for moved in split.moved]
                    touched.update((split.story, split.new_story))
                    tally.splits += 1
            closed_ids = clusterer.close_quiet()
            touched.update(closed_ids)
            updates = [self._update(clusterer, sid) for sid in sorted(touched)]
            tally.cluster_seconds += time.perf_counter() - started
            self.store.stories.record(updates, members, events, self._hold_lease)
            if late:
                self.store.stories.attach(late, self._hold_lease)
            tally.articles += len(batch)
            tally.merges += len(events)
            tally.closed += len(closed_ids)
            tally.events += events
            if progress is not None:
                progress(tally.articles, 0)
        tally.load_seconds = self._load_seconds - loaded
        return tally

    def recluster(self, since: datetime | None) -> StoryTally:
        """Forget the stories with coverage from `since` on (all when None) and build them again. Raises
        StoriesBusyError while another process is grouping stories."""
        busy = self._take_lease()
        if busy:
            raise StoriesBusyError(
                f"{busy} is grouping articles into stories; stop it (or wait for it to finish) and run "
                "recluster again"
            )
        try:
            self.store.stories.reset(since)
            self._clusterer = None
            return self.run()
        finally:
            self._release_lease()

    # --- parts ------------------------------------------------------------------------------------------------

    def _open_window(self, tally: StoryTally) -> StoryClusterer:
        """The clusterer, with the stories still open restored the first time."""
        if self._clusterer is not None:
            return self._clusterer
        multilingual = self.multilingual
        origin = None
        if multilingual is not None:
            started = time.perf_counter()
            origin = reference_mean(multilingual, self._models_dir)  # made once, then read from its file
            self._load_seconds += time.perf_counter() - started
        clusterer = StoryClusterer(
            self.config, first_id=self.store.stories.max_id() + 1, language_origin=origin
        )
        pending = self.store.stories.pending(1)
        if pending:
            since = pending[0].sort_time - self.config.gap
            members = self.store.stories.open_members(since)
            if members:
                articles = [article for article, _ in members]
                vectors, multi = self._vectors(articles, tally)
                for article, story_id in members:
                    item = _item(article, vectors.get(article.id), multi.get(article.id))
                    clusterer.restore(item, story_id)
        self._clusterer = clusterer
        return clusterer

    def _vectors(
        self, articles: list[PendingArticle], tally: StoryTally
    ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """The stored vectors of the main and the multilingual embedder (none when stories are not joined
        across languages) for the originals among `articles`, the missing ones computed and stored. Copies
        need none: they join their original's story."""
        embedders = [e for e in (self.embedder, self.multilingual) if e is not None]
        originals = [a for a in articles if a.duplicate_of is None]
        found = [self.store.stories.vectors([a.id for a in originals], e.name) for e in embedders]
        missing = [[a for a in originals if a.id not in had] for had in found]
        made = self._embed_each(list(zip(missing, embedders, strict=True)), tally)
        for had, new in zip(found, made, strict=True):
            had.update(new)
        return found[0], found[1] if len(found) > 1 else {}

    def _embed(
        self, articles: list[PendingArticle], tally: StoryTally, embedder: Embedder
    ) -> dict[int, np.ndarray]:
        return self._embed_each([(articles, embedder)], tally)[0]

    def _embed_each(
        self, jobs: list[tuple[list[PendingArticle], Embedder]], tally: StoryTally
    ) -> list[dict[int, np.ndarray]]:
        """Each job's articles embedded by its embedder, and stored. Two jobs with work run side by side (the
        first in a thread): two encoders of short texts at once keep two cores busier than one after the
        other, as neither divides a batch perfectly between its threads (MiniLM and E5 on ECB+ leads:
        5.2 s against 6.3 s)."""

        def compute(articles: list[PendingArticle], embedder: Embedder) -> np.ndarray:
            text = multilingual_text if embedder is self._multilingual else embedding_text
            return embedder.embed([text(a.title, a.text) for a in articles])

        started = time.perf_counter()
        busy = [(articles, embedder) for articles, embedder in jobs if articles]
        if len(busy) > 1:
            with ThreadPoolExecutor(len(busy) - 1, thread_name_prefix="embed") as pool:
                beside = [pool.submit(compute, *job) for job in busy[:-1]]
                last = compute(*busy[-1])
                computed = [call.result() for call in beside] + [last]
        else:
            computed = [compute(*job) for job in busy]
        if busy:
            tally.embed_seconds += time.perf_counter() - started
        made: list[dict[int, np.ndarray]] = []
        rows = iter(computed)
        for articles, embedder in jobs:
            if not articles:
                made.append({})
                continue
            vectors = next(rows)
            if embedder is self.embedder:
                tally.embedded += len(articles)
            pairs = [(a.id, vectors[i]) for i, a in enumerate(articles)]
            self.store.stories.save_vectors(embedder.name, pairs)
            made.append(dict(pairs))
        return made

    def _update(self, clusterer: StoryClusterer, story_id: int) -> StoryUpdate:
        s = clusterer.snapshot(story_id)
        return StoryUpdate(
            id=story_id,
            headline_id=s.headline_id,
            first_seen=s.first_seen,
            last_seen=s.last_seen,
            article_count=s.article_count,
            outlet_count=s.outlet_count,
            status=s.status,
            merged_into=s.merged_into,
            centroid=s.centroid,
            # A closed or merged story keeps the related stories it had when it was last open.
            related=tuple(clusterer.nearest(story_id, RELATED_STORIES, RELATED_MIN_COSINE))
            if s.status == "open"
            else None,
        )


def _item(article: PendingArticle, vector: np.ndarray | None, multi: np.ndarray | None) -> ClusterItem:
    return ClusterItem(
        id=article.id,
        # A publisher's date in the future would close every open story at once: clustering reads it as now.
        published=min(article.sort_time, utcnow()),
        outlet=article.outlet_slug,
        title=article.title,
        text=article.text,
        embedding=vector,
        duplicate_of=article.duplicate_of,
        lang=article.lang,
        multilingual=multi,
    )
