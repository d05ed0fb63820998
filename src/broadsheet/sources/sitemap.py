"""XML sitemaps: urlset (with Google News and image extensions) and sitemap index, read with lxml.

Owns mapping <url> and <sitemap> elements onto Feed; not fetching child sitemaps, which is the crawler's job.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from broadsheet.errors import FeedError
from broadsheet.models import Feed, FeedEntry, SourceKind

from .normalize import absolute_url, clean_text, dedupe_tags, parse_datetime

__all__ = ["parse_sitemap", "safe_xml_parser"]


def safe_xml_parser(*, recover: bool = False) -> Any:
    """An lxml parser that never expands entities, never fetches a DTD or anything else, caps tree depth."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def _local(element: Any) -> str:
    """Tag name without namespace: sitemaps come with 0.9, 0.84 or no namespace, and all mean the same."""
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _text(element: Any) -> str:
    return str(element.text or "").strip()


def _parse_root(content: bytes, url: str) -> Any:
    try:
        return etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        strict_error = exc
    # A sitemap cut off mid-download still lists thousands of good URLs: keep what lxml can recover.
    root = etree.fromstring(content, safe_xml_parser(recover=True))
    if root is None or not any(True for _ in root.iterchildren()):
        raise FeedError(
            f"the sitemap at {url} is malformed XML and nothing could be recovered (line "
            f"{strict_error.lineno}: {strict_error.msg}); check the URL, or ask the publisher to fix it"
        )
    return root


def parse_sitemap(content: bytes, url: str) -> Feed:
    """Parse a urlset or sitemapindex document. The caller has already checked it declares no entities."""
    root = _parse_root(content, url)
    if _local(root) == "sitemapindex":
        children = (absolute_url(_text(loc), url) for sm in root for loc in sm if _local(loc) == "loc")
        return Feed(
            kind=SourceKind.SITEMAP,
            format="sitemapindex",
            sitemaps=tuple(dict.fromkeys(c for c in children if c)),
        )
    entries: list[FeedEntry] = []
    publication = ""
    publication_lang = ""
    is_news = False
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
        link = absolute_url(fields.get("loc", ""), url)
        if not link:
            continue
        publication = publication or fields.get("name", "")
        publication_lang = publication_lang or fields.get("language", "")
        entries.append(
            FeedEntry(
                url=link,
                title=clean_text(fields.get("title", "")),
                published=parse_datetime(fields.get("publication_date", "")),
                updated=parse_datetime(fields.get("lastmod", "")),
                image=absolute_url(fields.get("image", ""), url),
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
    )
