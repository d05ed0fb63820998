"""Content-Encoding decoding with a hard output budget, so a compression bomb is stopped mid-stream.

httpx's own decoders inflate each network chunk without limit (a 64 KiB brotli chunk can expand to gigabytes),
so the fetcher reads raw bytes and decodes them here, never producing more than the caller may still accept.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import brotli  # type: ignore[import-untyped]  # ships no type information

__all__ = ["BodyDecoder", "DecodeError", "TooLarge", "make_decoder"]


class DecodeError(Exception):
    """The body is not valid for its Content-Encoding (internal; the fetcher maps it to NetworkError)."""


class TooLarge(Exception):
    """Decoding would produce more than the budget allows (internal; mapped to ResponseTooLargeError)."""


class _Stage(Protocol):
    def feed(self, data: bytes, budget: int) -> bytes: ...


class _Identity:
    def feed(self, data: bytes, budget: int) -> bytes:
        if len(data) > budget:
            raise TooLarge
        return data


class _Zlib:
    """gzip, or deflate in either its zlib-wrapped form (the standard) or raw (what some servers send)."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._first = True
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes, budget: int) -> bytes:
        try:
            if self._first and not self._gzip and data:
                self._first = False
                try:
                    return self._inflate(data, budget)
                except zlib.error:
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._inflate(data, budget)
        except zlib.error as exc:
            raise DecodeError(str(exc)) from exc

    def _inflate(self, data: bytes, budget: int) -> bytes:
        # Ask for one byte more than allowed: getting it proves the body is over budget.
        out = self._obj.decompress(data, budget + 1)
        if len(out) > budget or self._obj.unconsumed_tail:
            raise TooLarge
        return out


class _Brotli:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes, budget: int) -> bytes:
        try:
            parts = [self._obj.process(data, output_buffer_limit=budget + 1)]
            size = len(parts[0])
            while size <= budget and not self._obj.can_accept_more_data():
                parts.append(self._obj.process(b"", output_buffer_limit=budget + 1 - size))
                size += len(parts[-1])
        except brotli.error as exc:
            raise DecodeError(str(exc)) from exc
        if size > budget:
            raise TooLarge
        return b"".join(parts)


class BodyDecoder:
    """Undoes a Content-Encoding list ("gzip", "br", "gzip, br", ...); every stage obeys the budget."""

    def __init__(self, stages: list[_Stage]) -> None:
        self._stages = stages

    def feed(self, data: bytes, budget: int) -> bytes:
        for stage in self._stages:
            data = stage.feed(data, budget)
        return data


def make_decoder(content_encoding: str) -> BodyDecoder:
    """A decoder for the header's value; raises ValueError naming an encoding broadsheet cannot undo."""
    names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
    stages: list[_Stage] = []
    # Encodings are listed in the order they were applied, so they are undone last first.
    for name in reversed(names):
        if name == "identity":
            continue
        if name in ("gzip", "x-gzip", "deflate"):
            stages.append(_Zlib(name))
        elif name == "br":
            stages.append(_Brotli())
        else:
            raise ValueError(name)
    return BodyDecoder(stages or [_Identity()])
