"""Turns a local sentence-transformers model into cached ONNX files (fp32, and int8 quantised from it, its
activations quantised per tensor or per token row).

Owns the export and what its manifest records (source weights, tools, options); the manifest, lock and atomic
write themselves are `model_cache`'s. Running the files is `embed`'s job. Only an export imports torch; using
a cached file reads the manifest and hashes the source weights, nothing more.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal

from broadsheet.enrich.model_cache import (
    ACTIVATIONS,
    TORCH_IMPORT,
    Activations,
    build_lock,
    int8_options,
    is_current,
    quantise_int8,
    quiet,
    tool_versions,
    version,
    write_atomically,
)
from broadsheet.errors import BroadsheetError

__all__ = [
    "VARIANTS",
    "Variant",
    "activations",
    "ensure_onnx_model",
    "import_torch",
    "model_path",
    "offline",
    "source_hash",
]

# "int8": activations quantised per tensor (model_cache.ACTIVATIONS), so a text's vector depends a little on
# the other texts of its batch. "int8-per-row": per token row, so it does not, for a slower graph (model_cache).
Variant = Literal["fp32", "int8", "int8-per-row"]
VARIANTS: tuple[Variant, ...] = ("fp32", "int8", "int8-per-row")
_ACTIVATIONS: dict[Variant, Activations] = {"int8": ACTIVATIONS, "int8-per-row": "per-row"}

# Bump when the export itself changes (graph inputs, outputs, opset): every cached file is then made again.
_FORMAT = 1
# Files of the source model that the exported graph depends on (the tokenizer is read from the source as is).
_SOURCE_FILES = ("config.json", "model.safetensors")
# Tools whose versions can change the files made; a different version means a fresh export.
_TOOLS = ("torch", "transformers", "onnx", "onnxscript", "onnxruntime")
# The exporter has been known to produce wrong numbers without complaint (NOTES.md: dynamo=False is off by
# up to 1.7); every export is compared with PyTorch on these before it is used.
_PROBES = (
    "A short probe sentence.",
    "A second, longer probe sentence for the exported graph, so that the batch is padded on one row.",
)
_MAX_ABS_DIFF = 1e-3
# A per-row int8 file's pooled probe vectors against the fp32 file's (~0.997 when the rewrite is right).
_MIN_INT8_COSINE = 0.99

log = logging.getLogger(__name__)


def ensure_onnx_model(source_dir: Path, cache_dir: Path, variant: Variant) -> Path:
    """The path of `variant`'s ONNX file in `cache_dir`, exported first when missing or stale.

    Stale means the manifest beside the file is missing, unreadable or names other source weights, tools or
    options. Safe to call from several processes at once: one exports under a file lock, the others wait
    and then use its file. Raises BroadsheetError when the export fails or gives wrong numbers.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    digest = source_hash(source_dir)
    path = model_path(cache_dir, variant)
    if is_current(path, _manifest(digest, variant)):
        return path
    try:
        with build_lock(cache_dir):
            if is_current(path, _manifest(digest, variant)):  # made by another process while we waited
                return path
            fp32 = model_path(cache_dir, "fp32")
            if not is_current(fp32, _manifest(digest, "fp32")):
                log.info("exporting %s to ONNX in %s", source_dir, cache_dir)
                write_atomically(fp32, lambda tmp: _export_fp32(source_dir, tmp), _manifest(digest, "fp32"))
            quantised = _ACTIVATIONS.get(variant)
            if quantised is not None:
                log.info("quantising %s to int8, activations %s", fp32, quantised)
                write_atomically(
                    path, lambda tmp: _quantise(source_dir, fp32, tmp, quantised), _manifest(digest, variant)
                )
    except BroadsheetError:
        raise
    except Exception as exc:  # torch, onnxscript and the file system fail in many ways; say where it was
        raise BroadsheetError(
            f"could not make the {variant} ONNX model from {source_dir} in {cache_dir}: {exc}"
        ) from exc
    return path


def model_path(cache_dir: Path, variant: Variant) -> Path:
    return cache_dir / f"model-{variant}.onnx"


def activations(variant: Variant) -> Activations | None:
    """How `variant` quantises activations; None for fp32, which does not."""
    return _ACTIVATIONS.get(variant)


def source_hash(source_dir: Path) -> str:
    """SHA-256 over the source files the graph is made from (~0.15 s for MiniLM's 90 MB of weights)."""
    digest = hashlib.sha256()
    for name in _SOURCE_FILES:
        digest.update(name.encode() + b"\0")
        with (source_dir / name).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def _manifest(digest: str, variant: Variant) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "variant": variant,
        "source_sha256": digest,
        "tools": tool_versions(_TOOLS),
        "options": int8_options(_ACTIVATIONS[variant]) if variant in _ACTIVATIONS else {},
    }


def offline() -> None:
    """Keep the Hugging Face libraries off the network (every model is on disk) and without progress bars.

    Call before they are imported: they read these once.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"


def import_torch() -> Any:
    """PyTorch, imported once no other thread hides it (entities.py does while it loads spaCy)."""
    with TORCH_IMPORT:
        import torch

    return torch


def _export_fp32(source_dir: Path, dest: Path) -> None:
    offline()
    import numpy as np

    import_torch()  # once loaded, it is never hidden again: the plain import below finds it
    import torch
    from transformers import AutoModel, AutoTokenizer

    class TokenEmbeddings(torch.nn.Module):
        """The transformer's last hidden state only: pooling is done by the caller, as sentence-transformers does."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.model(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            return hidden

    model = TokenEmbeddings(AutoModel.from_pretrained(source_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(source_dir)
    probe = tokenizer(list(_PROBES), padding=True, return_tensors="pt")
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    axes = {0: batch, 1: seq}
    with warnings.catch_warnings(), quiet("torch.onnx", "onnxscript", "onnx_ir"):
        # The exporter's warnings (training-mode hint, renamed axes, deprecations) are not a user's to act on.
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            model,
            (probe["input_ids"], probe["attention_mask"]),
            dynamo=True,
            input_names=["input_ids", "attention_mask"],
            output_names=["token_embeddings"],
            dynamic_shapes={"input_ids": axes, "attention_mask": axes},
            verbose=False,
        )
        if program is None:
            raise BroadsheetError(f"torch.onnx.export returned no program for {source_dir}")
        program.save(dest, external_data=False)
    with torch.inference_mode():
        expected = model(probe["input_ids"], probe["attention_mask"]).numpy()
    got = _run(dest, probe["input_ids"].numpy(), probe["attention_mask"].numpy())
    mask = probe["attention_mask"].numpy().astype(bool)
    diff = float(np.abs(got - expected)[mask].max())
    if diff > _MAX_ABS_DIFF:
        raise BroadsheetError(
            f"the ONNX export of {source_dir} differs from PyTorch by {diff:.3g} (limit {_MAX_ABS_DIFF}); "
            f"it was not used. Check the torch and onnxscript versions ({version('torch')}, "
            f"{version('onnxscript')})."
        )


def _quantise(source_dir: Path, fp32: Path, dest: Path, kind: Activations) -> None:
    """`fp32` quantised to `dest`; a per-row file is first compared with fp32 on the probes, since its graph is
    rewritten here rather than written by ONNX Runtime's quantiser."""
    quantise_int8(fp32, dest, kind)
    if kind != "per-row":
        return
    import numpy as np
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(source_dir / "tokenizer.json"))
    tokenizer.no_padding()
    encodings = tokenizer.encode_batch(list(_PROBES))
    longest = max(len(encoding.ids) for encoding in encodings)
    input_ids = np.zeros((len(encodings), longest), dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for row, encoding in enumerate(encodings):
        input_ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1

    def pooled(model: Path) -> Any:
        summed = np.einsum("bsd,bs->bd", _run(model, input_ids, mask), mask.astype(np.float32))
        return summed / np.linalg.norm(summed, axis=1, keepdims=True)

    cosine = float(np.sum(pooled(fp32) * pooled(dest), axis=1).min())
    if cosine < _MIN_INT8_COSINE:
        raise BroadsheetError(
            f"the per-row int8 graph of {source_dir} is off its fp32 graph (cosine {cosine:.4f}, at least "
            f"{_MIN_INT8_COSINE} needed); it was not used. Check the onnx and onnxruntime versions "
            f"({version('onnx')}, {version('onnxruntime')})."
        )


def _run(path: Path, input_ids: Any, attention_mask: Any) -> Any:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})[0]
