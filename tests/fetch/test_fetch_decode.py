"""Bounded Content-Encoding decoding: each supported encoding, chains, budgets, corrupt or unknown input."""

from __future__ import annotations

import gzip
import zlib

import brotli  # type: ignore[import-untyped]
import pytest
from fetch_helpers import fetch

from broadsheet.config import Settings
from broadsheet.errors import NetworkError
from broadsheet.fetch.decode import DecodeError, TooLarge, make_decoder
from publisher import Publisher

TEXT = b"<p>news</p>" * 500


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def _feed_in_chunks(encoding: str, body: bytes, budget: int, size: int = 100) -> bytes:
    decoder = make_decoder(encoding)
    out = b""
    for start in range(0, len(body), size):
        out += decoder.feed(body[start : start + size], budget - len(out))
    return out


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("", TEXT),
        ("identity", TEXT),
        ("gzip", gzip.compress(TEXT, mtime=0)),
        ("x-gzip", gzip.compress(TEXT, mtime=0)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", _raw_deflate(TEXT)),  # what some servers send for "deflate"
        ("br", brotli.compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT, mtime=0))),
    ],
)
def test_each_supported_encoding_is_undone(encoding: str, body: bytes) -> None:
    assert _feed_in_chunks(encoding, body, budget=len(TEXT)) == TEXT


@pytest.mark.parametrize("encoding", ["", "gzip", "br"])
def test_output_one_byte_over_budget_is_too_large(encoding: str) -> None:
    body = {"": TEXT, "gzip": gzip.compress(TEXT, mtime=0), "br": brotli.compress(TEXT)}[encoding]

    with pytest.raises(TooLarge):
        _feed_in_chunks(encoding, body, budget=len(TEXT) - 1)


def test_corrupt_gzip_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        make_decoder("gzip").feed(b"this is not gzip at all", 1000)


def test_unknown_encoding_is_named() -> None:
    with pytest.raises(ValueError, match="zstd"):
        make_decoder("zstd")


def test_unrequested_encoding_from_a_server_is_a_network_error(
    publisher: Publisher, settings: Settings
) -> None:
    publisher.add("/z", b"\x28\xb5\x2f\xfd", headers={"Content-Encoding": "zstd"})

    with pytest.raises(NetworkError, match="Content-Encoding zstd"):
        fetch(settings, publisher.url("/z"))
    assert publisher.hits("/z") == 1  # not transient: retrying cannot help
