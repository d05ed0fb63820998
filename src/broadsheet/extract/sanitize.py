"""Sanitising HTML that did not come through extraction: feed content and imported `html` fields.

Same allowlist as extracted bodies (`html.py`), links made absolute against the article's URL.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import nh3

from broadsheet.extract.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS

__all__ = ["sanitize_html"]

_URL_SCHEMES = {"http", "https", "mailto"}


def _absolute(base_url: str) -> Callable[[str, str, str], str | None]:
    def resolve(element: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src"):
            joined = urljoin(base_url, value.strip())
            scheme = joined.split(":", 1)[0].lower()
            if scheme not in _URL_SCHEMES or (attribute == "src" and scheme == "mailto"):
                return None
            return joined
        return value

    return resolve


def sanitize_html(fragment: str, base_url: str) -> str:
    """`fragment` reduced to the allowlisted tags and attributes: no scripts, styles, event handlers,
    forms, iframes or javascript:/data: URLs; external links get rel="noopener noreferrer nofollow"."""
    return nh3.clean(
        fragment,
        tags=set(ALLOWED_TAGS),
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        attribute_filter=_absolute(base_url),
        link_rel="noopener noreferrer nofollow",
    ).strip()
