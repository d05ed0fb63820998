"""Recovering the article's lead (standfirst): the visible paragraph that repeats the page's description.

Main-content extractors often start at the body container and miss the lead set above it in the article header.
Owns only the lead; the description itself is read in `metadata.py`.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml.html import HtmlElement

from broadsheet.text import collapse_whitespace

__all__ = ["add_lead", "find_lead"]

_SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "textarea", "title", "meta", "option", "select"}
)
_INLINE = frozenset({"a", "span", "strong", "b", "em", "i", "small", "mark", "font", "u", "time"})
# A description shorter than this is a tagline, not a lead; a block longer than this is a container, not a lead.
_MIN_LEAD, _MAX_LEAD = 30, 1500
_PREFIX = 40
_TRAILING_DOTS_RE = re.compile(r"[.…\s]+$")  # a description cut short ends in "..." the page does not have


def find_lead(tree: HtmlElement, description: str, text: str) -> str:
    """The page's visible lead paragraph when it starts like `description` and is missing from `text`; else ""."""
    prefix = _TRAILING_DOTS_RE.sub("", collapse_whitespace(description))[:_PREFIX]
    if len(prefix) < _MIN_LEAD or prefix in collapse_whitespace(text):
        return ""
    body = tree.find("body")
    if body is None:
        return ""
    for elem in body.iter():
        if not isinstance(elem.tag, str) or elem.tag in _SKIPPED or not elem.text:
            continue
        if prefix in collapse_whitespace(elem.text):
            while elem.tag in _INLINE and elem.getparent() is not None:
                elem = elem.getparent()  # the whole paragraph, not the link or span that starts it
            lead = collapse_whitespace(elem.text_content())
            return lead if _MIN_LEAD <= len(lead) <= _MAX_LEAD else ""
    return ""


# Class names publishers give the lead paragraph ("article__intro", "teaser-text", "p.lead", "chapo", "dek").
_LEAD_CLASS_XPATH = etree.XPath(
    "following::*[re:test(@class, '(^|[ _-])([Ll]ead|[Ii]ntro|[Tt]easer-?[Tt]ext|[Ee]xcerpt|[Cc]hapo|[Ss]tandfirst|"
    "[Ss]ub-?[Hh]eadline|[Ss]ummary|[Pp]reface|[Aa]bstract|[Dd]ek|[Dd]eck)([ _-]|[A-Z]|$)')][1]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
# Lead-like classes inside these are captions, author boxes and widgets, not the article's lead.
_NOT_LEAD_RE = re.compile(r"author|bio\b|comment|rating|caption|credit|newsletter|related|share|meta", re.I)
# A "lead" that ends in a "more" link is a teaser for another page.
_TEASER_END_RE = re.compile(r"(?:mehr|more|plus|más|weiterlesen|read\s+more|lire\s+la\s+suite)\W*$", re.I)
# The lead sits next to the headline: within this many levels of the <h1>'s ancestors.
_LEAD_DISTANCE = 4


def find_marked_lead(tree: HtmlElement, text: str) -> str:
    """The first element after the page's <h1> with a lead-like class, near it and missing from `text`; else ""."""
    h1 = tree.find(".//h1")
    if h1 is None:
        return ""
    found = _LEAD_CLASS_XPATH(h1)
    if not found:
        return ""
    candidate = found[0]
    if _NOT_LEAD_RE.search(" ".join(a.get("class", "") for a in (candidate, *candidate.iterancestors()))):
        return ""
    if any(a.tag in ("figure", "figcaption", "aside", "footer", "nav") for a in candidate.iterancestors()):
        return ""
    scope = [ancestor for _, ancestor in zip(range(_LEAD_DISTANCE), h1.iterancestors(), strict=False)]
    if scope and not any(ancestor is scope[-1] for ancestor in candidate.iterancestors()):
        return ""
    lead = collapse_whitespace(candidate.text_content())
    if (
        not _MIN_LEAD <= len(lead) <= _MAX_LEAD
        or lead[:_PREFIX] in collapse_whitespace(text)
        or _TEASER_END_RE.search(lead)
    ):
        return ""
    return lead


def add_lead(body: etree._Element, lead: str) -> None:
    """Put the lead in front of the extracted body, as its first paragraph."""
    paragraph = etree.Element("p")
    paragraph.text = lead
    body.insert(0, paragraph)
