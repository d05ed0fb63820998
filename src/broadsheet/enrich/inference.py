"""Running an ONNX text encoder on the CPU, as every ONNX embedder does: the session, batches of texts by
length, mean pooling and L2 normalisation.

Owns no model: tokenising and the graph's inputs are the embedder's (`embed`, `e5`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "BATCH_SIZE",
    "BATCH_TOKENS",
    "MAX_TOKENS",
    "Vectors",
    "cpu_session",
    "default_threads",
    "length_batches",
    "mean_pool",
    "normalise",
]

Vectors = NDArray[np.float32]

MAX_TOKENS = 128  # the tokenizer cuts longer inputs; title + lead fits, and cost grows with length
BATCH_SIZE = 64
# Padded tokens per ONNX batch: small batches of long inputs keep the activations in the CPU's caches
# (~20 % faster for title + lead than 64 rows at a time; headlines still go 64 at a time).
BATCH_TOKENS = 512


def default_threads() -> int:
    """The CPUs this process may run on: ONNX Runtime's intra-op threads when none are configured."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_session(model: Path, threads: int) -> Any:
    """An ONNX Runtime session for `model` on the CPU with `threads` intra-op threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads sleep rather than spin: the crawler, extraction workers and the server share these
    # cores, and on a busy 2-core box spinning made embedding ~25 % slower, not faster.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def length_batches(
    lengths: NDArray[np.int_], *, batch_size: int = BATCH_SIZE, batch_tokens: int = BATCH_TOKENS
) -> Iterator[NDArray[np.intp]]:
    """The rows of `lengths` (token counts) sorted by length, in consecutive runs of at most `batch_size`
    rows and, past the first row, at most `batch_tokens` padded tokens: padding is most of the waste on a
    mix of headlines and leads."""
    order = np.argsort(lengths, kind="stable")
    start = 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < batch_size
            and (end - start + 1) * lengths[order[end]] <= batch_tokens
        ):
            end += 1
        yield order[start:end]
        start = end


def mean_pool(hidden: Any, attention_mask: NDArray[np.int64] | NDArray[np.bool_]) -> Vectors:
    """Mean of the token vectors under the mask, as sentence-transformers' Pooling(mean) computes it."""
    mask = attention_mask.astype(np.float32)
    summed = np.einsum("bsd,bs->bd", hidden, mask)
    counts = np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
    pooled: Vectors = (summed / counts).astype(np.float32)
    return pooled


def normalise(vectors: Vectors) -> Vectors:
    """Rows scaled to unit length (a zero row stays zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Vectors = vectors / np.maximum(norms, 1e-12)
    return normalised
