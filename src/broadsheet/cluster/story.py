"""One story's state inside the clusterer: its members and the running sums it is compared by, plus the
plain snapshot handed out to the store.

Owns no decisions: which article joins which story, and when stories merge or split, is `clusterer.py`'s.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster.centring import LanguageMeans
from broadsheet.cluster.vectors import SparseVector, accumulate

__all__ = ["Member", "Story", "StorySnapshot"]

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Member:
    """An article as its story keeps it. A copy (`duplicate_of` set) has no embedding and no terms: it
    follows its original and adds nothing to the sums, so a wire story carried by ten outlets does not
    weigh ten times."""

    id: int
    published: float  # POSIX seconds
    outlet: str
    embedding: Vector | None
    terms: SparseVector  # unit sublinear tf
    names: SparseVector  # unit sublinear tf of the hashed named things
    name_strings: tuple[str, ...]
    full_text: bool  # has a body beyond its headline
    duplicate_of: int | None = None
    lang: str = "en"  # primary language code; an article of unknown language is read as English
    multilingual: Vector | None = None  # unit vector in the multilingual space, when the caller gave one


@dataclass(frozen=True, slots=True)
class StorySnapshot:
    """A story as the store keeps it. `headline_id` is the most central article (closest to the centroid),
    `centroid` the unit mean of its members' embeddings; `status` is "open", "closed" or "merged" (then
    `merged_into` names the story that absorbed it)."""

    id: int
    headline_id: int
    first_seen: datetime
    last_seen: datetime
    article_count: int
    outlet_count: int
    status: str
    merged_into: int | None
    centroid: Vector
    member_ids: tuple[int, ...]
    names: tuple[tuple[str, int], ...]  # the commonest named things, most frequent first


class Story:
    """Members plus the running sums the clusterer compares against: embedding sum (and multilingual
    embedding sum), summed unit term and name vectors (capped to the heaviest `max_terms` keys), named-thing
    counts, the languages of its originals, first and last time."""

    def __init__(self, story_id: int, dim: int, max_terms: int, multi_dim: int = 0) -> None:
        self.id = story_id
        self.members: list[Member] = []
        self.embedding_sum = np.zeros(dim, dtype=np.float64)
        self.multi_sum = np.zeros(multi_dim, dtype=np.float64)
        self.vectors = 0  # members with an embedding (originals)
        self._full_texts = 0  # originals with a body beyond their headline
        self.multi_vectors = 0  # originals with a multilingual embedding
        self.langs: Counter[str] = Counter()  # originals per language
        self.multi_langs: Counter[str] = Counter()  # originals with a multilingual embedding, per language
        self.first = float("inf")
        self.last = float("-inf")
        # The latest original: what a newcomer's similarity fades from. A copy (wire copy carried later, a
        # second site's identical headline) is coverage, so it moves `last`, but it says nothing new.
        self.last_original = float("-inf")
        self._max_terms = max_terms
        self._terms: dict[int, float] = {}
        self._names: dict[int, float] = {}
        self._name_counts: Counter[str] = Counter()
        self._term_vector: SparseVector | None = None
        self._name_vector: SparseVector | None = None

    def add(self, member: Member) -> None:
        self.members.append(member)
        self.first = min(self.first, member.published)
        self.last = max(self.last, member.published)
        if member.embedding is None:
            return
        self.last_original = max(self.last_original, member.published)
        self.embedding_sum += member.embedding
        self.vectors += 1
        self._full_texts += member.full_text
        self.langs[member.lang] += 1
        if member.multilingual is not None:
            self.multi_sum += member.multilingual
            self.multi_vectors += 1
            self.multi_langs[member.lang] += 1
        accumulate(self._terms, member.terms)
        accumulate(self._names, member.names)
        self._name_counts.update(member.name_strings)
        self._term_vector = self._name_vector = None
        if len(self._terms) > 2 * self._max_terms:
            self._terms = _heaviest(self._terms, self._max_terms)
        if len(self._names) > 2 * self._max_terms:
            self._names = _heaviest(self._names, self._max_terms)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def full_text(self) -> bool:
        """Most of its articles have a body: only then can it be told apart from a sibling event."""
        return self._full_texts * 2 > self.vectors

    def centroid(self) -> Vector:
        return _unit(self.embedding_sum)

    def multi_centroid(self, means: LanguageMeans | None = None) -> Vector:
        """The unit mean of the multilingual embeddings, each centred on its language's mean in `means`."""
        return _unit(self.multi_sum) if means is None else means.centre_sum(self.multi_sum, self.multi_langs)

    def term_vector(self) -> SparseVector:
        if self._term_vector is None:
            self._term_vector = SparseVector.from_mapping(self._terms)
        return self._term_vector

    def name_vector(self) -> SparseVector:
        if self._name_vector is None:
            self._name_vector = SparseVector.from_mapping(self._names)
        return self._name_vector

    def headline_id(self) -> int:
        """The member closest to the centroid (the earliest among equals); the first one when none has an
        embedding."""
        originals = [m for m in self.members if m.embedding is not None]
        if not originals:
            return self.members[0].id
        matrix = np.stack([m.embedding for m in originals if m.embedding is not None])
        return originals[int(np.argmax(matrix @ self.centroid()))].id

    def snapshot(self, status: str = "open", merged_into: int | None = None) -> StorySnapshot:
        return StorySnapshot(
            id=self.id,
            headline_id=self.headline_id(),
            first_seen=datetime.fromtimestamp(self.first, UTC),
            last_seen=datetime.fromtimestamp(self.last, UTC),
            article_count=self.size,
            outlet_count=len({m.outlet for m in self.members if m.outlet}),
            status=status,
            merged_into=merged_into,
            centroid=self.centroid(),
            member_ids=tuple(m.id for m in self.members),
            names=tuple(self._name_counts.most_common(10)),
        )


def _unit(total: NDArray[np.float64]) -> Vector:
    norm = float(np.linalg.norm(total))
    return (total / norm if norm else total).astype(np.float32)


def _heaviest(weights: dict[int, float], keep: int) -> dict[int, float]:
    """The `keep` heaviest keys (ties broken by key, so the result does not depend on insertion order)."""
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:keep]
    return dict(ranked)
