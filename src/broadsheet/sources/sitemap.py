"""XML sitemaps: urlset (with Google News and image extensions) and sitemap index, read with lxml.

Owns mapping <url> and <sitemap> elements onto Feed; not fetching child sitemaps, which is the crawler's job.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from broadsheet.dates import parse_date
from broadsheet.errors import FeedError
from broadsheet.models import Feed, FeedEntry, SourceKind
from broadsheet.text import clean_text
from broadsheet.urls import absolute_url

from .normalize import dedupe_tags
from .xmlparse import describe_xml_error, safe_xml_parser

__all__ = ["parse_sitemap"]


def _local(element: Any) -> str:
    """Tag name without namespace: sitemaps come with 0.9, 0.84 or no namespace, and all mean the same."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: Any) -> str:
    return str(element.text or "").strip()


def _parse_root(content: bytes, url: str) -> tuple[Any, str]:
    """The root element, and what was wrong with the document ('' when nothing was)."""
    try:
        return etree.fromstring(content, safe_xml_parser()), ""
    except etree.XMLSyntaxError as exc:
        problem = describe_xml_error(exc)
    # A sitemap cut off mid-download still lists thousands of good URLs: keep what lxml can recover.
    root = etree.fromstring(content, safe_xml_parser(recover=True))
    if root is None or not any(True for _ in root.iterchildren()):
        raise FeedError(
            f"not a valid sitemap: {problem}; nothing could be read from it at {url}. Check the URL, or ask "
            "the publisher to fix it"
        )
    return root, problem


def parse_sitemap(content: bytes, url: str) -> Feed:
    """Parse a urlset or sitemapindex document. The caller has already checked it declares no entities."""
    root, problems = _parse_root(content, url)
    if _local(root) == "sitemapindex":
        children = (absolute_url(url, _text(loc)) for sm in root for loc in sm if _local(loc) == "loc")
        return Feed(
            kind=SourceKind.SITEMAP,
            format="sitemapindex",
            sitemaps=tuple(dict.fromkeys(c for c in children if c)),
            problems=problems,
        )
    entries: list[FeedEntry] = []
    publication = ""
    publication_lang = ""
    is_news = False
    skipped = 0
    for node in root:
        if _local(node) != "url":
            continue
        fields: dict[str, str] = {}
        keywords = ""
        for child in node:
            name = _local(child)
            if name in ("loc", "lastmod") and name not in fields:
                fields[name] = _text(child)
            elif name == "image" and "image" not in fields:
                fields["image"] = next((_text(el) for el in child if _local(el) == "loc"), "")
            elif name == "news":
                is_news = True
                for part in child.iter():
                    part_name = _local(part)
                    if part_name in ("title", "publication_date", "name", "language"):
                        fields.setdefault(part_name, _text(part))
                    elif part_name == "keywords":
                        keywords = _text(part)
        link = absolute_url(url, fields.get("loc", ""))
        if not link:
            skipped += 1
            continue
        publication = publication or fields.get("name", "")
        publication_lang = publication_lang or fields.get("language", "")
        entries.append(
            FeedEntry(
                url=link,
                title=clean_text(fields.get("title", "")),
                published=parse_date(fields.get("publication_date", "")),
                updated=parse_date(fields.get("lastmod", "")),
                image=absolute_url(url, fields.get("image", "")),
                tags=dedupe_tags(keywords.split(",")) if keywords else (),
                lang=fields.get("language", ""),
            )
        )
    return Feed(
        kind=SourceKind.SITEMAP,
        format="news-sitemap" if is_news else "sitemap",
        title=clean_text(publication),
        lang=publication_lang,
        entries=tuple(entries),
        problems=problems,
        skipped=skipped,
    )
