"""Article metadata from one parsed page: JSON-LD first, then OpenGraph and other meta tags, then the markup.

Owns where each field comes from and in which order; value cleaning is in `values.py`, the body text elsewhere.
The genre is what the markup declares, nothing guessed: the JSON-LD article's type (`GENRE_TYPES`), a critic's
Review node, else `<meta property="article:opinion" content="true">` (Facebook's article tag, which Arc, NYT and
McClatchy pages carry); reading URLs, sections and headlines for it is `enrich/kind.py`'s job.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml.html import HtmlElement

from broadsheet.dates import parse_date
from broadsheet.extract.jsonld import JsonLd, read_jsonld
from broadsheet.extract.values import clean_authors, clean_tags, normalise_lang, plain
from broadsheet.urls import absolute_url, host_of

__all__ = ["PageMeta", "read_metadata"]

_PUBLISHED_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "og:published_time",
)
_UPDATED_KEYS = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
)
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl")
_TAG_KEYS = ("article:tag", "news_keywords", "keywords", "parsely-tags")


@dataclass(slots=True)
class PageMeta:
    """Metadata found outside the article body; empty values mean "not found"."""

    title: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    updated: datetime | None = None
    site_name: str = ""
    image: str = ""
    image_alt: str = ""
    lang: str = ""
    canonical_url: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    base_url: str = ""
    article_body: str = ""  # JSON-LD articleBody: a fallback for pages whose markup hides the text
    icon: str = ""
    section: str = ""  # the publisher's: JSON-LD articleSection (the first of a list), else article:section
    genre: str = ""  # "opinion", "analysis", "live", "review", or "" when the markup says nothing (or news)


def _meta_tags(tree: HtmlElement) -> tuple[dict[str, list[str]], dict[str, str]]:
    """All <meta> values keyed by lowercased name/property/itemprop/http-equiv, and the first href per link rel."""
    metas: dict[str, list[str]] = defaultdict(list)
    links: dict[str, str] = {}
    for elem in tree.iter("meta", "link"):
        if elem.tag == "link":
            href = (elem.get("href") or "").strip()
            for rel in (elem.get("rel") or "").lower().split():
                if href and rel not in links:
                    links[rel] = href
            continue
        content = elem.get("content") or elem.get("datetime") or ""
        if not content.strip():
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = elem.get(attr)
            if key:
                metas[key.strip().lower()].append(content)
    return metas, links


def _first(metas: dict[str, list[str]], keys: tuple[str, ...]) -> str:
    for key in keys:
        for value in metas.get(key, ()):
            if text := plain(value):
                return text
    return ""


def _name_of(value: Any) -> str:
    if isinstance(value, dict):
        return plain(value.get("name"))
    return plain(value)


def _names(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [name for v in values if (name := _name_of(v))]


def _image_url(value: Any) -> str:
    """URL of a schema.org image value: a string, an ImageObject, or a list of either."""
    if isinstance(value, list):
        return _image_url(value[0]) if value else ""
    if isinstance(value, dict):
        return plain(value.get("url") or value.get("contentUrl"))
    return plain(value)


def _title_from_markup(tree: HtmlElement, site_name: str) -> str:
    """The page's <h1> when <title> agrees with it, else <title> without the outlet's name."""
    h1 = tree.find(".//h1")
    heading = plain(h1.text_content()) if h1 is not None else ""
    title_elem = tree.find(".//title")
    title = plain(title_elem.text_content()) if title_elem is not None else ""
    if heading and (not title or heading in title):
        return heading
    for sep in (" | ", " - ", " – ", " — ", " :: ", " · "):
        if sep in title:
            parts = [part.strip() for part in title.split(sep)]
            # "Headline | Section | Outlet": drop the outlet's part; the headline is then the longest left.
            kept = [part for part in parts if not site_name or site_name.casefold() not in part.casefold()]
            return max(kept or parts, key=len)
    return title or heading


def _first_text(value: Any) -> str:
    """A string value, or the first non-empty string of a list."""
    values = value if isinstance(value, list) else [value]
    return next((text for v in values if (text := plain(v))), "")


def _keywords(value: Any) -> list[str]:
    if isinstance(value, list):
        return [plain(v) for v in value if isinstance(v, str)]
    return [plain(value)] if isinstance(value, str) else []


def read_metadata(tree: HtmlElement, url: str) -> PageMeta:
    """Read every metadata field from the tree, preferring JSON-LD, then OpenGraph/meta tags, then markup."""
    ld: JsonLd = read_jsonld(tree)
    metas, links = _meta_tags(tree)
    base_elem = tree.find(".//base[@href]")
    base = (absolute_url(url, base_elem.get("href")) if base_elem is not None else "") or url

    meta = PageMeta(base_url=base)
    meta.site_name = (
        _first(metas, ("og:site_name",))
        or _name_of(ld.get("publisher"))
        or plain(ld.publisher.get("name"))
        or _first(metas, ("application-name", "al:android:app_name"))
    ).lstrip("@")
    if not meta.site_name:
        # No outlet name anywhere: the host is what a reader would recognise.
        meta.site_name = host_of(url)
    meta.title = (
        plain(ld.get("headline"))
        or _first(metas, ("og:title", "twitter:title", "dc.title", "headline"))
        or _title_from_markup(tree, meta.site_name)
    )
    meta.authors = clean_authors([*_names(ld.get("author")), *metas_values(metas, _AUTHOR_KEYS)])
    if not meta.authors:
        meta.authors = clean_authors(_names(ld.get("creator")))
    meta.published = parse_date(ld.get("datePublished")) or parse_date(_first(metas, _PUBLISHED_KEYS))
    meta.published = meta.published or parse_date(ld.get("dateCreated"))
    meta.updated = parse_date(ld.get("dateModified")) or parse_date(_first(metas, _UPDATED_KEYS))
    if meta.published is None:
        meta.published = _time_element_date(tree)

    image = _image_url(ld.get("image"))
    og_image = _first(
        metas, ("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src")
    )
    meta.image = absolute_url(base, og_image or image or _first(metas, ("image", "thumbnailurl")))
    meta.image_alt = _first(metas, ("og:image:alt", "twitter:image:alt"))

    html = tree if tree.tag == "html" else tree.getroottree().getroot()
    meta.lang = normalise_lang(html.get("lang") or html.get("{http://www.w3.org/XML/1998/namespace}lang"))
    meta.lang = meta.lang or normalise_lang(ld.get("inLanguage"))
    meta.lang = meta.lang or normalise_lang(
        _first(metas, ("og:locale", "content-language", "language", "dc.language"))
    )

    canonical = links.get("canonical") or _first(metas, ("og:url",)) or plain(ld.get("url"))
    meta.canonical_url = absolute_url(base, canonical)
    meta.description = _first(
        metas, ("description", "og:description", "twitter:description", "dc.description")
    )
    meta.description = meta.description or plain(ld.get("description"))
    meta.tags = clean_tags([*metas_values(metas, _TAG_KEYS[:1]), *_keywords(ld.get("keywords"))])
    if not meta.tags:
        meta.tags = clean_tags(metas_values(metas, _TAG_KEYS[1:]))
    meta.icon = site_icon(links, base)
    meta.section = _first_text(ld.get("articleSection")) or _first(metas, ("article:section",))
    meta.genre = ld.genre or ("opinion" if _first(metas, ("article:opinion",)).lower() == "true" else "")
    meta.article_body = (
        ld.article.get("articleBody", "") if isinstance(ld.article.get("articleBody"), str) else ""
    )
    return meta


# Best first: the touch icon is large (180 px) and square; "icon" is often 16 px or an .ico file.
_ICON_RELS = ("apple-touch-icon", "apple-touch-icon-precomposed", "icon")


def site_icon(links: dict[str, str], base: str) -> str:
    """The site's icon from its <link rel> elements: an absolute http(s) URL, or "" (data: URIs and other
    schemes are left out: icons are shown through the image proxy, which fetches http(s) only)."""
    for rel in _ICON_RELS:
        if url := absolute_url(base, links.get(rel, "")):
            return url
    return ""


def metas_values(metas: dict[str, list[str]], keys: tuple[str, ...]) -> list[str]:
    """Every value of the given meta keys, in key order."""
    return [value for key in keys for value in metas.get(key, ())]


def _time_element_date(tree: HtmlElement) -> datetime | None:
    """The first <time datetime> marked as the publication date, else the first <time datetime> in the page."""
    marked = tree.xpath(
        ".//time[@datetime][@itemprop='datePublished' or @pubdate or contains(@class, 'publish')]"
        " | .//*[@itemprop='datePublished'][@content or @datetime]"
    )
    candidates = marked or tree.xpath(".//time[@datetime]")[:1]
    for elem in candidates:
        if date := parse_date(elem.get("datetime") or elem.get("content")):
            return date
    return None
