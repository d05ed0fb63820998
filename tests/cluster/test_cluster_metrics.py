"""B-cubed and pairwise scores against values worked out by hand."""

from __future__ import annotations

import time

import pytest

from broadsheet.cluster import Score, b_cubed, pairwise


def test_perfect_clustering_scores_one() -> None:
    labels = [1, 1, 2, 3, 3, 3]
    gold = ["a", "a", "b", "c", "c", "c"]
    assert b_cubed(labels, gold) == Score(1.0, 1.0)
    assert pairwise(labels, gold) == Score(1.0, 1.0)


def test_b_cubed_matches_hand_computation() -> None:
    # predicted {0,1,2} {3,4}; gold {0,1} {2,3,4}
    # precision: (2*2/3 + 1*1/3 + 2*2/2) / 5 = 11/15; recall: (2*2/2 + 1*1/3 + 2*2/3) / 5 = 11/15
    score = b_cubed([1, 1, 1, 2, 2], ["a", "a", "b", "b", "b"])
    assert score.precision == pytest.approx(11 / 15)
    assert score.recall == pytest.approx(11 / 15)
    assert score.f1 == pytest.approx(11 / 15)


def test_pairwise_matches_hand_computation() -> None:
    # pairs together in both: (0,1) and (3,4); predicted pairs 3 + 1; gold pairs 1 + 3
    score = pairwise([1, 1, 1, 2, 2], ["a", "a", "b", "b", "b"])
    assert score == Score(0.5, 0.5)


def test_everything_in_one_cluster_has_full_recall_and_low_precision() -> None:
    labels = [7, 7, 7, 7]
    gold = ["a", "a", "b", "c"]
    assert b_cubed(labels, gold).precision == pytest.approx((4 / 4 + 1 / 4 + 1 / 4) / 4)
    assert b_cubed(labels, gold).recall == 1.0
    assert pairwise(labels, gold) == Score(1 / 6, 1.0)


def test_singletons_have_full_precision_and_no_pairs() -> None:
    labels = [1, 2, 3]
    gold = ["a", "a", "b"]
    assert b_cubed(labels, gold) == Score(1.0, pytest.approx((1 / 2 + 1 / 2 + 1) / 3))
    assert pairwise(labels, gold) == Score(1.0, 0.0)
    assert pairwise(labels, gold).f1 == 0.0


def test_labels_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="3 predicted labels for 2 gold labels"):
        b_cubed([1, 2, 3], ["a", "b"])


def test_scores_come_from_counts_not_pairs() -> None:
    labels = [i % 1000 for i in range(200_000)]
    gold = [i % 500 for i in range(200_000)]
    started = time.perf_counter()
    assert pairwise(labels, gold).recall == pytest.approx(199 / 399)
    assert b_cubed(labels, gold).precision == 1.0
    # Counting 4e10 pairs one by one would take hours: a bound this loose still tells the two apart.
    assert time.perf_counter() - started < 60
