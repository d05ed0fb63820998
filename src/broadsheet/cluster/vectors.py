"""Sparse term vectors for the story clusterer: document frequencies over the open window, and TF-IDF
cosines between an article and a story, or between two stories.

Vectors are hashed keys with weights (sorted numpy arrays); IDF is applied when two vectors meet, so a story's
stored weights never go stale as the window's vocabulary changes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster.features import HASH_BITS

__all__ = ["Keys", "SparseVector", "TermStats", "accumulate", "cosine", "dot", "unit_tf", "weighted"]

Keys = NDArray[np.int64]
Weights = NDArray[np.float64]


class SparseVector:
    """Hashed keys (sorted, unique) with their weights."""

    __slots__ = ("keys", "weights")

    def __init__(self, keys: Keys, weights: Weights) -> None:
        self.keys = keys
        self.weights = weights

    @classmethod
    def empty(cls) -> SparseVector:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))

    @classmethod
    def from_mapping(cls, weights: Mapping[int, float]) -> SparseVector:
        keys = np.fromiter(weights.keys(), dtype=np.int64, count=len(weights))
        values = np.fromiter(weights.values(), dtype=np.float64, count=len(weights))
        order = np.argsort(keys)
        return cls(keys[order], values[order])

    def __len__(self) -> int:
        return len(self.keys)


class TermStats:
    """How many articles of the open window contain each hashed key. Articles are counted in when they
    join and out when their story closes, so IDF reflects the news of the moment and a restart that
    re-adds the open window's articles gets the very same figures."""

    def __init__(self, bits: int = HASH_BITS) -> None:
        self.df = np.zeros(1 << bits, dtype=np.int32)
        self.docs = 0

    def add(self, keys: Keys) -> None:
        self.df[keys] += 1
        self.docs += 1

    def remove(self, keys: Keys) -> None:
        self.df[keys] -= 1
        self.docs -= 1

    def idf(self, keys: Keys) -> Weights:
        """Smoothed IDF: 1 for a key every article has, growing as the key gets rarer."""
        counts = self.df[keys].astype(np.float64)
        return np.log((self.docs + 1.0) / (counts + 1.0)) + 1.0


def unit_tf(counts: Mapping[int, int]) -> SparseVector:
    """Sublinear term frequencies (1 + log n) scaled to unit length: one article's vote, however long."""
    if not counts:
        return SparseVector.empty()
    vector = SparseVector.from_mapping({k: 1.0 + math.log(n) for k, n in counts.items()})
    vector.weights /= float(np.linalg.norm(vector.weights))
    return vector


def accumulate(total: dict[int, float], vector: SparseVector, sign: float = 1.0) -> None:
    """Adds (or with sign -1 takes away) an article's unit vector to a story's running sum."""
    for key, weight in zip(vector.keys.tolist(), vector.weights.tolist(), strict=True):
        value = total.get(key, 0.0) + sign * weight
        if value > 1e-9:
            total[key] = value
        else:
            total.pop(key, None)


def weighted(vector: SparseVector, stats: TermStats) -> SparseVector:
    """The vector with each weight multiplied by its key's IDF, scaled to unit length (empty stays empty)."""
    if not len(vector):
        return vector
    weights = vector.weights * stats.idf(vector.keys)
    norm = float(np.linalg.norm(weights))
    return SparseVector(vector.keys, weights / norm if norm else weights)


def dot(a: SparseVector, b: SparseVector) -> float:
    """Dot product of two sparse vectors (keys sorted and unique in each)."""
    if not len(a) or not len(b):
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    pos = np.minimum(np.searchsorted(b.keys, a.keys), len(b) - 1)
    hit = b.keys[pos] == a.keys
    return float(a.weights[hit] @ b.weights[pos[hit]])


def cosine(a: SparseVector, b: SparseVector, stats: TermStats) -> float:
    """Cosine of the two vectors once each weight is multiplied by its key's IDF; 0 when either is empty."""
    return dot(weighted(a, stats), weighted(b, stats))
