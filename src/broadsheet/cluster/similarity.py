"""The combined similarity the clusterer decides by: article to story, story to story, and the two-way split
of a story into its most distinct halves.

Pure functions of stories, members and the window's term statistics.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster.centring import LanguageMeans
from broadsheet.cluster.config import ClusterConfig
from broadsheet.cluster.story import Member, Story
from broadsheet.cluster.vectors import SparseVector, TermStats, dot, weighted

__all__ = ["WindowStats", "article_score", "decay", "split_in_two", "story_score"]

_KMEANS_ROUNDS = 10


class WindowStats:
    """Document frequencies of the open window: one table for words, one for named things."""

    def __init__(self) -> None:
        self.terms = TermStats()
        self.names = TermStats()

    def count_in(self, member: Member) -> None:
        self.terms.add(member.terms.keys)
        self.names.add(member.names.keys)

    def count_out(self, member: Member) -> None:
        self.terms.remove(member.terms.keys)
        self.names.remove(member.names.keys)


def decay(config: ClusterConfig, quiet_seconds: float, headline_only: bool = False) -> float:
    """How much of its pull a story keeps after being quiet this long (1 when it has just grown), for an
    article with a body or (`headline_only`) without one."""
    half_life = (headline_only and config.headline_half_life) or config.half_life or config.gap
    return float(0.5 ** (max(quiet_seconds, 0.0) / half_life.total_seconds()))


def article_score(
    config: ClusterConfig,
    embedding_cosine: float,
    terms: SparseVector,
    names: SparseVector,
    story: Story,
    stats: WindowStats,
) -> float:
    """Combined similarity of an article (its `terms` and `names` already IDF-weighted) with a story."""
    score = config.embedding_weight * embedding_cosine
    if config.terms_weight and len(terms):
        score += config.terms_weight * dot(terms, weighted(story.term_vector(), stats.terms))
    if config.names_weight and len(names):
        score += config.names_weight * dot(names, weighted(story.name_vector(), stats.names))
    return score


def story_score(
    config: ClusterConfig,
    a: Story,
    b: Story,
    stats: WindowStats,
    *,
    multilingual: bool = False,
    means: LanguageMeans | None = None,
) -> float:
    """Combined similarity of two stories, on the same scale as `article_score`; by their multilingual
    centroids (centred on `means`) with `multilingual`."""
    if multilingual:
        cosine = float(a.multi_centroid(means) @ b.multi_centroid(means))
    else:
        cosine = float(a.centroid() @ b.centroid())
    score = config.embedding_weight * cosine
    if config.terms_weight:
        ta, tb = weighted(a.term_vector(), stats.terms), weighted(b.term_vector(), stats.terms)
        score += config.terms_weight * dot(ta, tb)
    if config.names_weight:
        na, nb = weighted(a.name_vector(), stats.names), weighted(b.name_vector(), stats.names)
        score += config.names_weight * dot(na, nb)
    return score


def split_in_two(
    config: ClusterConfig,
    members: list[Member],
    stats: WindowStats,
    *,
    multilingual: bool = False,
    means: LanguageMeans | None = None,
) -> tuple[list[Member], list[Member]] | None:
    """The story's members in two groups, as distinct as two-means on the combined representation makes
    them (seeded by the most peripheral member and the one least like it, so the result is deterministic).
    The group holding the first member comes first; copies go with their originals. None when a group would
    be smaller than `split_min_part`. With `multilingual`, members are compared by their multilingual
    embeddings, centred on `means` (a story told in several languages would otherwise split by language)."""
    originals = [m for m in members if m.embedding is not None]
    rows = _combined(config, originals, stats, multilingual, means)
    similarity = rows @ rows.T
    a = int(np.argmin(similarity.sum(axis=1)))
    b = int(np.argmin(similarity[a]))
    group = similarity[:, a] >= similarity[:, b]
    for _ in range(_KMEANS_ROUNDS):
        if group.all() or not group.any():
            return None
        ca, cb = rows[group].mean(axis=0), rows[~group].mean(axis=0)
        regrouped = rows @ ca / np.linalg.norm(ca) >= rows @ cb / np.linalg.norm(cb)
        if (regrouped == group).all():
            break
        group = regrouped
    if min(int(group.sum()), int((~group).sum())) < config.split_min_part:
        return None
    side = {m.id: bool(g) for m, g in zip(originals, group, strict=True)}
    first = side[originals[0].id]

    def with_first(member: Member) -> bool:
        original = member.id if member.duplicate_of is None else member.duplicate_of
        return side.get(original, first) == first

    return [m for m in members if with_first(m)], [m for m in members if not with_first(m)]


def _combined(
    config: ClusterConfig,
    members: list[Member],
    stats: WindowStats,
    multilingual: bool,
    means: LanguageMeans | None,
) -> NDArray[np.float64]:
    """Each member as one row whose dot products are the article-to-article combined similarity."""
    vectors = [_multilingual(m, means) if multilingual else m.embedding for m in members]
    embeddings = np.stack([v for v in vectors if v is not None]).astype(np.float64)
    terms = _dense([weighted(m.terms, stats.terms) for m in members])
    names = _dense([weighted(m.names, stats.names) for m in members])
    return np.hstack(
        [
            math.sqrt(config.embedding_weight) * embeddings,
            math.sqrt(config.terms_weight) * terms,
            math.sqrt(config.names_weight) * names,
        ]
    )


def _multilingual(member: Member, means: LanguageMeans | None) -> NDArray[np.float32] | None:
    vector = member.multilingual
    return vector if vector is None or means is None else means.centre(member.lang, vector)


def _dense(vectors: list[SparseVector]) -> NDArray[np.float64]:
    keys = np.unique(np.concatenate([v.keys for v in vectors])) if vectors else np.zeros(0, np.int64)
    out = np.zeros((len(vectors), max(len(keys), 1)), dtype=np.float64)
    for row, vector in enumerate(vectors):
        out[row, np.searchsorted(keys, vector.keys)] = vector.weights
    return out
