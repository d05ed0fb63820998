"""How close a clustering is to a gold one: B-cubed and pairwise precision, recall and F1.

Both come from the contingency counts (predicted cluster x gold cluster), never from the pairs themselves,
so scoring 100 000 articles takes a moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

__all__ = ["Score", "b_cubed", "pairwise"]


@dataclass(frozen=True, slots=True)
class Score:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _counts(
    predicted: Sequence[Hashable], gold: Sequence[Hashable]
) -> tuple[Counter[tuple[Hashable, Hashable]], Counter[Hashable], Counter[Hashable]]:
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predicted labels for {len(gold)} gold labels")
    return Counter(zip(predicted, gold, strict=True)), Counter(predicted), Counter(gold)


def b_cubed(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> Score:
    """B-cubed (Bagga & Baldwin 1998): per article, the share of its predicted cluster that shares its gold
    cluster (precision) and the share of its gold cluster found in its predicted cluster (recall), averaged
    over articles. Labels are compared by equality only; `predicted[i]` and `gold[i]` describe article i."""
    both, by_predicted, by_gold = _counts(predicted, gold)
    if not both:
        return Score(1.0, 1.0)
    n = len(predicted)
    precision = sum(c * c / by_predicted[p] for (p, _), c in both.items()) / n
    recall = sum(c * c / by_gold[g] for (_, g), c in both.items()) / n
    return Score(precision, recall)


def pairwise(predicted: Sequence[Hashable], gold: Sequence[Hashable]) -> Score:
    """Over pairs of articles: of the pairs put together, the share that belong together (precision), and of
    the pairs that belong together, the share put together (recall). 1 when there is no pair to judge."""
    both, by_predicted, by_gold = _counts(predicted, gold)

    def pairs(counts: Counter[Hashable] | Counter[tuple[Hashable, Hashable]]) -> int:
        return sum(c * (c - 1) // 2 for c in counts.values())

    together, predicted_pairs, gold_pairs = pairs(both), pairs(by_predicted), pairs(by_gold)
    return Score(
        together / predicted_pairs if predicted_pairs else 1.0,
        together / gold_pairs if gold_pairs else 1.0,
    )
