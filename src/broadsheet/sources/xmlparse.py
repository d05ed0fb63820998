"""lxml parsers that are safe on untrusted XML, and where a broken document breaks, in a reader's words.

Owns the parser settings and the wording of well-formedness errors; not entity checks (`xmlsafety`), which
run before any parser sees the bytes.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

__all__ = ["describe_xml_error", "safe_xml_parser", "xml_problem"]

# libxml2's words for the mistakes feeds make most, said as a publisher would fix them.
_PLAIN_WORDS = (
    ("xmlParseEntityRef: no name", 'a bare "&" (it must be written "&amp;")'),
    ("EntityRef: expecting ';'", 'an "&" that starts no entity (it must be written "&amp;")'),
    ("Premature end of data", "the document ends before its elements are closed (cut off?)"),
    ("Opening and ending tag mismatch", "an element closed by the wrong end tag"),
    ("StartTag: invalid element name", 'a "<" that starts no element (it must be written "&lt;")'),
    ("Extra content at the end of the document", "more content after the root element ends"),
    ("Input is not proper UTF-8", "bytes that are not valid UTF-8 (or a wrong encoding declared)"),
)
_WHERE = re.compile(r",? line \d+, column \d+$")


def safe_xml_parser(*, recover: bool = False) -> Any:
    """An lxml parser that never expands entities, never fetches a DTD or anything else, caps tree depth."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def describe_xml_error(exc: etree.XMLSyntaxError) -> str:
    """'not well-formed XML at line L, column C: what is wrong'."""
    line, column = exc.position
    message = _WHERE.sub("", str(exc.msg or "").strip())
    for jargon, plain in _PLAIN_WORDS:
        if message.startswith(jargon):
            message = f"{plain}; parser said: {message}"
            break
    return f"not well-formed XML at line {line}, column {column}: {message}"


def xml_problem(content: bytes) -> str:
    """The first well-formedness error of an XML document, described; '' when it has none."""
    try:
        etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        return describe_xml_error(exc)
    return ""
