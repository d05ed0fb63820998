"""The briefs step, after stories: builds the brief (enrich.brief) of each story that several outlets cover and
that has grown since its brief was built, newest first, and stores it; and embeds the sentences of those
stories' articles, which "ask about this story" then searches (`StoryQuestions`).

A brief is a few hundred sentence vectors of work, about a second for ten articles, so it never runs on a
request: the story page shows the stored brief, saying how many articles it was built from.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from broadsheet.clock import utcnow
from broadsheet.enrich import (
    Answer,
    Brief,
    BriefPoint,
    Embedder,
    StorySource,
    answer_question,
    embed_sentences,
    split_sentences,
    story_brief,
)
from broadsheet.store import MemberText, Store

__all__ = ["BRIEF_VERSION", "BriefBuilder", "BriefTally", "StoryQuestions", "brief_json"]

log = logging.getLogger(__name__)
BRIEF_VERSION = "brief/1"  # stored with each brief: change it when the brief is made differently
BATCH = 16  # stories per batch
MAX_MEMBERS = 20  # articles a brief or an answer reads: the earliest and the newest of the story
ASK_MEMBERS = 12  # of a story never briefed, the articles embedded on the spot to answer a question


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


def _vectors(
    store: Store, embedder: Embedder, members: Sequence[MemberText], sources: Sequence[StorySource]
) -> tuple[list[np.ndarray], int]:
    """Each member's sentence vectors, the missing ones made and stored; and how many were made."""
    found = store.briefs.sentence_vectors(members, embedder.name)
    made = []
    for member, source in zip(members, sources, strict=True):
        if member.id not in found:
            vectors = embed_sentences(source.sentences, embedder.embed).astype(np.float32)
            found[member.id] = vectors
            made.append((member, vectors))
    store.briefs.save_sentence_vectors(embedder.name, made)
    return [found[m.id] for m in members], len(made)


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
        min_outlets: int = 2,
    ) -> None:
        self.store = store
        self._load_embedder = load_embedder
        self.batch_size = batch_size
        self.min_outlets = min_outlets

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
            for story_id in stale[: self.batch_size]:
                try:
                    tally.embedded += self.build(story_id)
                    tally.articles += 1
                except Exception as exc:  # one story's failure is reported; the others go on
                    log.exception("the brief of story %d failed", story_id)
                    tally.failed.append(f"story {story_id}: {type(exc).__name__}: {exc}")
                    skipped.add(story_id)
            if progress is not None:
                progress(tally.articles, 0)
        tally.seconds = time.perf_counter() - started
        return tally

    def build(self, story_id: int) -> int:
        """Build and store the brief of `story_id`; returns how many articles' sentences were embedded."""
        embedder = self._load_embedder()
        count, members = self.store.briefs.members(story_id, MAX_MEMBERS)
        sources = _sources(members)
        vectors, made = _vectors(self.store, embedder, members, sources)
        brief = story_brief(sources, embedder.embed, sentence_vectors=vectors)
        data = brief_json(brief)
        data["story_article_count"] = count
        self.store.briefs.save(story_id, count, BRIEF_VERSION, data, utcnow())
        return made


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
        vectors, _made = _vectors(self.store, embedder, members, sources)
        return answer_question(question, sources, vectors, embedder.embed)
