"""Anchors for cited sentences in an article's body, so each citation marker of the AI panel links to the
sentence it rests on and `:target` highlights it, without JavaScript.

Works on the stored (sanitised) HTML as a string: a cited sentence found whole in one run of text is wrapped
in `<span id="s-N" class="cite">`; one found across inline tags (a link or emphasis inside it) gets an empty
anchor where it starts, so the link still lands on it. A sentence not found at all gets no anchor, and the panel
leaves out the points that cite it: nothing is shown that cannot be traced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

from markupsafe import Markup

__all__ = ["anchor_id", "mark_sentences", "paragraphs_html"]

_TAG_OR_SPACE = r"(?:\s|&nbsp;|&#160;|<[^<>]*>)+"


def anchor_id(sentence: int) -> str:
    return f"s-{sentence}"


def paragraphs_html(text: str) -> str:
    """An article stored without HTML, as paragraphs (its text's blank-line breaks)."""
    return "".join(f"<p>{escape(p.strip(), quote=False)}</p>" for p in text.split("\n\n") if p.strip())


def mark_sentences(html: str, cited: Mapping[int, str]) -> tuple[Markup, frozenset[int]]:
    """`html` with an anchor at each sentence of `cited` (index -> exact text) found in it, and which were."""
    placed: set[int] = set()
    # Later sentences first, so inserting one never moves where an earlier one was found.
    spots: list[tuple[int, int, int, bool]] = []
    taken: list[tuple[int, int]] = []
    for index, sentence in sorted(cited.items()):
        found = _find(html, sentence, taken)
        if found is None:
            continue
        start, end, whole = found
        spots.append((start, end, index, whole))
        taken.append((start, end))
        placed.add(index)
    out = html
    for start, end, index, whole in sorted(spots, reverse=True):
        if whole:
            out = (
                f'{out[:start]}<span id="{anchor_id(index)}" class="cite">{out[start:end]}</span>{out[end:]}'
            )
        else:
            out = f'{out[:start]}<span id="{anchor_id(index)}" class="cite cite-start"></span>{out[start:]}'
    return Markup(out), frozenset(placed)


def _find(html: str, sentence: str, taken: list[tuple[int, int]]) -> tuple[int, int, bool] | None:
    """(start, end, within one run of text) of the first occurrence of `sentence` in `html`'s text, outside
    any tag and any spot already taken; None when it is not there."""
    plain = escape(sentence, quote=False)
    at = html.find(plain)
    while at != -1:
        if _in_text(html, at) and not _overlaps(at, at + len(plain), taken):
            return at, at + len(plain), True
        at = html.find(plain, at + 1)
    words = [re.escape(escape(w, quote=False)) for w in sentence.split()]
    if not words:
        return None
    for match in re.finditer(_TAG_OR_SPACE.join(words), html):
        if _in_text(html, match.start()) and not _overlaps(match.start(), match.end(), taken):
            whole = "<" not in match.group(0)
            return match.start(), match.end(), whole
    return None


def _in_text(html: str, at: int) -> bool:
    """Whether position `at` is in text, not inside a tag (such as an image's alt attribute)."""
    return html.rfind("<", 0, at) <= html.rfind(">", 0, at)


def _overlaps(start: int, end: int, taken: list[tuple[int, int]]) -> bool:
    return any(start < t_end and t_start < end for t_start, t_end in taken)
