"""Finding the main content in a parsed page with trafilatura, and rendering that body as plain paragraphs.

Owns the trafilatura call and its settings; boilerplate rules are `clean.py`, HTML output is `html.py`.
"""

from __future__ import annotations

import unicodedata
from copy import deepcopy

from lxml import etree
from lxml.html import HtmlElement, fromstring
from trafilatura import bare_extraction
from trafilatura.settings import Extractor
from trafilatura.xml import xmltotxt

__all__ = ["body_from_text", "body_paragraphs", "find_body", "remove_element"]


def _options() -> Extractor:
    # Comments off: reader comments are not the article (F1 +0.005 on extraction-dev), and skipping them is faster.
    # Links on for the HTML output (no cost in F1); the text rendering below drops their targets again.
    # Formatting and images off: with formatting trafilatura drops some bold-led article starts (F1 -0.001), with
    # images it keeps captions, credits and thumbnail teasers (F1 -0.008), both measured on extraction-dev.
    return Extractor(
        output_format="txt",
        comments=False,
        formatting=False,
        links=True,
        images=False,
        tables=True,
        # No URL on purpose: trafilatura would resolve every <a> of the whole page against it (a tenth of its
        # run time); html.py resolves only the links that end up in the article.
        url=None,
    )


def find_body(tree: HtmlElement) -> etree._Element | None:
    """trafilatura's main-content tree for the page (it works on its own copy), or None when it finds none."""
    document = bare_extraction(tree, options=_options())
    if document is None or isinstance(document, dict):
        return None
    body: etree._Element | None = document.body
    return body


def body_from_text(text: str) -> etree._Element:
    """A body tree like trafilatura's from plain text (e.g. JSON-LD articleBody): one <p> per line."""
    if "<" in text and ">" in text:
        # Some publishers put HTML into articleBody; only its text is wanted here.
        text = "\n".join(fromstring(f"<div>{text}</div>").itertext())
    body = etree.Element("body")
    for line in text.splitlines():
        if line := line.strip():
            etree.SubElement(body, "p").text = line
    return body


def remove_element(elem: etree._Element) -> None:
    """Remove an element from its tree but keep the text that follows it (its tail)."""
    parent = elem.getparent()
    if parent is None:
        return
    if elem.tail:
        previous = elem.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + elem.tail
        else:
            parent.text = (parent.text or "") + elem.tail
    parent.remove(elem)


def body_paragraphs(body: etree._Element) -> list[str]:
    """The body as plain-text paragraphs: no link targets, no image markup, no emphasis marks."""
    plain = deepcopy(body)
    for graphic in list(plain.iter("graphic")):
        remove_element(graphic)
    etree.strip_tags(plain, "ref", "hi")
    # NFC: the same letter may arrive composed or decomposed; search, dedupe and comparisons need one form.
    text = unicodedata.normalize("NFC", xmltotxt(plain, False))
    return [line for raw in text.split("\n") if (line := raw.strip())]
