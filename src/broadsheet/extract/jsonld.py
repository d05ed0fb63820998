"""Reading schema.org JSON-LD blocks: find the article node (in lists and @graph), resolve @id references, and
say what kind of piece the types declare (`GENRE_TYPES`).

Owns JSON handling only; turning the values into clean metadata (dates, names, URLs) is `metadata.py`'s job.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

from lxml.html import HtmlElement

__all__ = ["ARTICLE_TYPES", "GENRE_TYPES", "JsonLd", "read_jsonld"]

log = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "SocialMediaPosting",
        "TechArticle",
        "ScholarlyArticle",
        "Report",
        "SatiricalArticle",
    }
)
# The schema.org types that say what a piece is, best first when a node has several. ReportageNewsArticle and
# AskPublicNewsArticle are news, so they give no genre; an explainer (BackgroundNewsArticle) is context, not a
# report, and is counted with analysis. Review/CriticReview count only with an itemReviewed: news sites put that
# node beside the NewsArticle of a critic's review.
GENRE_TYPES: dict[str, str] = {
    "LiveBlogPosting": "live",
    "ReviewNewsArticle": "review",
    "Review": "review",
    "CriticReview": "review",
    "OpinionNewsArticle": "opinion",
    "AnalysisNewsArticle": "analysis",
    "BackgroundNewsArticle": "analysis",
}
_REVIEW_TYPES = frozenset({"Review", "CriticReview"})
_PAGE_TYPES = frozenset({"WebPage", "ItemPage", "AboutPage", "CollectionPage"})
_PUBLISHER_TYPES = frozenset({"Organization", "NewsMediaOrganization", "WebSite", "Corporation"})
# Control characters inside JSON strings are a common publisher bug that strict parsing rejects.
_JSON_CONTROL_RE = re.compile(r"[\x00-\x1f]")


def _types(node: dict[str, Any]) -> set[str]:
    raw = node.get("@type", ())
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    # "http://schema.org/NewsArticle" and "schema:NewsArticle" name the same type as "NewsArticle".
    return {v.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if isinstance(v, str)}


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _genre(types: set[str]) -> str:
    """The genre named by the first of `types` in GENRE_TYPES' order, or "" (news, or not said)."""
    return next((genre for name, genre in GENRE_TYPES.items() if name in types), "")


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a JSON-LD value, depth first: top-level lists, @graph members and nested objects."""
    if isinstance(value, list):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        yield value
        for key, item in value.items():
            if key != "@context" and isinstance(item, dict | list):
                yield from _walk(item)


class JsonLd:
    """The JSON-LD objects of one page: the article node (if any), the publisher, an @id index, and the genre its
    types declare ("" when they declare none)."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        for node in nodes:
            node_id = node.get("@id")
            # The fullest copy wins: a bare {"@id": ...} reference must not hide the described node.
            if isinstance(node_id, str) and len(node) > len(self.by_id.get(node_id, {})):
                self.by_id[node_id] = node
        # A live blog's updates are BlogPostings with a headline and a body of their own: not the article.
        updates = {
            id(self.resolve(update))
            for node in nodes
            if "LiveBlogPosting" in _types(node)
            for update in _listed(node.get("liveBlogUpdate"))
        }
        articles = [n for n in nodes if _types(n) & ARTICLE_TYPES and id(n) not in updates]
        pages = [n for n in nodes if _types(n) & _PAGE_TYPES]
        # Several article nodes (e.g. teasers for related stories) are told apart by having a body or headline.
        articles.sort(key=lambda n: ("articleBody" in n, "headline" in n), reverse=True)
        self.article: dict[str, Any] = self.resolve(articles[0]) if articles else {}
        self.page: dict[str, Any] = self.resolve(pages[0]) if pages else {}
        publishers = [n for n in nodes if _types(n) & _PUBLISHER_TYPES and isinstance(n.get("name"), str)]
        self.publisher: dict[str, Any] = publishers[0] if publishers else {}
        reviews = [n for n in nodes if _types(n) & _REVIEW_TYPES and n.get("itemReviewed")]
        self.genre: str = _genre(_types(self.article)) or ("review" if reviews else "")

    def resolve(self, value: Any) -> Any:
        """Replace a {"@id": ...} reference by the node it names, when the page defines it."""
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and isinstance(value.get("@id"), str):
            return self.by_id.get(value["@id"], value)
        return value

    def get(self, key: str) -> Any:
        """A property of the article node, falling back to the WebPage node; references resolved."""
        for node in (self.article, self.page):
            if key in node and node[key] not in (None, "", []):
                value = node[key]
                return [self.resolve(v) for v in value] if isinstance(value, list) else self.resolve(value)
        return None


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass  # retried once below with the most common publisher errors repaired
    repaired = _JSON_CONTROL_RE.sub(" ", text).strip().rstrip(";")
    try:
        return json.loads(repaired)
    except json.JSONDecodeError as err:
        log.debug("ignoring a malformed JSON-LD block: %s", err)
        return None


def read_jsonld(tree: HtmlElement) -> JsonLd:
    """Parse every JSON-LD script of the page; blocks that are not valid JSON are skipped (and logged)."""
    nodes: list[dict[str, Any]] = []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        text = (script.text or "").strip()
        if text.startswith("<!--"):
            text = text.removeprefix("<!--").removesuffix("-->").strip()
        if text:
            nodes.extend(_walk(_load(text)))
    return JsonLd(nodes)
