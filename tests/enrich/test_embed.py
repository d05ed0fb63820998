"""Embeddings from the real local model: fidelity of the ONNX exports, order, edge cases, the export cache.

Every sentence here is invented for these tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from broadsheet.enrich.embed import (
    KINDS,
    MAX_TOKENS,
    Embedder,
    OnnxEmbedder,
    batch_free,
    concurrent_calls,
    embedding_text,
    load_embedder,
)
from broadsheet.enrich.model_cache import ACTIVATIONS
from broadsheet.enrich.onnx_export import ensure_onnx_model, model_path
from broadsheet.errors import BroadsheetError, ConfigError

SENTENCES = [
    "The harbour commission of Port Alder voted to close the old ferry terminal for six weeks of repairs.",
    "Larkspur Bay will turn its disused tram depot into a covered market with forty stalls.",
    "Storm warning",
    "A late frost has damaged half of the apricot blossom in the Vellan valley, growers said on Monday, and "
    "the cooperative expects the smallest harvest in a decade unless the second flowering survives the week.",
    "Quarterfinal: Gull Point Rovers beat Eastmere 3-1 after extra time.",
    "The town library in Orrin Falls extends its opening hours on weekdays.",
]
PARAPHRASE = (
    "The ferry terminal at Port Alder shuts for repairs, the harbour commission decided.",
    "Port Alder's harbour board votes to close the old ferry terminal while it is repaired.",
)
UNRELATED = "Eastmere's choir wins the regional singing contest with a programme of sea shanties."


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_onnx_fp32_reproduces_sentence_transformers(fp32: Embedder, reference: Embedder) -> None:
    # The guard against an export that runs but computes something else (NOTES.md: dynamo=False did that).
    ours, theirs = fp32.embed(SENTENCES), reference.embed(SENTENCES)
    assert cosines(ours, theirs).min() >= 0.9999
    assert np.abs(ours - theirs).max() < 1e-4


def test_int8_stays_close_to_fp32(int8: Embedder, fp32: Embedder) -> None:
    similarity = cosines(int8.embed(SENTENCES), fp32.embed(SENTENCES))
    assert similarity.mean() >= 0.98
    assert similarity.min() >= 0.95


@pytest.mark.parametrize("kind", ["int8", "fp32", "reference"])
def test_paraphrase_is_closer_than_unrelated_sentence(kind: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(kind)
    first, paraphrase, unrelated = embedder.embed([*PARAPHRASE, UNRELATED])
    assert first @ paraphrase > first @ unrelated + 0.3


def test_rows_are_unit_float32_vectors_of_the_model_dimension(int8: Embedder) -> None:
    vectors = int8.embed(SENTENCES)
    assert vectors.shape == (len(SENTENCES), 384) == (len(SENTENCES), int8.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("variant", ["int8", "fp32"])
def test_rows_come_back_in_input_order_across_length_sorted_batches(variant: str, model_cache: Path) -> None:
    source = KINDS["minilm-int8"].source()
    small_batches = OnnxEmbedder(
        model_path(model_cache / "all-MiniLM-L6-v2", "fp32" if variant == "fp32" else "int8"),
        source / "tokenizer.json",
        name="test",
        batch_size=2,
    )
    together = small_batches.embed(SENTENCES)
    alone = np.vstack([small_batches.embed([sentence]) for sentence in SENTENCES])
    # Each row is most like the same sentence embedded on its own (int8 quantises activations per batch,
    # so rows are close rather than equal).
    assert list((together @ alone.T).argmax(axis=1)) == list(range(len(SENTENCES)))
    assert cosines(together, alone).min() >= (0.9999 if variant == "fp32" else 0.98)


def test_an_onnx_embedder_takes_a_call_per_thread_at_once_each_giving_the_vectors_it_gives_alone(
    model_cache: Path, reference: Embedder
) -> None:
    two = load_embedder("minilm-int8", model_cache, threads=2)
    assert concurrent_calls(two) == 2
    assert concurrent_calls(reference) == 1  # sentence-transformers' tokenizer must not be shared
    groups = [SENTENCES[i:] for i in range(len(SENTENCES))]  # each its own batches
    with ThreadPoolExecutor(2) as pool:
        side_by_side = list(pool.map(two.embed, groups * 3))
    for group, rows in zip(groups * 3, side_by_side, strict=True):
        assert np.array_equal(rows, two.embed(group))


def test_only_an_int8_graph_quantising_row_by_row_says_its_vectors_never_depend_on_their_batch(
    int8: Embedder, fp32: Embedder, reference: Embedder
) -> None:
    assert batch_free(int8) == (ACTIVATIONS == "per-row")
    assert not batch_free(fp32) and not batch_free(reference)
    if batch_free(int8):  # what the flag promises: each text's vector is the one it gets alone
        together = int8.embed(SENTENCES)
        for sentence, row in zip(SENTENCES, together, strict=True):
            assert np.array_equal(int8.embed([sentence])[0], row)


@pytest.mark.parametrize("kind", ["int8", "fp32", "reference"])
def test_empty_list_gives_no_rows(kind: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(kind)
    vectors = embedder.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


@pytest.mark.parametrize("kind", ["int8", "fp32", "reference"])
def test_empty_and_blank_texts_get_unit_vectors(kind: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(kind)
    vectors = embedder.embed(["", "   \n\t", SENTENCES[0]])
    assert vectors.shape == (3, 384)
    assert np.isfinite(vectors).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_text_past_the_token_limit_is_cut(int8: Embedder) -> None:
    words = " ".join(SENTENCES[3].split() * 12)  # ~400 words, well past 128 tokens
    longer = words + " " + " ".join(SENTENCES[1].split() * 20)
    first, second = int8.embed([words, longer])
    assert MAX_TOKENS == 128
    assert first @ second > 0.9999


def test_embedding_text_is_title_then_lead() -> None:
    lead = "Forty stalls will open   under the restored\n iron roof next spring."
    assert embedding_text("Covered market for Larkspur Bay", lead) == (
        "Covered market for Larkspur Bay\nForty stalls will open under the restored iron roof next spring."
    )


def test_embedding_text_does_not_repeat_a_headline_the_body_opens_with() -> None:
    title = "Ferry terminal closes for repairs"
    body = "Ferry terminal closes for repairs\nThe harbour commission voted on Tuesday."
    assert embedding_text(title, body) == f"{title}\nThe harbour commission voted on Tuesday."
    assert embedding_text(title, title) == title
    assert embedding_text("Storm", "Storms close the harbour.") == "Storm\nStorms close the harbour."


def test_embedding_text_keeps_the_first_words_of_a_long_body() -> None:
    body = " ".join(f"word{i}" for i in range(500))
    text = embedding_text("Headline", body, lead_words=30)
    assert text == "Headline\n" + " ".join(f"word{i}" for i in range(30))
    assert embedding_text("", "  ") == ""
    assert embedding_text("", "Only a body.") == "Only a body."


def test_vectors_carry_the_model_and_runtime_in_their_name(int8: Embedder, reference: Embedder) -> None:
    assert int8.name == "all-MiniLM-L6-v2/onnx-int8"
    assert reference.name == "all-MiniLM-L6-v2/torch-fp32"


def test_unknown_kind_is_a_config_error_naming_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="minilm-int8, minilm-int8-per-row, minilm-fp32, minilm-torch"):
        load_embedder("minilm-int4", tmp_path)
    with pytest.raises(ConfigError, match="at least 1"):
        load_embedder("minilm-int8", tmp_path, threads=0)
    assert not any(tmp_path.iterdir())  # nothing exported for a refused setting


def test_cache_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "models"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(BroadsheetError, match="could not make the int8 ONNX model"):
        load_embedder("minilm-int8", blocker)


def identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_cached_model_is_loaded_not_exported_again(int8: Embedder, model_cache: Path) -> None:
    cache = model_cache / "all-MiniLM-L6-v2"
    before = {variant: identity(model_path(cache, variant)) for variant in ("fp32", "int8")}
    load_embedder("minilm-int8", model_cache).embed(SENTENCES[:1])
    assert {variant: identity(model_path(cache, variant)) for variant in ("fp32", "int8")} == before


def test_loading_a_cached_model_does_not_import_torch(int8: Embedder, model_cache: Path) -> None:
    script = (
        "import sys\nfrom pathlib import Path\nfrom broadsheet.enrich.embed import load_embedder\n"
        f"load_embedder('minilm-int8', Path({str(model_cache)!r})).embed(['A quiet test sentence.'])\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def copy_cache(model_cache: Path, tmp_path: Path) -> Path:
    cache = tmp_path / "all-MiniLM-L6-v2"
    shutil.copytree(model_cache / "all-MiniLM-L6-v2", cache)
    return cache


def test_corrupted_manifest_makes_that_file_again(int8: Embedder, model_cache: Path, tmp_path: Path) -> None:
    cache = copy_cache(model_cache, tmp_path)
    fp32_before, int8_before = identity(model_path(cache, "fp32")), identity(model_path(cache, "int8"))
    (cache / "model-int8.onnx.json").write_text('{"built": {"vari', encoding="utf-8")
    path = ensure_onnx_model(KINDS["minilm-int8"].source(), cache, "int8")
    assert identity(path) != int8_before  # quantised again ...
    assert identity(model_path(cache, "fp32")) == fp32_before  # ... from the fp32 file, still current
    assert json.loads((cache / "model-int8.onnx.json").read_text())["built"]["variant"] == "int8"


@pytest.mark.slow
def test_changed_model_is_exported_once_by_two_racing_processes(
    int8: Embedder, model_cache: Path, tmp_path: Path
) -> None:
    """A new model package (another weights hash) means a new export; two processes share one."""
    cache = copy_cache(model_cache, tmp_path)
    manifest = cache / "model-fp32.onnx.json"
    recorded = json.loads(manifest.read_text())
    recorded["built"]["source_sha256"] = "0" * 64  # as if made from other weights
    manifest.write_text(json.dumps(recorded))
    before = identity(model_path(cache, "fp32"))
    script = (
        "import logging, sys\nfrom pathlib import Path\n"
        "from broadsheet.enrich.embed import load_embedder\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        f"vectors = load_embedder('minilm-fp32', Path({str(tmp_path)!r})).embed(['A quiet test sentence.'])\n"
        "print(vectors[0, :4].tolist())\n"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [racer.communicate(timeout=110) for racer in racers]
    assert [racer.returncode for racer in racers] == [0, 0], outputs
    assert sum(stderr.count("exporting") for _, stderr in outputs) == 1, outputs
    assert outputs[0][0] == outputs[1][0]  # both embed with the same, complete file
    assert identity(model_path(cache, "fp32")) != before
    assert json.loads(manifest.read_text())["built"]["source_sha256"] != "0" * 64
    assert not list(cache.glob(".*.tmp"))
