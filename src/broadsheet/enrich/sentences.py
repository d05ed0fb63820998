"""Sentences of an article's stored text, as exact character spans: what key points and citations point at.

Owns sentence boundaries only (rules, no model); choosing sentences is `keypoints`' job, storing them the store's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Sentence", "split_sentences"]


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: `text == article_text[start:end]`, character for character; `index` counts from 0."""

    index: int
    start: int
    end: int
    text: str


# Abbreviations that a name or a word always follows: a full stop after them never ends a sentence.
_JOINED = frozenset((
    "mr", "mrs", "ms", "mx", "dr", "prof", "rev", "fr", "sra", "srta", "gen", "lt", "col", "capt", "cpt",
    "sgt", "maj", "cmdr", "adm", "gov", "sen", "rep", "pres", "supt", "insp", "det", "st", "mt", "ft", "vs",
    "v", "ca", "cf", "approx", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
))  # fmt: skip
# Abbreviations that a number follows ("No. 10", "Fig. 3"); elsewhere they are words ("she said no.").
_BEFORE_NUMBER = frozenset(["no", "nos", "nr", "vol", "fig", "figs", "pp", "p", "art", "ch", "para"])
# Abbreviations that often end a sentence too ("... bought by Acme Inc. The deal"): the stop ends one only
# when a word that typically opens a sentence follows. Dotted initialisms ("U.S.", "a.m.") go the same way.
_MAYBE_FINAL = frozenset(["inc", "ltd", "co", "corp", "plc", "llc", "jr", "sr", "bros", "etc", "al"])
_OPENERS = frozenset((
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "you", "his", "her", "its", "their", "our", "my",
    "this", "that", "these", "those", "there", "here", "but", "and", "so", "yet", "or", "in", "on", "at",
    "by", "for", "from", "after", "before", "when", "while", "as", "if", "although", "though", "since",
    "until", "however", "meanwhile", "still", "now", "then", "also", "some", "many", "most", "several", "one",
    "two", "three", "police", "officials", "authorities", "critics", "others", "what", "who", "why", "how",
))  # fmt: skip

_TERMINAL = re.compile(
    r"""(?:[.!?…]+)["'”’»)\]]*(?=\s)   # Western scripts: marks, closing quotes or brackets, then a space
      | [。！？]+[」』”’）]*             # CJK stops need no space after them
    """,
    re.VERBOSE,
)
_OPENING_MARKS = "\"'“‘«([¿¡"
_BULLETS = "•*–—-·"
_DOTTED = re.compile(r"(?:[A-Za-z]\.){2,}")  # "U.S.", "e.g.", "a.m."
_AGENCIES = (
    r"CNN|AP|AFP|Reuters|UPI|dpa|DPA|EFE|ANSA|Bloomberg|Xinhua|PTI|IANS|ANI|TASS|Yonhap|Kyodo|PA|EW\.com"
)
# A dateline at the start of a paragraph: "(CNN)", "Marseille, France (CNN) -- ", "WASHINGTON (AP) —",
# "PARIS -- ". Its place-name words are capitalised, so an opening sentence is not mistaken for one.
_DATELINE = re.compile(
    rf"""(?:[A-Z][\w.'’-]*,?\s){{0,4}}\((?:{_AGENCIES})\)\s*(?:--|[—–]|-\s)?\s*
      | [A-Z][A-Z.'’]+(?:,?\s[A-Z][\w.'’]*){{0,3}}\s(?:--|[—–])\s+
    """,
    re.VERBOSE,
)
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_LINE_BREAK = re.compile(r"\n\s*")


def split_sentences(text: str) -> list[Sentence]:
    """`text` cut into sentences. A blank line (a paragraph break) always ends one, a single line break ends
    one when the next line opens like a sentence, and a leading dateline ("(CNN) --") is a sentence of its own."""
    spans: list[tuple[int, int]] = []
    for start, end in _blocks(text):
        dateline = _DATELINE.match(text, start, end)
        if dateline and _opens_sentence(text, dateline.end(), end):
            spans.append((start, dateline.end()))
            start = dateline.end()
        spans.extend(_split_block(text, start, end))
    sentences: list[Sentence] = []
    for first, last in spans:
        while first < last and text[first].isspace():
            first += 1
        while last > first and text[last - 1].isspace():
            last -= 1
        if first < last:
            sentences.append(Sentence(len(sentences), first, last, text[first:last]))
    return sentences


def _blocks(text: str) -> list[tuple[int, int]]:
    """Spans of `text` between hard breaks: paragraph breaks, and line breaks before a line that opens like a
    sentence (a heading, a list item, a new line of a poem)."""
    blocks = []
    start = 0
    for found in _LINE_BREAK.finditer(text):
        paragraph = _PARAGRAPH_BREAK.match(text, found.start()) is not None
        item = text.startswith(tuple(_BULLETS), found.end())
        if paragraph or item or _opens_sentence(text, found.end(), len(text)):
            blocks.append((start, found.start()))
            start = found.end()
    blocks.append((start, len(text)))
    return blocks


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for match in _TERMINAL.finditer(text, start, end):
        cut = match.end()
        if _ends_sentence(text, match.start(), cut, end):
            spans.append((start, cut))
            start = cut
    spans.append((start, end))
    return spans


def _opens_sentence(text: str, at: int, end: int) -> bool:
    """Whether the text from `at` (spaces skipped) opens like a sentence: a capital, a digit or a letter of
    a script without case, perhaps after opening quotes or brackets."""
    while at < end and (text[at].isspace() or text[at] in _OPENING_MARKS):
        at += 1
    if at >= end:
        return False
    char = text[at]
    return char.isdigit() or char.isupper() or (char.isalpha() and not char.islower())


def _ends_sentence(text: str, stop: int, cut: int, end: int) -> bool:
    """Whether the stop at `text[stop:cut]` ends a sentence, judged by the words on either side of it."""
    if text[stop] in "。！？":
        return cut < end
    if not _opens_sentence(text, cut, end):
        return False
    if text[stop] != "." or text.startswith("..", stop):
        return True  # "!", "?", an ellipsis
    window = text[max(0, stop - 40) : stop].split()
    word = window[-1].lstrip(_OPENING_MARKS) if window and not text[stop - 1].isspace() else ""
    bare = word.lower()
    following = text[cut : min(end, cut + 80)].split(maxsplit=1)
    after = following[0].strip(_OPENING_MARKS + ",;:") if following else ""
    if bare in _JOINED or (len(word) == 1 and word.isupper()):  # "Mr.", "George W. Bush"
        return False
    if bare in _BEFORE_NUMBER:
        return not after[:1].isdigit()
    if bare in _MAYBE_FINAL or _DOTTED.fullmatch(word + "."):
        return after.lower() in _OPENERS
    return True
