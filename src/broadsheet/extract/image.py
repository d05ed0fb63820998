"""The lead image and its alt text: the declared image (og:image, JSON-LD) matched to an <img>, else the first figure.

Owns image choice only; the image URL candidates themselves come from `metadata.py`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from lxml.html import HtmlElement

from broadsheet.extract.values import clean_alt
from broadsheet.urls import absolute_url

__all__ = ["find_image_alt", "first_figure_image"]

# Lazy-loading scripts keep the real address in data-* attributes and put a placeholder in src.
# In document order, so the first hit is the first figure of the article (or of the main area).
_FIGURE_IMAGES_XPATH = (
    "(.//article//figure//img | .//*[@itemprop='articleBody']//img | .//main//figure//img)[1]"
)
_SRC_ATTRS = ("src", "data-src", "data-lazy-src", "data-original", "data-srcset", "srcset")


def _key(url: str) -> str:
    """Host and path, lowercased: the same file served over http/https or with resize parameters matches."""
    try:
        parts = urlsplit(url)
        return f"{parts.hostname or ''}{parts.path}".lower()
    except ValueError:
        return ""  # a malformed address matches nothing


def _img_keys(img: HtmlElement, base: str) -> set[str]:
    keys: set[str] = set()
    for attr in _SRC_ATTRS:
        value = img.get(attr)
        if not value:
            continue
        # srcset: "a.jpg 480w, b.jpg 800w" lists several candidates of the same picture.
        for candidate in value.split(",") if "srcset" in attr else [value]:
            address = candidate.strip().split(" ")[0]
            if key := _key(absolute_url(base, address)):
                keys.add(key)
    return keys


def find_image_alt(tree: HtmlElement, image_url: str, base: str) -> str:
    """The alt text of the page's <img> showing `image_url`; "" when no such <img> (or no usable alt) exists."""
    if not image_url:
        return ""
    wanted = _key(image_url)
    for img in tree.iter("img"):
        if img.get("alt") and wanted in _img_keys(img, base):
            return clean_alt(img.get("alt"), image_url)
    return ""


def first_figure_image(tree: HtmlElement, base: str) -> tuple[str, str]:
    """URL and alt text of the first figure's image in the article (or in the main area), or ("", "")."""
    for img in tree.xpath(_FIGURE_IMAGES_XPATH):
        for attr in _SRC_ATTRS[:5]:  # not srcset: its first entry is often the smallest rendition
            if src := absolute_url(base, img.get(attr)):
                return src, clean_alt(img.get("alt"), src)
    return "", ""
