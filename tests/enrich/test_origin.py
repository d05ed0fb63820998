"""The encoder's reference mean (enrich/origin.py): the mean vector of our own seed headlines, worked out once
per model and kept beside the models, remade when the kept file is damaged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from broadsheet.enrich.embed import Embedder
from broadsheet.enrich.origin import REFERENCE_TEXTS, reference_mean, reference_texts
from broadsheet.enrich.topic import SEED_PATH


def test_reference_texts_are_seed_headlines_from_every_topic() -> None:
    texts = reference_texts()
    assert len(texts) == REFERENCE_TEXTS
    assert len(set(texts)) == len(texts)
    rows = [json.loads(line) for line in SEED_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    topic_of = {row["title"]: row["topic"] for row in rows}
    assert set(texts) <= set(topic_of)
    # Taken across the file (which is grouped by topic), not from its start.
    assert {topic_of[text] for text in texts} == {row["topic"] for row in rows}


def test_the_mean_is_the_embedders_mean_of_those_texts_and_is_kept(int8: Embedder, tmp_path: Path) -> None:
    mean = reference_mean(int8, tmp_path)
    expected = int8.embed(reference_texts()).mean(axis=0)
    np.testing.assert_allclose(mean, expected, atol=1e-5)
    [kept] = (tmp_path / "origins").iterdir()
    assert kept.name.startswith(int8.name.replace("/", "_"))
    modified = kept.stat().st_mtime_ns
    np.testing.assert_array_equal(reference_mean(int8, tmp_path), mean)
    assert kept.stat().st_mtime_ns == modified  # read back, not worked out again


def test_a_damaged_kept_file_is_worked_out_again(int8: Embedder, tmp_path: Path) -> None:
    mean = reference_mean(int8, tmp_path)
    [kept] = (tmp_path / "origins").iterdir()
    kept.write_bytes(b"not a numpy file")
    np.testing.assert_allclose(reference_mean(int8, tmp_path), mean, atol=1e-6)
    np.save(kept, np.zeros(7, dtype=np.float32))  # the wrong size for this model
    np.testing.assert_allclose(reference_mean(int8, tmp_path), mean, atol=1e-6)
    assert sorted(os.listdir(tmp_path / "origins")) == [kept.name]  # no temporary files left behind
