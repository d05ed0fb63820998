"""The article body as sanitised minimal HTML: trafilatura's XML body converted, links made absolute, sanitised.

Owns the HTML rendering and its allowlist; which blocks belong to the article is decided before this step.
"""

from __future__ import annotations

from copy import deepcopy

from lxml import etree
from trafilatura.htmlprocessing import convert_to_html

from broadsheet.extract.body import remove_element
from broadsheet.extract.sanitize import LINK_SCHEMES, sanitize_html
from broadsheet.urls import absolute_url

__all__ = ["body_to_html"]

# Heading levels outside h2-h4 are mapped in: h1 is the page title (kept apart), h5/h6 read as h4.
_HEADINGS = {"h1": "h2", "h5": "h4", "h6": "h4"}


def body_to_html(body: etree._Element, base_url: str) -> str:
    """Render trafilatura's body tree (p, head, list, quote, graphic, ref, hi, ...) as sanitised HTML."""
    root = convert_to_html(deepcopy(body))
    for elem in list(root.iter("h1", "h5", "h6", "a", "img")):
        if elem.tag in _HEADINGS:
            elem.tag = _HEADINGS[str(elem.tag)]
        elif elem.tag == "a":
            href = absolute_url(base_url, elem.get("href"), schemes=LINK_SCHEMES)
            if href:
                elem.set("href", href)
            else:
                elem.attrib.pop("href", None)
        else:
            src = absolute_url(base_url, elem.get("src"))
            if src:
                elem.set("src", src)
            else:
                remove_element(elem)
    html_body = root.find("body")
    if html_body is None:
        return ""
    inner = "".join(etree.tostring(child, encoding="unicode", method="html") for child in html_body)
    return sanitize_html((html_body.text or "") + inner, base_url)
