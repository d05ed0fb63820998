"""Turning a fetched page (bytes or text) into one lxml tree: charset detection, decoding and parsing.

Owns only the decoding and parsing; finding the article and its metadata in the tree is done elsewhere.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from broadsheet.errors import ExtractError

__all__ = ["MAX_HTML_BYTES", "decode_html", "parse_html"]

#: Pages past this size are cut: real articles sit well inside it, and libxml2 time grows with size.
MAX_HTML_BYTES = 8 * 1024 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: its BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_DECLARED_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{2,40})""", re.I)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]{0,100}?encoding\s*=\s*["']([A-Za-z0-9_.:-]{2,40})""", re.I)
# WHATWG: browsers read these labels as windows-1252, and so do the pages that declare them.
_AS_CP1252 = {"ascii", "latin-1", "iso8859-1", "cp1252"}
_XML_DECL_TEXT_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _declared_encoding(head: bytes) -> str | None:
    """The charset named in a meta tag or XML declaration, as a Python codec name; None if absent or unknown."""
    match = _XML_DECL_RE.search(head) or _DECLARED_RE.search(head)
    if match is None:
        return None
    label = match.group(1).decode("ascii").lower()
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None  # an unknown label is no information: detection takes over
    return "cp1252" if name in _AS_CP1252 else name


def decode_html(data: bytes) -> str:
    """Decode page bytes: BOM, then valid UTF-8, then the declared charset, then detection, then cp1252.

    UTF-8 is tried before the declared charset because pages that declare ISO-8859-1 yet are sent as UTF-8 are
    common, while bytes that are valid UTF-8 but meant as another 8-bit charset are vanishingly rare.
    """
    data = data[:MAX_HTML_BYTES]
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    head = data[:512]
    if len(head) >= 16 and head.count(0) > len(head) // 3:
        # UTF-16 without a BOM: every other byte of ASCII markup is NUL (valid, useless UTF-8).
        return data.decode("utf-16-le" if head[1] == 0 else "utf-16-be", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass  # not UTF-8: the declaration or detection below decides
    declared = _declared_encoding(data[:4096])
    if declared is not None and declared not in ("utf-8", "utf-16", "utf-32"):
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass  # mis-declared page: fall through to detection
    guess = from_bytes(data[:65536]).best()
    if guess is not None and guess.encoding:
        return data.decode(guess.encoding, errors="replace")
    return data.decode(declared or "cp1252", errors="replace")


def parse_html(page: str | bytes) -> HtmlElement:
    """Parse a whole page once into an lxml tree; raise ExtractError when the input is not an HTML page."""
    text = decode_html(page) if isinstance(page, bytes) else page[:MAX_HTML_BYTES]
    if not text.strip():
        raise ExtractError("the page is empty: nothing to extract")
    sample = text[:4096]
    if len(_CONTROL_RE.findall(sample)) > len(sample) // 100 + 2:
        raise ExtractError("the page is binary data, not HTML: check the URL serves an HTML page")
    if "<" not in sample:
        raise ExtractError("the page has no HTML markup: nothing to extract")
    # Already decoded: an XML declaration's encoding would only make lxml refuse the string.
    tree = load_html(_XML_DECL_TEXT_RE.sub("", text, count=1))
    if tree is None or len(tree) == 0:
        raise ExtractError("the page could not be parsed as HTML")
    return tree
