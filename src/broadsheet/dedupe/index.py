"""The near-duplicate index: MinHash LSH over the signatures of recent articles, kept in memory.

Built from stored signatures at start (bounded by the dedupe window), then fed each stored article. The
signature's values are cut into `bands` bands of `rows` values; two signatures equal in any band are
candidates, and each candidate is confirmed with its estimated Jaccard similarity. The band shape is the one
that minimises the expected share of false positives plus false negatives around the threshold (`lsh_bands`,
the rule and the result of datasketch's MinHashLSH, which this replaces).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from broadsheet.dedupe.fingerprint import NUM_PERM, Signature

__all__ = ["NearDuplicateIndex", "lsh_bands"]

# Gauss-Legendre nodes: exact for polynomials of degree up to 191, and the chance that a band shape catches a
# pair, 1 - (1 - s^rows)^bands, is one of degree bands x rows <= num_perm.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(96)


def _integral(
    f: Callable[[NDArray[np.float64]], NDArray[np.float64]], low: float, high: float
) -> NDArray[np.float64]:
    s = (high - low) / 2 * _NODES + (high + low) / 2
    result: NDArray[np.float64] = (high - low) / 2 * (f(s) * _WEIGHTS).sum(axis=-1)
    return result


@lru_cache(maxsize=16)
def lsh_bands(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows) with bands x rows <= num_perm that minimise the mean of the false-positive probability
    integrated over similarities below `threshold` and the false-negative one above it."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be above 0 and at most 1, not {threshold}")
    shapes = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([b for b, _ in shapes], dtype=np.float64)[:, None]
    rows = np.array([r for _, r in shapes], dtype=np.float64)[:, None]

    def caught(s: NDArray[np.float64]) -> NDArray[np.float64]:
        result: NDArray[np.float64] = 1.0 - (1.0 - s[None, :] ** rows) ** bands
        return result

    false_positive = _integral(caught, 0.0, threshold)
    false_negative = _integral(lambda s: 1.0 - caught(s), threshold, 1.0)
    return shapes[int(np.argmin(0.5 * false_positive + 0.5 * false_negative))]


class NearDuplicateIndex:
    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        # LSH finds candidates at roughly the threshold; each is confirmed with the estimated Jaccard below.
        bands, rows = lsh_bands(threshold)
        self._bands = [(i * rows, (i + 1) * rows) for i in range(bands)]
        self._buckets: list[dict[bytes, set[int]]] = [{} for _ in range(bands)]
        self._signatures: dict[int, Signature] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def _keys(self, signature: Signature) -> list[bytes]:
        values = signature.hashvalues
        if len(values) != NUM_PERM:
            raise ValueError(f"a signature of {len(values)} values; the index holds {NUM_PERM}")
        return [values[start:end].tobytes() for start, end in self._bands]

    def add(self, article_id: int, signature: Signature) -> None:
        if article_id in self._signatures:
            self.remove(article_id)
        for buckets, key in zip(self._buckets, self._keys(signature), strict=True):
            buckets.setdefault(key, set()).add(article_id)
        self._signatures[article_id] = signature

    def add_all(self, items: Iterable[tuple[int, Signature]]) -> None:
        for article_id, signature in items:
            self.add(article_id, signature)

    def remove(self, article_id: int) -> None:
        signature = self._signatures.pop(article_id, None)
        if signature is None:
            return
        for buckets, key in zip(self._buckets, self._keys(signature), strict=True):
            bucket = buckets[key]
            bucket.discard(article_id)
            if not bucket:
                del buckets[key]

    def nearest(self, signature: Signature) -> tuple[int, float] | None:
        """The most similar indexed article at or above the threshold, ties to the oldest (smallest id)."""
        candidates: set[int] = set()
        for buckets, key in zip(self._buckets, self._keys(signature), strict=True):
            candidates.update(buckets.get(key, ()))
        best: tuple[int, float] | None = None
        for candidate in sorted(candidates):
            similarity = signature.jaccard(self._signatures[candidate])
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (candidate, similarity)
        return best
