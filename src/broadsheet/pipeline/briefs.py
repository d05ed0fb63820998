"""The briefs step, beside the crawl: builds the brief (enrich.brief) of each story that several outlets cover
and that has grown since its brief was built, newest first, and stores it; and embeds the sentences of those
stories' articles, which "ask about this story" then searches (`StoryQuestions`).

It runs beside the crawl's passes (pipeline/assemble.build_background: the server's scheduler, `broadsheet
crawl`, the workers' background job), not in them: embedding every sentence of a story's coverage is more
work than storing, embedding and grouping its articles, and a new story should not wait for its brief.
`import` and `crawl --once` leave the briefs to it unless asked (`--briefs`).

A brief is a few hundred sentence vectors of work, about a second for ten articles, so it never runs on a
request: the story page shows the stored brief, saying how many articles it was built from. Embedding is
nearly all of that work: each article's sentences are embedded in a call of their own, so that its vectors
are the same whichever story or batch it comes in (a story's articles share one call when the embedder's
vectors never depend on their batch), as many calls side by side as the embedder allows, while the briefs
whose vectors are ready are built.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.enrich import (
    Answer,
    Brief,
    BriefPoint,
    Embedder,
    StorySource,
    answer_question,
    batch_free,
    concurrent_calls,
    embed_sentences,
    split_sentences,
    story_brief,
)
from broadsheet.store import MemberText, Store

__all__ = [
    "BRIEF_VERSION",
    "BriefBuilder",
    "BriefTally",
    "StoryQuestions",
    "brief_json",
    "briefs_waiting",
    "gets_brief",
]

log = logging.getLogger(__name__)
BRIEF_VERSION = "brief/1"  # stored with each brief: change it when the brief is made differently
BATCH = 16  # stories per batch
MAX_MEMBERS = 20  # articles a brief or an answer reads: the earliest and the newest of the story
ASK_MEMBERS = 12  # of a story never briefed, the articles embedded on the spot to answer a question
MIN_OUTLETS = 2  # a story told by fewer outlets has nothing to agree on: no brief


def gets_brief(settings: Settings, outlet_count: int) -> bool:
    """Whether a story told by `outlet_count` outlets is given a brief: briefs on, and outlets to compare. One
    that does and has none yet is waiting for the background to build it (seconds on a running site)."""
    return settings.story_briefs and outlet_count >= MIN_OUTLETS


@dataclass
class BriefTally:
    articles: int = 0  # stories briefed (named for the Step protocol's tally)
    embedded: int = 0  # articles whose sentences were embedded
    seconds: float = 0.0
    busy: str = ""
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        line = f"{self.articles} story briefs built ({self.embedded} articles' sentences embedded) in {self.seconds:.1f} s"
        if self.failed:
            line += f"; {len(self.failed)} failed"
        return line


def _sources(members: Sequence[MemberText]) -> list[StorySource]:
    return [
        StorySource(m.id, m.outlet, m.published, tuple(split_sentences(m.text)), m.title) for m in members
    ]


@dataclass
class _Rows:
    """The sentence vectors of some articles on their way: those found stored, and calls making the others."""

    members: list[MemberText]
    found: dict[int, np.ndarray]
    calls: list[tuple[list[MemberText], Future[list[np.ndarray]]]]  # members, and their vectors being made

    @property
    def made(self) -> list[MemberText]:
        return [member for members, _call in self.calls for member in members]


class _SentenceVectors:
    """Finds the stored sentence vectors of articles and makes the missing ones, as many calls at once as the
    embedder allows (`concurrent_calls`) or `workers` when given: on small batches, two calls side by side
    use two cores better than one call split between them. Each article's sentences are embedded in a call
    of their own, so that its vectors are the same whatever else is waiting; with an embedder whose vectors
    never depend on their batch (`batch_free`), a story's missing articles share one call, which pads less.
    Stores what it made from the calling thread."""

    def __init__(self, store: Store, embedder: Embedder, workers: int | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self._together = batch_free(embedder)
        workers = concurrent_calls(embedder) if workers is None else workers
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="sentences") if workers > 1 else None

    def __enter__(self) -> _SentenceVectors:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def start(self, members: Sequence[MemberText], sources: Sequence[StorySource]) -> _Rows:
        """The stored vectors of `members`, and the missing ones' making started (made here without a pool)."""
        found = self.store.briefs.sentence_vectors(members, self.embedder.name)
        missing = [(m, s) for m, s in zip(members, sources, strict=True) if m.id not in found]
        groups = [missing] if self._together and missing else [[item] for item in missing]
        calls = []
        for group in groups:
            told = [source for _member, source in group]
            if self._pool is not None:
                call = self._pool.submit(self._embed, told)
            else:
                call = Future()
                try:
                    call.set_result(self._embed(told))
                except Exception as exc:
                    call.set_exception(exc)
            calls.append(([member for member, _source in group], call))
        return _Rows(list(members), found, calls)

    def finish(self, started: _Rows) -> list[np.ndarray]:
        """Each member's vectors, once made, the new ones stored; raises what making one of them raised."""
        made = [
            (m, rows)
            for members, call in started.calls
            for m, rows in zip(members, call.result(), strict=True)
        ]
        self.store.briefs.save_sentence_vectors(self.embedder.name, made)
        vectors = {**started.found, **{m.id: rows for m, rows in made}}
        return [vectors[m.id] for m in started.members]

    def _embed(self, sources: Sequence[StorySource]) -> list[np.ndarray]:
        """Each source's sentence vectors (`embed_sentences`, as float32), from one call of the embedder."""
        vectors = embed_sentences([s for source in sources for s in source.sentences], self.embedder.embed)
        each = []
        start = 0
        for source in sources:
            count = len(source.sentences)
            each.append(vectors[start : start + count] if count else np.zeros((0, 0), dtype=np.float16))
            start += count
        return [rows.astype(np.float32) for rows in each]


@dataclass
class _Pending:
    """A story's brief on its way: what it is built from, its sentence vectors being made."""

    story_id: int
    count: int  # the story's article count
    sources: list[StorySource]
    vectors: _Rows


def _point(point: BriefPoint) -> dict[str, Any]:
    return {
        "text": point.text,
        "citations": [
            {"article_id": c.article_id, "outlet": c.outlet, "sentence": c.sentence, "text": c.text}
            for c in point.citations
        ],
    }


def brief_json(brief: Brief) -> dict[str, Any]:
    """The brief as stored and as the API gives it."""
    return {
        "agreed": [_point(p) for p in brief.agreed],
        "only": {outlet: [_point(p) for p in points] for outlet, points in brief.only.items()},
        "article_count": brief.article_count,
        "outlet_count": brief.outlet_count,
    }


class BriefBuilder:
    """The briefs step (a pipeline.steps.Step). Needs no lease: a brief built twice is the same brief."""

    name = "briefs"

    def __init__(
        self,
        store: Store,
        load_embedder: Callable[[], Embedder],
        *,
        batch_size: int = BATCH,
        min_outlets: int = MIN_OUTLETS,
        workers: int | None = None,
    ) -> None:
        """`workers`: how many articles' sentences are embedded at once; by default as many as the embedder
        allows (`concurrent_calls`). Either way each article's vectors are the same."""
        self.store = store
        self._load_embedder = load_embedder
        self.batch_size = batch_size
        self.min_outlets = min_outlets
        self.workers = workers

    def run(
        self, progress: Callable[[int, int], None] | None = None, max_batches: int | None = None
    ) -> BriefTally:
        tally = BriefTally()
        started = time.perf_counter()
        batches = 0
        skipped: set[int] = set()
        while max_batches is None or batches < max_batches:
            stale = [
                s
                for s in self.store.briefs.stale(
                    BRIEF_VERSION, self.batch_size + len(skipped), self.min_outlets
                )
                if s not in skipped
            ]
            if not stale:
                break
            batches += 1
            self._batch(stale[: self.batch_size], tally, skipped)
            if progress is not None:
                progress(tally.articles, 0)
        tally.seconds = time.perf_counter() - started
        return tally

    def build(self, story_id: int) -> int:
        """Build and store the brief of `story_id`; returns how many articles' sentences were embedded."""
        with _SentenceVectors(self.store, self._load_embedder(), self.workers) as making:
            return self._finish(self._start(story_id, making), making)

    def _batch(self, story_ids: list[int], tally: BriefTally, skipped: set[int]) -> None:
        """Build the briefs of `story_ids`: the making of every missing sentence vector started first, then
        each brief built once its vectors are made, while the later ones' are being made. One story's failure
        is reported; the others go on."""

        def failed(story_id: int, exc: Exception) -> None:
            log.error("the brief of story %d failed", story_id, exc_info=exc)
            tally.failed.append(f"story {story_id}: {type(exc).__name__}: {exc}")
            skipped.add(story_id)

        try:
            embedder = self._load_embedder()
        except Exception as exc:  # each story of the batch waits for a run that can load it
            for story_id in story_ids:
                failed(story_id, exc)
            return
        with _SentenceVectors(self.store, embedder, self.workers) as making:
            pending = []
            for story_id in story_ids:
                try:
                    pending.append(self._start(story_id, making))
                except Exception as exc:
                    failed(story_id, exc)
            for story in pending:
                try:
                    tally.embedded += self._finish(story, making)
                    tally.articles += 1
                except Exception as exc:
                    failed(story.story_id, exc)

    def _start(self, story_id: int, making: _SentenceVectors) -> _Pending:
        count, members = self.store.briefs.members(story_id, MAX_MEMBERS)
        sources = _sources(members)
        return _Pending(story_id, count, sources, making.start(members, sources))

    def _finish(self, story: _Pending, making: _SentenceVectors) -> int:
        """Build and store the brief once its vectors are made; returns how many were made."""
        vectors = making.finish(story.vectors)
        brief = story_brief(story.sources, making.embedder.embed, sentence_vectors=vectors)
        data = brief_json(brief)
        data["story_article_count"] = story.count
        self.store.briefs.save(story.story_id, story.count, BRIEF_VERSION, data, utcnow())
        return len(story.vectors.made)


def briefs_waiting(store: Store) -> int:
    """How many stories wait for a brief (none yet, grown since, or built by another version)."""
    return store.briefs.stale_count(BRIEF_VERSION, MIN_OUTLETS)


class StoryQuestions:
    """'Ask about this story': answers from the sentences of the story's articles, on a request. Uses the
    sentence vectors the briefs step stored; a story never briefed has its first articles embedded here
    (and stored), at most ASK_MEMBERS of them."""

    def __init__(self, store: Store, load_embedder: Callable[[], Embedder]) -> None:
        self.store = store
        self._load_embedder = load_embedder

    def ask(self, story_id: int, question: str) -> Answer:
        embedder = self._load_embedder()
        _count, members = self.store.briefs.members(story_id, MAX_MEMBERS)
        stored = self.store.briefs.sentence_vectors(members, embedder.name)
        if len(stored) < len(members):  # never briefed (one outlet), or grown since
            keep = [m for m in members if m.id in stored] or members[:ASK_MEMBERS]
            missing = [m for m in keep if m.id not in stored][:ASK_MEMBERS]
            members = [m for m in members if m.id in stored] + missing
        sources = _sources(members)
        with _SentenceVectors(self.store, embedder) as making:
            vectors = making.finish(making.start(members, sources))
        return answer_question(question, sources, vectors, embedder.embed)
