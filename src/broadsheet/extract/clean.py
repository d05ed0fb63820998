"""Boilerplate removal on trafilatura's extracted body: bylines, "read also" and related-story blocks,
newsletter, paywall and comment prompts, image credits, date-only lines and navigation leftovers.

Owns the rules and their order; the phrase lists are in `phrases.py`. Works on the body tree, so text and HTML agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from broadsheet.extract import phrases
from broadsheet.extract.body import remove_element
from broadsheet.text import collapse_whitespace

__all__ = ["BLOCK_RULES", "clean_body", "is_boilerplate"]

_BLOCK_TAGS = ("p", "head", "quote")
# Teasers after a "related" heading are short lines or lists; a long paragraph means the article goes on.
_TEASER_MAX_CHARS = 160
# No rule condemns a block longer than this; longer paragraphs are article text.
_LONGEST_RULED_BLOCK = 300


def _text(elem: etree._Element) -> str:
    return collapse_whitespace("".join(elem.itertext()))


def _link_share(elem: etree._Element, text: str) -> float:
    linked = sum(len(collapse_whitespace("".join(ref.itertext()))) for ref in elem.iter("ref"))
    return linked / len(text) if text else 0.0


def is_byline(text: str) -> bool:
    return len(text) <= 100 and phrases.BYLINE_RE.match(text) is not None


def is_read_also(text: str) -> bool:
    return len(text) <= 250 and phrases.READ_ALSO_RE.match(text) is not None


def is_prompt(text: str) -> bool:
    """Newsletter, subscription, paywall, donation, comment and social prompts."""
    return len(text) <= 300 and phrases.PROMPTS.search(text)


def is_credit(text: str) -> bool:
    return len(text) <= 160 and phrases.CREDITS.search(text)


def is_date_line(text: str) -> bool:
    """A line that is only a date or time, maybe with a label ("Updated 3 March 2026, 10:02")."""
    if len(text) > 70 or not phrases.DATE_RE.search(text):
        return False
    rest = phrases.DATE_RE.sub(" ", text)
    rest = phrases.DATE_LABEL_RE.sub(" ", rest)
    return re.search(r"\w{2,}", rest) is None


def is_navigation(text: str) -> bool:
    return len(text) <= 60 and phrases.NAVIGATION_RE.match(text) is not None


def is_related_heading(text: str) -> bool:
    """A heading over teasers for other stories; `clean_body` removes the teasers after it too."""
    return len(text) <= 80 and phrases.RELATED_RE.match(text) is not None


#: Block rules by name, applied to every paragraph, heading and quote of the body; each removes the whole block.
BLOCK_RULES: dict[str, Callable[[str], bool]] = {
    "related": is_related_heading,
    "byline": is_byline,
    "read-also": is_read_also,
    "prompt": is_prompt,
    "credit": is_credit,
    "date-line": is_date_line,
    "navigation": is_navigation,
}


def is_boilerplate(text: str) -> bool:
    """Whether any block rule condemns this text (for text added after cleaning, such as a recovered lead)."""
    return len(text) <= _LONGEST_RULED_BLOCK and any(rule(text) for rule in BLOCK_RULES.values())


def _remove_related_section(marker: etree._Element) -> None:
    """Remove a "Related stories" heading and the teaser lines and lists that follow it."""
    sibling = marker.getnext()
    while sibling is not None:
        text = _text(sibling)
        teaser = (
            sibling.tag in ("list", "head", "table")
            or len(text) <= _TEASER_MAX_CHARS
            or _link_share(sibling, text) > 0.5
        )
        if not teaser:
            break
        following = sibling.getnext()
        remove_element(sibling)
        sibling = following
    remove_element(marker)


def _is_title(text: str, title: str) -> bool:
    return bool(title) and text.casefold().strip(" .") == title.casefold().strip(" .")


def clean_body(
    body: etree._Element, title: str, rules: dict[str, Callable[[str], bool]] | None = None
) -> None:
    """Remove boilerplate blocks from trafilatura's body tree, in place. `rules` defaults to BLOCK_RULES."""
    active = BLOCK_RULES if rules is None else rules
    checks = [rule for name, rule in active.items() if name != "related"]
    cut_sections = False
    for index, elem in enumerate(list(body.iter(*_BLOCK_TAGS))):
        if cut_sections and not _attached(elem, body):
            continue  # went with a related section removed before
        raw = "".join(elem.itertext())
        if len(raw) > _LONGEST_RULED_BLOCK * 2:
            continue  # every rule is for short blocks: skip the cost of normalising long paragraphs
        text = collapse_whitespace(raw)
        if index == 0 and _is_title(text, title):
            remove_element(elem)  # the headline is kept apart, in Extracted.title
        elif "related" in active and is_related_heading(text):
            _remove_related_section(elem)
            cut_sections = True
        elif len(text) <= _LONGEST_RULED_BLOCK and any(rule(text) for rule in checks):
            remove_element(elem)


def _attached(elem: etree._Element, body: etree._Element) -> bool:
    return any(ancestor is body for ancestor in elem.iterancestors())
