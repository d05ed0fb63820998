"""Feed tags: the category and keyword lists of RSS, Atom, JSON Feed and sitemaps as clean, unique labels.

Owns tag lists only; text, dates and URLs have their own modules (`text.py`, `dates.py`, `urls.py`).
"""

from __future__ import annotations

from collections.abc import Iterable

from broadsheet.text import clean_text

__all__ = ["dedupe_tags"]


def dedupe_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Cleaned, non-empty tags in first-seen order, case-insensitively unique."""
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        text = clean_text(tag)
        key = text.casefold()
        if text and key not in seen:
            seen.add(key)
            out.append(text)
    return tuple(out)
