"""Per-language means of the open window's multilingual embeddings, and vectors centred on them.

A multilingual encoder places every text of one language near a common point: two headlines in Portuguese
about different events are closer than one story told in Portuguese and in English. Taking away each
language's mean leaves what the texts say. Means are of the open window only (articles counted in when they
join, out when their story closes), so a restart that re-adds the window's articles has the same means.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from numpy.typing import NDArray

__all__ = ["LanguageMeans"]

# The window's mean is taken as if it also held this many articles at the encoder's reference mean (`origin`):
# the mean of a handful of articles (a new installation, a quiet night) is mostly those articles, and taking
# it away would turn two reports of one event into opposites.
ORIGIN_WEIGHT = 100

Vector = NDArray[np.float32]


class LanguageMeans:
    """Running sums of unit multilingual vectors per language. A language seen only a few times has a mean
    drawn towards the mean of all languages, as if `prior` articles of the whole window were its own; that
    mean is drawn towards `origin` (the encoder's mean over a reference set of texts; zeros when unknown) as if
    the window held ORIGIN_WEIGHT more articles there."""

    def __init__(self, dim: int, prior: float, origin: NDArray[np.float32] | None = None) -> None:
        if origin is not None and origin.shape != (dim,):
            raise ValueError(f"the origin has shape {origin.shape}, the vectors {dim} dimensions")
        self.dim = dim
        self.prior = prior
        self.origin = np.zeros(dim) if origin is None else origin.astype(np.float64)
        self._sums: dict[str, NDArray[np.float64]] = {}
        self.counts: Counter[str] = Counter()
        self._total = np.zeros(dim, dtype=np.float64)
        self._n = 0

    def count_in(self, lang: str, vector: Vector) -> None:
        if lang not in self._sums:
            self._sums[lang] = np.zeros(self.dim, dtype=np.float64)
        self._sums[lang] += vector
        self.counts[lang] += 1
        self._total += vector
        self._n += 1

    def count_out(self, lang: str, vector: Vector) -> None:
        self._sums[lang] -= vector
        self.counts[lang] -= 1
        self._total -= vector
        self._n -= 1
        if not self.counts[lang]:
            del self._sums[lang], self.counts[lang]
        if not self._n:  # start clean: no rounding residue left in an empty window
            self._total[:] = 0.0
            self._sums.clear()

    def mean(self, lang: str) -> NDArray[np.float64]:
        overall = (self._total + ORIGIN_WEIGHT * self.origin) / (self._n + ORIGIN_WEIGHT)
        own = self._sums.get(lang)
        if own is None:
            return overall
        return (own + self.prior * overall) / (self.counts[lang] + self.prior)

    def centre(self, lang: str, vector: Vector) -> Vector:
        """The vector less its language's mean, as a unit vector (the vector itself when nothing is left)."""
        rest = vector.astype(np.float64) - self.mean(lang)
        norm = float(np.linalg.norm(rest))
        return (rest / norm).astype(np.float32) if norm > 1e-6 else vector

    def centre_sum(self, total: NDArray[np.float64], langs: Counter[str]) -> Vector:
        """A story's centroid from its summed vectors and how many of them each language gave, each member
        centred on its language's mean as it stands now; a unit vector (zeros for an empty sum)."""
        rest = total.astype(np.float64).copy()
        for lang, n in langs.items():
            if n:
                rest -= n * self.mean(lang)
        norm = float(np.linalg.norm(rest))
        return (rest / norm).astype(np.float32) if norm > 1e-6 else np.zeros(self.dim, dtype=np.float32)
