#!/usr/bin/env python3
"""Draw the web app's icons, `src/broadsheet/web/static/icon-{192,512}.png`, without an image library: a page
of news on the site's blue, inside the maskable safe zone (the middle 80%). Run from the repository root."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

Colour = tuple[int, int, int]
BLUE: Colour = (0x1F, 0x3A, 0x5F)
WHITE: Colour = (0xFF, 0xFF, 0xFF)
RED: Colour = (0xC2, 0x41, 0x2D)


def draw(size: int) -> list[list[Colour]]:
    pixels = [[BLUE] * size for _ in range(size)]

    def rect(x0: float, y0: float, x1: float, y1: float, colour: Colour) -> None:
        for y in range(int(y0 * size), int(y1 * size)):
            for x in range(int(x0 * size), int(x1 * size)):
                pixels[y][x] = colour

    rect(0.27, 0.22, 0.73, 0.78, WHITE)  # the page
    rect(0.33, 0.29, 0.67, 0.37, RED)  # its headline
    for top in (0.44, 0.52, 0.60, 0.68):  # lines of text, the last one short
        rect(0.33, top, 0.67 if top < 0.68 else 0.55, top + 0.035, BLUE)
    return pixels


def png(pixels: list[list[Colour]]) -> bytes:
    size = len(pixels)
    raw = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    static = Path("src/broadsheet/web/static")
    for size in (192, 512):
        (static / f"icon-{size}.png").write_bytes(png(draw(size)))
