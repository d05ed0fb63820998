"""The near-duplicate index on its own: the band shape it picks for a threshold, and what it finds, misses and
forgets, with signatures of invented texts."""

from __future__ import annotations

import numpy as np
import pytest

from broadsheet.dedupe.fingerprint import NUM_PERM, Signature, minhash
from broadsheet.dedupe.index import NearDuplicateIndex, lsh_bands

BODY = " ".join(
    f"The tide tables for Port Alder were revised on day {i} after the harbour survey found the channel "
    f"shallower near buoy {i % 7}, and pilots were told to wait for the flood before crossing."
    for i in range(12)
)


def _edited(text: str, every: int) -> str:
    """`text` with every `every`-th word replaced: the smaller `every`, the less alike."""
    return " ".join("changed" if i % every == 0 else word for i, word in enumerate(text.split()))


def test_the_band_shape_is_datasketchs_for_the_thresholds_in_use() -> None:
    # The shapes datasketch 2.0's MinHashLSH chose for 128 permutations (its _optimal_param, weights 0.5 / 0.5),
    # which this index replaces: the same rule, so the same candidates as before.
    assert [lsh_bands(t) for t in (0.5, 0.8, 0.9, 1.0)] == [(25, 5), (9, 13), (5, 25), (1, 128)]
    for threshold in (0.3, 0.6, 0.75, 0.95):
        bands, rows = lsh_bands(threshold)
        assert bands * rows <= NUM_PERM
        # near the threshold a pair is caught about half the time: the S-curve's middle is where it was asked
        middle = (1 / bands) ** (1 / rows)
        assert abs(middle - threshold) < 0.1, (threshold, bands, rows)
    with pytest.raises(ValueError, match="above 0 and at most 1"):
        lsh_bands(0.0)


def test_a_light_edit_is_found_a_heavy_one_is_not_and_a_removed_article_is_forgotten() -> None:
    original, light, heavy = minhash(BODY), minhash(_edited(BODY, 200)), minhash(_edited(BODY, 10))
    assert original is not None and light is not None and heavy is not None
    index = NearDuplicateIndex(0.8)
    index.add(7, original)
    assert 7 in index and len(index) == 1
    found = index.nearest(light)
    assert found is not None and found[0] == 7 and found[1] >= 0.8
    assert index.nearest(heavy) is None
    index.remove(7)
    assert 7 not in index and len(index) == 0 and index.nearest(light) is None
    index.remove(7)  # twice is harmless


def test_ties_go_to_the_oldest_and_re_adding_replaces() -> None:
    signature = minhash(BODY)
    assert signature is not None
    index = NearDuplicateIndex(0.8)
    index.add_all([(12, signature), (5, signature), (9, signature)])
    assert index.nearest(signature) == (5, 1.0)
    other = minhash(_edited(BODY, 2))
    assert other is not None
    index.add(5, other)  # article 5 now holds another text
    assert index.nearest(signature) == (9, 1.0) and len(index) == 3


def test_a_signature_of_another_length_is_refused() -> None:
    index = NearDuplicateIndex(0.8)
    with pytest.raises(ValueError, match="64 values"):
        index.add(1, Signature(np.zeros(64, dtype=np.uint64)))
