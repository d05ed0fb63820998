"""Model files built once and cached on disk: the manifest that says what made each file, the lock that keeps
two processes from building at once, the write that never leaves half a file in place, and int8 quantisation.

Owns nothing model-specific: what is built, and from what, is the caller's (`onnx_export`, `e5`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np

from broadsheet.errors import BroadsheetError

__all__ = [
    "ACTIVATIONS",
    "INT8_OPTIONS",
    "TORCH_IMPORT",
    "Activations",
    "build_lock",
    "int8_label",
    "int8_options",
    "is_current",
    "per_row_activations",
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

# How an int8 graph quantises a MatMul's input while it runs.
# - "per-tensor": quantize_dynamic's DynamicQuantizeLinear, one scale over the whole [batch, tokens, hidden]
#   tensor. A text's vector then depends on the other texts of its batch (cosine 0.978 to 1.0 between
#   batchings for MiniLM, 0.993 to 1.0 for e5).
# - "per-row": one scale per token row (`per_row_activations`). A text's vector is then the same, bit for bit,
#   whatever it is embedded with, and closer to fp32 (mean cosine on headlines 0.9972 against 0.9926 for
#   MiniLM, 0.9991 against 0.9966 for e5), but the graph runs 12 to 18 % slower on one thread and 20 to 30 %
#   slower on two: ONNX Runtime has no kernel that fuses a scale per row into the int8 product, so the
#   scales, the rescaling and the biases take passes of their own.
Activations = Literal["per-tensor", "per-row"]
# The activations of the plain "int8" files (onnx_export's "int8" variant, e5's default). Per-row files are a
# variant of their own ("int8-per-row"), with their own file and vector names, chosen by the caller.
ACTIVATIONS: Activations = "per-tensor"
# Bump when `per_row_activations` writes a different graph: every per-row file is then made again.
_PER_ROW_FORMAT = 1


# Held while a module hides PyTorch from an import (entities.py loads spaCy so, to keep thinc from loading it)
# and while an ONNX export imports it: in one process these happen in different threads (the NER and the
# embedder load side by side), and an export meeting the hidden PyTorch would fail.
TORCH_IMPORT = threading.Lock()


def int8_options(activations: Activations) -> dict[str, Any]:
    """What a manifest records of how an int8 file was quantised. A per-tensor file keeps the record it always
    had, so caches made before per-row files existed stay valid."""
    if activations == "per-tensor":
        return dict(INT8_OPTIONS)
    return {**INT8_OPTIONS, "activations": activations, "per_row_format": _PER_ROW_FORMAT}


def int8_label(activations: Activations) -> str:
    """The int8 file as its file name and an embedder's name say it: "int8" or "int8-per-row". Vectors of the
    two differ a little, so vectors stored under one name are never compared with the other's."""
    return "int8" if activations == "per-tensor" else "int8-per-row"


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


def quantise_int8(fp32: Path, dest: Path, activations: Activations = ACTIVATIONS) -> None:
    """ONNX Runtime's dynamic int8 quantisation of `fp32` with `INT8_OPTIONS`, written to `dest`; for "per-row"
    activations, rewritten by `per_row_activations` before it is written."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # quantize_dynamic logs a pre-processing hint meant for image models, through the root logger.
    with quiet(""):
        quantize_dynamic(fp32, dest, weight_type=QuantType.QInt8, **INT8_OPTIONS)
    if activations == "per-row":
        model = onnx.load(dest)
        per_row_activations(model)
        onnx.checker.check_model(model)
        onnx.save(model, dest)


_MS = "com.microsoft"
_LEVELS = 127  # a row's largest magnitude becomes 127: symmetric int8, held as uint8 around 128
_ZERO_POINT = 128
_PER_TENSOR_OPS = ("DynamicQuantizeLinear", "MatMulInteger", "DynamicQuantizeMatMul")


def per_row_activations(model: Any) -> int:
    """Rewrite `model` (an onnx ModelProto made by quantize_dynamic) in place so that each quantised MatMul
    quantises its input token by token; return how many MatMuls it changed.

    quantize_dynamic writes, for an input X of MatMuls with int8 weights W (per-channel scales w):
    DynamicQuantizeLinear(X) -> (Xq, s, z), one scale s and zero point z over the whole tensor, then for each
    MatMul: MatMulInteger(Xq, W, z, W's zero point), Cast to float, Mul by s * w. Here, instead: for each row r
    of X (one token of one text), s_r = max |X[r, :]| / 127 (ReduceMax, ReduceMin); Xq[r] = round(X[r] / s_r)
    + 128 as uint8 (QuantizeLinear with a scale per row of X as a matrix); and ONNX Runtime's
    MatMulIntegerToFloat(Xq, W, s_r, w, 128, W's zero point), which scales its int32 product by w column by
    column and by s_r row by row. A row's numbers then depend on that row alone: neither padding nor the
    other texts of a batch can change a text's vector.

    Raises BroadsheetError, leaving `model` half rewritten, for a graph of another shape: a quantiser that
    writes something else must not be taken for per-row.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    weights = {tensor.name: tensor for tensor in graph.initializer}
    producer = {output: node for node in graph.node for output in node.output}
    consumers: dict[str, list[Any]] = defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    outputs = {value.name for value in graph.output}

    def only_consumer(name: str, op: str) -> Any:
        found = consumers[name]
        if len(found) != 1 or found[0].op_type != op or name in outputs:
            raise BroadsheetError(f"{name} feeds {[n.op_type for n in found]}, not one {op}")
        return found[0]

    constants: dict[str, Any] = {
        "per_row.levels": np.float32(_LEVELS),
        "per_row.floor": np.float32(1e-30),  # keeps an all-zero row's scale above zero
        "per_row.zero_point": np.uint8(_ZERO_POINT),
        "per_row.flat": np.array([-1], dtype=np.int64),
    }
    if opset >= 18:  # before it, the axes are an attribute (_reduce)
        constants["per_row.last_axis"] = np.array([-1], dtype=np.int64)
    removed: set[str] = set()  # by first output: protobuf nodes are not hashable
    before: dict[str, list[Any]] = defaultdict(list)  # new nodes, by the first output of the next old one
    changed = 0
    for quantise in [node for node in graph.node if node.op_type == "DynamicQuantizeLinear"]:
        x = quantise.input[0]
        quantised, scale, zero_point = quantise.output
        matmuls = consumers[quantised]
        widths = {int(weights[m.input[1]].dims[0]) for m in matmuls if m.input[1] in weights}
        if len(widths) != 1:
            raise BroadsheetError(f"{quantised} is not multiplied with constant weights of one shape")
        p = f"{x}.per_row"
        constants[f"{p}.matrix_shape"] = np.array([-1, widths.pop()], dtype=np.int64)
        before[quantised] += [
            _reduce("ReduceMax", x, f"{p}.max", opset),
            _reduce("ReduceMin", x, f"{p}.min", opset),
            helper.make_node("Neg", [f"{p}.min"], [f"{p}.minus_min"]),
            helper.make_node("Max", [f"{p}.max", f"{p}.minus_min", "per_row.floor"], [f"{p}.range"]),
            helper.make_node("Div", [f"{p}.range", "per_row.levels"], [f"{p}.scale"]),  # [batch, tokens, 1]
            # QuantizeLinear takes a scale for each row of a matrix (axis 0): every token of the batch a row
            helper.make_node("Reshape", [x, f"{p}.matrix_shape"], [f"{p}.matrix"]),
            helper.make_node("Reshape", [f"{p}.scale", "per_row.flat"], [f"{p}.row_scales"]),
            helper.make_node("Shape", [f"{p}.row_scales"], [f"{p}.rows"]),
            helper.make_node(
                "ConstantOfShape",
                [f"{p}.rows"],
                [f"{p}.zero_points"],
                value=numpy_helper.from_array(np.array([_ZERO_POINT], dtype=np.uint8)),
            ),
            helper.make_node(
                "QuantizeLinear",
                [f"{p}.matrix", f"{p}.row_scales", f"{p}.zero_points"],
                [f"{p}.quantised_matrix"],
                axis=0,
            ),
            helper.make_node("Shape", [x], [f"{p}.shape"]),
            helper.make_node("Reshape", [f"{p}.quantised_matrix", f"{p}.shape"], [f"{p}.quantised"]),
        ]
        removed.add(quantised)
        for matmul in matmuls:
            if matmul.op_type != "MatMulInteger" or list(matmul.input[::2]) != [quantised, zero_point]:
                raise BroadsheetError(f"{quantised} feeds a {matmul.op_type} this rewrite does not know")
            cast = only_consumer(matmul.output[0], "Cast")
            mul = only_consumer(cast.output[0], "Mul")
            scales = producer.get(next(name for name in mul.input if name != cast.output[0]))
            if (
                scales is None
                or scales.op_type != "Mul"
                or scale not in scales.input
                or only_consumer(scales.output[0], "Mul").output[0] != mul.output[0]
            ):
                raise BroadsheetError(f"{mul.output[0]} is not scaled by {scale} times the weights' scale")
            weight_scale = next(name for name in scales.input if name != scale)
            removed.update(node.output[0] for node in (matmul, cast, mul, scales))
            inputs = [f"{p}.quantised", matmul.input[1], f"{p}.scale", weight_scale]
            before[matmul.output[0]].append(
                helper.make_node(
                    "MatMulIntegerToFloat",
                    [*inputs, "per_row.zero_point", matmul.input[3]],
                    [mul.output[0]],
                    name=f"{mul.output[0]}.per_row",
                    domain=_MS,
                )
            )
            changed += 1
        left = [n.op_type for n in consumers[scale] + consumers[zero_point] if n.output[0] not in removed]
        if left:
            raise BroadsheetError(f"{x}'s quantisation also feeds {left}, which this rewrite does not know")
    nodes = []
    for node in graph.node:
        nodes += before.get(node.output[0], [])
        if node.output[0] not in removed:
            nodes.append(node)
    per_tensor = sorted({node.op_type for node in nodes if node.op_type in _PER_TENSOR_OPS})
    if not changed or per_tensor:
        raise BroadsheetError(
            f"the quantised graph has {changed} MatMuls of the shape this rewrite knows and still holds "
            f"{', '.join(per_tensor) or 'no per-tensor quantisation'}: it cannot be made per row"
        )
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(numpy_helper.from_array(np.asarray(v), name) for name, v in constants.items())
    if not any(o.domain == _MS for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(_MS, 1))
    return changed


def _reduce(op: str, x: str, output: str, opset: int) -> Any:
    """`op` over the last axis of `x`, kept as an axis of 1 (the axes became an input in opset 18)."""
    from onnx import helper

    if opset >= 18:
        return helper.make_node(op, [x, "per_row.last_axis"], [output], keepdims=1)
    return helper.make_node(op, [x], [output], axes=[-1], keepdims=1)


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
