"""Plain text tidied to one line: whitespace collapsed, feed strings freed of stray markup and entities,
invisible controls removed from what readers are shown, and language tags read as their language.

Owns string-level tidying only; sanitising HTML bodies is `extract/sanitize.py`'s, boilerplate rules are extract's.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["clean_text", "collapse_whitespace", "has_hidden_characters", "primary_language", "strip_controls"]

# A tag starts with a letter, "/" or "!": "5 < 6" in a title is text, "<b>" is markup.
_TAG = re.compile(r"<[/!]?[A-Za-z][^<>]*>")


# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; the bidirectional embeddings and
# overrides (U+202A-U+202E) and isolates (U+2066-U+2069). The marks U+200E, U+200F and U+061C stay: they set no
# state that could spill past the text they sit in.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """`text` without control characters (tab and line breaks kept) or bidirectional overrides, embeddings and
    isolates. An override left open reverses the text after it, so a headline could display as other words,
    or turn the page's own text around it; a control character only shows as a box, or breaks XML."""
    return _CONTROLS.sub("", text)


# What one line a reader types (a display name, a label, a question) may not hold: controls (tab and line breaks
# included), invisible formatting (bidirectional overrides and isolates, zero-width spaces, soft hyphens),
# surrogates, private-use characters and line or paragraph separators. The zero-width joiner and non-joiner stay:
# emoji sequences and Persian and Indic scripts need them.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_JOINERS = frozenset({"\u200c", "\u200d"})


def has_hidden_characters(text: str) -> bool:
    """Whether `text`, one line typed by a reader and shown to others, holds a character that is invisible or
    rearranges the text around it (see _HIDDEN_CATEGORIES): refuse it, saying so, rather than store it."""
    return any(unicodedata.category(c) in _HIDDEN_CATEGORIES and c not in _JOINERS for c in text)


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


_LANGUAGE_TAG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$", re.I)


def primary_language(tag: str) -> str:
    """A language tag's language, without region or script: 'en_US', 'de-DE', 'FR' -> 'en', 'de', 'fr'; ''
    when `tag` is not a language tag."""
    match = _LANGUAGE_TAG.match(tag.strip())
    return match.group(1).lower() if match else ""
