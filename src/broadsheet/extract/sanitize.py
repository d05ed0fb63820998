"""The one HTML allowlist and sanitiser: every piece of publisher HTML that is stored passes through here
(extracted bodies, feed content, imported `html` fields).

Allowed: paragraphs, h2-h4, lists, links, quotes, figures and images, tables, inline emphasis. Everything
else goes: scripts, styles, event handlers, forms, iframes, javascript:/data: URLs. Links become absolute
and get rel="noopener noreferrer nofollow".
"""

from __future__ import annotations

from collections.abc import Callable

import nh3

from broadsheet.urls import WEB_SCHEMES, absolute_url

__all__ = ["ALLOWED_ATTRIBUTES", "ALLOWED_TAGS", "LINK_SCHEMES", "sanitize_html"]

ALLOWED_TAGS = frozenset(
    {
        *("p", "h2", "h3", "h4", "ul", "ol", "li", "a", "blockquote", "figure", "img", "figcaption"),
        *("em", "strong", "b", "i", "br", "pre", "code", "sub", "sup"),
        # Tables carry real content (results, prices, schedules); flattened, their cells would run together.
        *("table", "thead", "tbody", "tr", "th", "td"),
    }
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "img": {"src", "alt"}}
LINK_SCHEMES = ("http", "https", "mailto")
IMAGE_SCHEMES = WEB_SCHEMES


def _absolute(base_url: str) -> Callable[[str, str, str], str | None]:
    def resolve(element: str, attribute: str, value: str) -> str | None:
        if attribute == "href":
            return absolute_url(base_url, value, schemes=LINK_SCHEMES) or None
        if attribute == "src":
            return absolute_url(base_url, value, schemes=IMAGE_SCHEMES) or None
        return value

    return resolve


def sanitize_html(fragment: str, base_url: str) -> str:
    """`fragment` reduced to the allowlist, with links and image sources absolute against `base_url`."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(LINK_SCHEMES),
        attribute_filter=_absolute(base_url),
        link_rel="noopener noreferrer nofollow",
    ).strip()
