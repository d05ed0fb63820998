"""Model files built once and cached on disk: the manifest that says what made each file, the lock that keeps
two processes from building at once, the write that never leaves half a file in place, and int8 quantisation.

Owns nothing model-specific: what is built, and from what, is the caller's (`onnx_export`, `e5`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "INT8_OPTIONS",
    "build_lock",
    "is_current",
    "quantise_int8",
    "quiet",
    "temporary",
    "tool_versions",
    "version",
    "write_atomically",
]

# Per-channel int8 weights on the MatMuls only: mean cosine to fp32 ~0.994, against ~0.954 for the
# quantize_dynamic defaults (per-tensor, embeddings quantised too), at the same speed (bench/embeddings.py).
INT8_OPTIONS: dict[str, Any] = {"per_channel": True, "op_types_to_quantize": ["MatMul"]}


def version(package: str) -> str:
    """The installed version of `package`, or "absent"."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def tool_versions(packages: Iterable[str]) -> dict[str, str]:
    """What a manifest records of the tools that made a file: a different version means a fresh build."""
    return {name: version(name) for name in packages}


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def is_current(path: Path, wanted: dict[str, Any]) -> bool:
    """Whether `path` exists, has the size its manifest records and was built as `wanted` says."""
    try:
        recorded = json.loads(_manifest_path(path).read_text(encoding="utf-8"))
        size = path.stat().st_size
    except (OSError, ValueError):  # missing or half-written: build again
        return False
    return isinstance(recorded, dict) and recorded.get("size") == size and recorded.get("built") == wanted


@contextmanager
def build_lock(cache_dir: Path) -> Iterator[None]:
    """Hold `cache_dir`'s lock (creating the folder) for a build; a build's leftovers from a killed process
    are removed once it is held. Callers check `is_current` again inside: another process may have built
    the file while this one waited."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for leftover in cache_dir.glob(".*.tmp"):  # no one else builds while we hold the lock
                leftover.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def temporary(path: Path) -> Path:
    """A name beside `path` for a file being made; `build_lock` removes it if its maker dies."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def write_atomically(path: Path, make: Callable[[Path], None], built: dict[str, Any]) -> None:
    """Make `path` through a temporary file and a rename, then its manifest the same way.

    The file is renamed into place before its manifest, so a reader that sees a current manifest also sees
    the file it describes.
    """
    tmp = temporary(path)
    try:
        make(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        manifest = {"built": built, "size": path.stat().st_size}
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, _manifest_path(path))
    finally:
        with suppress(FileNotFoundError):
            tmp.unlink()


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def quantise_int8(fp32: Path, dest: Path) -> None:
    """ONNX Runtime's dynamic int8 quantisation of `fp32`, with `INT8_OPTIONS`, written to `dest`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic logs a pre-processing hint meant for image models, through the root logger.
    with quiet(""):
        quantize_dynamic(fp32, dest, weight_type=QuantType.QInt8, **INT8_OPTIONS)


@contextmanager
def quiet(*names: str) -> Iterator[None]:
    """Hold these loggers to errors: exporters and quantisers log hundreds of lines nobody can act on.

    Each gets a handler too, so that a module-level `logging.warning()` does not install one on the root.
    """
    loggers = [logging.getLogger(name or None) for name in names]
    saved = [logger.level for logger in loggers]
    handler = logging.NullHandler()
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, saved, strict=True):
            logger.setLevel(level)
            logger.removeHandler(handler)
