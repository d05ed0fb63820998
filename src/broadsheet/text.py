"""Plain text tidied to one line: whitespace collapsed, and feed strings freed of stray markup and entities.

Owns string-level tidying only; sanitising HTML bodies is `extract/sanitize.py`'s, boilerplate rules are extract's.
"""

from __future__ import annotations

import html
import re

__all__ = ["clean_text", "collapse_whitespace"]

# A tag starts with a letter, "/" or "!": "5 < 6" in a title is text, "<b>" is markup.
_TAG = re.compile(r"<[/!]?[A-Za-z][^<>]*>")


def collapse_whitespace(text: str) -> str:
    """Every run of whitespace (newlines, tabs, no-break and other Unicode spaces) as one space; ends trimmed."""
    return " ".join(text.split())


def clean_text(value: str) -> str:
    """One line of plain text: tags stripped, entities decoded (even twice-escaped), whitespace collapsed."""
    text = _TAG.sub(" ", value)
    # Feeds often escape twice ("&amp;#8217;"); three rounds cover what publishers do without looping on input.
    for _ in range(3):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    # Decoding can reveal markup that was escaped in the source ("&lt;b&gt;"): strip it as well.
    return collapse_whitespace(_TAG.sub(" ", text))
