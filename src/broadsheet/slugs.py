"""URL slugs for outlets and tags: `slugify` turns a display name into a stable lowercase path segment.

Pure text work only; where slugs are stored and looked up is the store's business.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["slugify"]

MAX_LENGTH = 80

# Latin letters that Unicode does not decompose into a base letter plus accents.
_LATIN_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ł": "l",
        "Ł": "l",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
# Apostrophes join a word rather than split it: "O'Brien" is "obrien", not "o-brien".
_APOSTROPHES = re.compile(r"['’ʼ`]")
_DASHES = re.compile(r"-+")


def _fold(text: str) -> str:
    """Accents off Latin letters only: in other scripts (Devanagari vowel signs, ...) marks are part of
    the letter, and dropping them would change the word."""
    out: list[str] = []
    previous_ascii = False
    for ch in unicodedata.normalize("NFKD", text.translate(_LATIN_EXTRA)):
        if unicodedata.combining(ch) and previous_ascii:
            continue
        out.append(ch)
        previous_ascii = ch.isascii() and ch.isalpha()
    return unicodedata.normalize("NFC", "".join(out))


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LNM"


def slugify(text: str) -> str:
    """A lowercase slug: "BBC News" -> "bbc-news", "Café & Bar" -> "cafe-bar", "Новости" -> "новости".

    Never empty: a name with no letters or digits at all gets a short hash of itself ("h-1f2e3d4c"),
    so the same name always gets the same slug."""
    folded = _fold(_APOSTROPHES.sub("", text)).lower()
    slug = _DASHES.sub("-", "".join(ch if _is_word_char(ch) else "-" for ch in folded)).strip("-")
    if len(slug) > MAX_LENGTH:
        cut = slug[:MAX_LENGTH]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut).strip("-")
    if slug:
        return slug
    return "h-" + hashlib.blake2b(text.encode("utf-8"), digest_size=4).hexdigest()
