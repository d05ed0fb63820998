"""A cheap look at an XML document's prolog: which root element it has and whether it declares entities.

Owns refusing entity declarations (billion laughs, XXE) before any parser sees the bytes; not parsing itself.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from broadsheet.errors import UnsafeXMLError

__all__ = ["Prolog", "ensure_safe_xml", "read_prolog"]

# Entity declarations can only live in a DOCTYPE's internal subset, which sits in the prolog, so the prolog is
# all we need to scan. Case-insensitive because feedparser's fallback (sgmllib) parser is lenient about case.
_ENTITY_DECL = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_DOCTYPE_TOKEN = re.compile(r"[\"'\[\]>]")
_LITERAL = re.compile(r""""([^"]*)"|'([^']*)'""")
_SAFE_DTD_SCHEMES = ("http://", "https://")
_ROOT_NAME = re.compile(r"[A-Za-z_:][^\s/>]*")

_CHUNK = 65_536  # the prolog of real feeds is a few hundred bytes; look further only when it is not over yet
_MAX_PROLOG = 1_048_576  # no honest feed has a megabyte of DTD before its root element


@dataclass(frozen=True, slots=True)
class Prolog:
    """What comes before the root element.

    `root` is the root tag as written ("rss", "rdf:RDF"), or "" when none was found; `head` is the text before
    it (or all the text read, when no root came first); `oversized` says the scan gave up at its size cap.
    """

    root: str = ""
    head: str = ""
    oversized: bool = False

    @property
    def root_local(self) -> str:
        """The root's name without its prefix, lower-cased: "rdf", "feed", "urlset", "html"."""
        return self.root.rpartition(":")[2].lower()


def _decode_head(content: bytes, size: int) -> str:
    """Decode the document's start well enough to read markup: UTF-16/32 by BOM or NULs, else latin-1."""
    head = content[:size]
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, errors="replace")
    for prefix, codec in (
        (b"<\x00\x00\x00", "utf-32-le"),
        (b"\x00\x00\x00<", "utf-32-be"),
        (b"<\x00", "utf-16-le"),
        (b"\x00<", "utf-16-be"),
    ):
        if head.startswith(prefix):
            return head.decode(codec, errors="replace")
    # ASCII-compatible encodings (UTF-8, windows-1252, ...) spell markup alike, and latin-1 never fails.
    return head.decode("latin-1").removeprefix("\xef\xbb\xbf")


def _doctype_end(text: str, start: int) -> int:
    """Index just past the DOCTYPE at `start`, minding quotes and the [internal subset]; -1 if cut off."""
    depth = 0
    pos = start + 2
    while True:
        match = _DOCTYPE_TOKEN.search(text, pos)
        if match is None:
            return -1
        char, pos = match.group(), match.end()
        if char in "\"'":
            close = text.find(char, pos)
            if close < 0:
                return -1
            pos = close + 1
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif depth <= 0:
            return pos


def _scan(text: str) -> tuple[Prolog, bool]:
    """Walk declarations, comments and the DOCTYPE up to the root tag; the flag says the prolog ended."""
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n\ufeff":
            pos += 1
        if pos >= n:
            return Prolog(head=text), False
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
            end = end + 2 if end >= 0 else -1
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos)
            end = end + 3 if end >= 0 else -1
        elif _DOCTYPE.match(text, pos):
            end = _doctype_end(text, pos)
        elif text.startswith("<!", pos):
            # A stray declaration outside any DOCTYPE is not XML, but a lenient parser may still act on it.
            end = text.find(">", pos)
            end = end + 1 if end >= 0 else -1
        elif name := (_ROOT_NAME.match(text, pos + 1) if text.startswith("<", pos) else None):
            return Prolog(root=name.group(0), head=text[:pos]), True
        else:
            # Text before any element: not XML (JSON, plain text, an error message printed before the feed).
            # The whole text read counts as head, so entities declared after the junk are still seen.
            return Prolog(head=text), True
        if end < 0:
            # Cut inside a declaration: a longer read may finish it, and the caller decides when to stop.
            return Prolog(head=text), False
        pos = end


def read_prolog(content: bytes) -> Prolog:
    """Read the document's prolog; it costs microseconds for a normal feed, whatever the body's size."""
    size = _CHUNK
    while True:
        prolog, complete = _scan(_decode_head(content, size))
        if complete or size >= len(content) or _ENTITY_DECL.search(prolog.head):
            return prolog
        if size >= _MAX_PROLOG:
            return Prolog(head=prolog.head, oversized=True)
        size *= 4


def ensure_safe_xml(prolog: Prolog) -> None:
    """Raise UnsafeXMLError when the prolog declares entities, names a non-web DTD, or never ends."""
    if _ENTITY_DECL.search(prolog.head):
        raise UnsafeXMLError(
            "the document declares XML entities (<!ENTITY ...>), which can expand without bound or read "
            "local files; broadsheet refuses such XML. Ask the publisher for a feed without an internal DTD."
        )
    if prolog.oversized:
        raise UnsafeXMLError(
            f"the document has more than {_MAX_PROLOG // 1024} KiB of declarations before its first element; "
            "broadsheet refuses such XML. Check that the URL serves a feed."
        )
    doctype = _DOCTYPE.search(prolog.head)
    if doctype is None:
        return
    # An external DTD is never fetched by our parsers, but one naming a local file or an exotic scheme has no
    # place in a feed; refusing it keeps a future parser setting from turning it into a file read. Of the
    # external id's literals (PUBLIC has two, SYSTEM one) only the last names something fetchable.
    external_id = prolog.head[doctype.end() :].split("[", 1)[0].split(">", 1)[0]
    literals = _LITERAL.findall(external_id)
    if not literals:
        return
    system_uri = "".join(literals[-1]).strip()
    scheme_part = system_uri.split("/", 1)[0].lower()
    if ":" in scheme_part and not system_uri.lower().startswith(_SAFE_DTD_SCHEMES):
        raise UnsafeXMLError(
            f"the document's DOCTYPE points at a local or non-web DTD ({system_uri!r}); broadsheet refuses "
            "such XML. Use the publisher's feed URL that serves plain RSS, Atom or JSON Feed."
        )
