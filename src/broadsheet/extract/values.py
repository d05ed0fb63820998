"""Normalising raw metadata values: bylines to author names, language tags, tag lists, alt text.

Owns the string-level cleaning only; where each value is read from is `metadata.py`, dates are `dates.py`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from broadsheet.text import collapse_whitespace, primary_language

__all__ = ["clean_alt", "clean_authors", "clean_tags", "normalise_lang", "plain"]

# "By", "Von", "Par", "Por", "Door", "Av" in front of a byline; not "De"/"Di", which start surnames.
_BY_RE = re.compile(
    r"^\s*(?:written\s+|posted\s+|words\s+)?(?:by|von(?!\s+de[rnm]\b)|par|por|door|av)\s*:?\s+", re.I
)
# Names are joined with commas, "and" in several languages, "&" or "/"; bylines also use "|" before a date.
_JOIN_RE = re.compile(r"\s*(?:,|;|\||/|&|\+|\band\b|\bund\b|\bet\b|\by\b|\be\b|\ben\b|\boch\b)\s*", re.I)
_HANDLE_RE = re.compile(r"\(?@\w{1,30}\)?|\bhttps?://\S+|\S+@\S+\.\w+")
_JOB_WORDS = re.compile(
    r"\b(?:reporter|editor|correspondent|writer|staff|contributor|journalist|columnist|producer|"
    r"photographer|analyst|professor|redakteur(?:in)?|korrespondent(?:in)?|autor(?:in)?|chefredakteur|"
    r"rédact(?:eur|rice)|journaliste|correspondant|updated|aktualisiert|published|veröffentlicht)\b",
    re.I,
)
_DATEISH_RE = re.compile(r"\d")
_FILENAME_RE = re.compile(
    r"^\S+\.(?:jpe?g|png|gif|webp|avif|svg|bmp|tiff?)$|^(?:img|dsc|image)[_-]?\d+$", re.I
)
_PLACEHOLDER_ALTS = {"image", "photo", "picture", "img", "bild", "foto", "lead image", "featured image"}


def plain(value: object) -> str:
    """A metadata value as one trimmed line of text; non-strings give ""."""
    return collapse_whitespace(value) if isinstance(value, str) else ""


def _clean_name(part: str) -> str:
    name = _HANDLE_RE.sub(" ", part)
    name = _BY_RE.sub("", name)
    name = collapse_whitespace(name).strip(" .:-–—()[]\"'")
    words = name.split()
    if not words or len(words) > 5 or len(name) > 60 or _DATEISH_RE.search(name) or _JOB_WORDS.search(name):
        return ""
    return name


def clean_authors(raw: Iterable[str]) -> tuple[str, ...]:
    """Split bylines into names and drop what is not a name: "By", handles, job titles, dates; deduplicated."""
    names: list[str] = []
    seen: set[str] = set()
    for byline in raw:
        text = _BY_RE.sub("", plain(byline))
        if text.startswith(("http://", "https://", "/")):
            continue  # article:author often holds a profile URL, not a name
        for part in _JOIN_RE.split(text):
            name = _clean_name(part)
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                names.append(name)
    return tuple(names)


def clean_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Trim, split comma lists, drop empties and overlong entries, dedupe case-insensitively; order kept."""
    tags: list[str] = []
    seen: set[str] = set()
    for value in raw:
        for part in plain(value).split(","):
            tag = part.strip(" #;")
            if tag and len(tag) <= 80 and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tuple(tags)


def normalise_lang(value: object) -> str:
    """A metadata value's language: 'en_US', 'de-DE', 'FR', 'fr, en' -> 'en', 'de', 'fr', 'fr'; '' when the
    value is not a language tag."""
    return primary_language(plain(value).split(",")[0])


def clean_alt(value: object, image_url: str = "") -> str:
    """Alt text worth showing: not empty, not a placeholder word, not the image's file name."""
    alt = plain(value)
    if not alt or alt.casefold() in _PLACEHOLDER_ALTS or _FILENAME_RE.match(alt):
        return ""
    stem = image_url.rsplit("/", 1)[-1].split("?")[0].rsplit(".", 1)[0]
    if stem and alt.casefold() in (stem.casefold(), stem.replace("-", " ").replace("_", " ").casefold()):
        return ""
    return alt
