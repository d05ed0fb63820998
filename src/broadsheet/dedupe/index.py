"""The near-duplicate index: MinHash LSH over the signatures of recent articles, kept in memory.

Built from stored signatures at start (bounded by the dedupe window), then fed each stored article.
"""

from __future__ import annotations

from collections.abc import Iterable

from datasketch import MinHash, MinHashLSH

from broadsheet.dedupe.fingerprint import NUM_PERM

__all__ = ["NearDuplicateIndex"]


class NearDuplicateIndex:
    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        # LSH finds candidates at roughly the threshold; each is confirmed with the estimated Jaccard below.
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._signatures: dict[int, MinHash] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._signatures

    def add(self, article_id: int, signature: MinHash) -> None:
        if article_id in self._signatures:
            self.remove(article_id)
        self._lsh.insert(article_id, signature)
        self._signatures[article_id] = signature

    def add_all(self, items: Iterable[tuple[int, MinHash]]) -> None:
        for article_id, signature in items:
            self.add(article_id, signature)

    def remove(self, article_id: int) -> None:
        if self._signatures.pop(article_id, None) is not None:
            self._lsh.remove(article_id)

    def nearest(self, signature: MinHash) -> tuple[int, float] | None:
        """The most similar indexed article at or above the threshold, ties to the oldest (smallest id)."""
        best: tuple[int, float] | None = None
        for candidate in sorted(self._lsh.query(signature)):
            similarity = float(signature.jaccard(self._signatures[candidate]))
            if similarity >= self.threshold and (best is None or similarity > best[1]):
                best = (candidate, similarity)
        return best
