"""OPML 1.0/2.0 subscription lists: reading them into Outlines and writing them back out.

Owns the outline tree and its folder paths; not fetching or validating the feeds the outlines point at.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

from lxml import etree

from broadsheet.errors import FeedError
from broadsheet.models import Outline
from broadsheet.text import collapse_whitespace
from broadsheet.urls import absolute_url

from .xmlparse import safe_xml_parser
from .xmlsafety import ensure_safe_xml, read_prolog

__all__ = ["parse_opml", "write_opml"]

# Readers write type="rss" for every feed, Atom included; an outline with an xmlUrl but no type is a feed in
# OPML 1.0 exports. Other types ("link", "include") point at pages or other OPML files.
_FEED_TYPES = frozenset({"", "rss", "atom"})
# XML 1.0 forbids these control characters even when escaped; a title pasted from elsewhere may carry them.
_XML_INVALID = {c: None for c in range(0x20) if chr(c) not in "\t\n\r"}


def parse_opml(content: bytes) -> list[Outline]:
    """Feeds listed in an OPML file, in document order, each once, with "Parent/Child" folder paths."""
    prolog = read_prolog(content)
    ensure_safe_xml(prolog)
    try:
        root = etree.fromstring(content, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        raise FeedError(
            f"the OPML file is not valid XML (line {exc.lineno}: {exc.msg}); fix that line or export the "
            "subscriptions again from your feed reader"
        ) from exc
    if str(root.tag).lower() != "opml":
        raise FeedError(
            f"the file is XML but not OPML (its root element is <{root.tag}>); export your subscriptions as "
            "OPML from your feed reader"
        )
    body = next((child for child in root if child.tag == "body"), None)
    if body is None:
        return []
    seen: set[str] = set()
    outlines: list[Outline] = []
    for outline in _walk(body, ""):
        if outline.url not in seen:
            seen.add(outline.url)
            outlines.append(outline)
    return outlines


def _walk(parent: Any, folder: str) -> Iterator[Outline]:
    for node in parent:
        if node.tag != "outline":
            continue
        # Attribute values are plain text once the XML parser has decoded them: only whitespace needs tidying.
        name = collapse_whitespace(node.get("title") or node.get("text") or "")
        url = absolute_url("", node.get("xmlUrl") or node.get("xmlurl"))
        if name == url:
            name = ""  # exporters fill text= with the URL when they know no title; that is not a title
        if url and (node.get("type") or "").strip().lower() in _FEED_TYPES:
            yield Outline(
                url=url,
                title=name,
                site_url=absolute_url("", node.get("htmlUrl") or node.get("htmlurl")),
                folder=folder,
                language=collapse_whitespace(node.get("language") or "")[:16],
            )
            # Some exporters nest items under a feed; they belong to the same folder, not a new one.
            yield from _walk(node, folder)
        elif not node.get("xmlUrl"):
            yield from _walk(node, f"{folder}/{name}" if folder and name else folder or name)


def write_opml(
    outlines: Sequence[Outline], title: str = "broadsheet subscriptions", now: datetime | None = None
) -> str:
    """An OPML 2.0 document listing `outlines`, folders as nested outlines; `parse_opml` reads it back."""
    created = now or datetime.now(UTC)
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    opml = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(opml, "head")
    ElementTree.SubElement(head, "title").text = _xml_text(title)
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(created.astimezone(UTC), usegmt=True)
    body = ElementTree.SubElement(opml, "body")
    folders: dict[str, ElementTree.Element] = {"": body}
    for outline in outlines:
        # OPML 2.0 requires text=; the URL stands in when there is no title, and parse_opml drops it again.
        attrs = {"type": "rss", "text": outline.title or outline.url}
        if outline.title:
            attrs["title"] = outline.title
        attrs["xmlUrl"] = outline.url
        if outline.site_url:
            attrs["htmlUrl"] = outline.site_url
        clean = {key: _xml_text(value) for key, value in attrs.items()}
        ElementTree.SubElement(_folder(folders, outline.folder), "outline", clean)
    ElementTree.indent(opml, space="  ")
    xml = ElementTree.tostring(opml, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n"


def _folder(folders: dict[str, ElementTree.Element], path: str) -> ElementTree.Element:
    """The outline for folder `path` ("News/World"), created with its parents on first sight."""
    path = "/".join(part for part in path.split("/") if part.strip())
    if path in folders:
        return folders[path]
    parent_path, _, name = path.rpartition("/")
    element = ElementTree.SubElement(
        _folder(folders, parent_path), "outline", {"text": _xml_text(name), "title": _xml_text(name)}
    )
    folders[path] = element
    return element


def _xml_text(value: str) -> str:
    return value.translate(_XML_INVALID)
