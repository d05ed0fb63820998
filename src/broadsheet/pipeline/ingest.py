"""The pipeline for one article: merge what the feed and the page said, dedupe, store atomically.

Crawling (`crawl.py`) and `broadsheet import` (`importer.py`) both end here, so both get the same dedupe
(and, in later stages, the same enrichment and clustering).
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

import lxml.html
from lxml import etree

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.dedupe import (
    Action,
    Deduplicator,
    Signature,
    Verdict,
    canonical_url,
    fingerprint,
    same_site,
    signature_bytes,
)
from broadsheet.extract import sanitize_html
from broadsheet.models import Article, Extracted, FeedEntry, Source
from broadsheet.store import Store, is_conflict, is_transient
from broadsheet.text import collapse_whitespace, strip_controls
from broadsheet.urls import host_of

__all__ = ["IngestResult", "Ingester", "article_from_entry", "html_to_text"]

log = logging.getLogger(__name__)
# Tries to store one article when another process got there first or the database asked to try again.
ATTEMPTS = 4
RETRY_PAUSE = 0.2  # seconds, times the try's number


@dataclass(frozen=True, slots=True)
class IngestResult:
    action: Action
    article_id: int
    reason: str = ""


@dataclass
class Tally:
    """Counts of what ingestion did, for summaries."""

    actions: Counter[Action] = field(default_factory=Counter)

    def add(self, action: Action) -> None:
        self.actions[action] += 1

    @property
    def new(self) -> int:
        return self.actions[Action.NEW]

    @property
    def duplicates(self) -> int:
        return self.actions[Action.COPY]

    @property
    def updated(self) -> int:
        return self.actions[Action.UPDATE]

    @property
    def unchanged(self) -> int:
        return self.actions[Action.SAME]


_BLOCKS = {
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "tr",
    "figcaption",
    "br",
}


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (a feed's summary or content), paragraphs separated by blank lines."""
    if "<" not in fragment:
        return re.sub(r"[ \t]+", " ", fragment).strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return ""
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    parts: list[str] = []
    for element in root.iter():
        if element.tag in _BLOCKS:
            parts.append("\n\n")
        if element.text and element.tag not in ("script", "style"):
            parts.append(element.text)
        if element.tail:
            parts.append(element.tail)
    text = "".join(parts)
    paragraphs = [collapse_whitespace(p) for p in re.split(r"\n\s*\n", text)]
    return "\n\n".join(p for p in paragraphs if p)


def article_from_entry(
    entry: FeedEntry,
    extracted: Extracted | None,
    *,
    page_url: str,
    source: Source | None,
    note: str = "",
) -> Article:
    """Merge a feed entry with what extraction found on its page. The feed wins for the headline (clean and
    chosen by the editor), the page for text and metadata; without a page, the feed's own content is used and
    `note` says why."""
    page = extracted or Extracted(text="")
    summary = html_to_text(entry.summary)
    text = page.text or html_to_text(entry.content_html) or summary
    # A page may declare any URL canonical; believe it only on the page's own site, or one page could
    # overwrite another site's article.
    declared = page.canonical_url
    canonical = declared if declared and same_site(declared, page_url) else page_url
    outlet = page.site_name or (source.title if source else "") or host_of(page_url)
    return Article(
        url=entry.url,
        canonical_url=canonical,
        title=entry.title or page.title or text[:120],
        text=text,
        html=page.html or (sanitize_html(entry.content_html, page_url) if entry.content_html else ""),
        published=entry.published or page.published or entry.updated or page.updated,
        # The later of the two: the crawl re-reads an entry whose feed date is newer than the stored one.
        updated=max((d for d in (page.updated, entry.updated) if d is not None), default=None),
        outlet=outlet,
        author=", ".join(page.authors) or entry.author,
        image=page.image or entry.image,
        image_alt=page.image_alt if page.image else "",
        lang=page.lang or entry.lang,
        description=page.description or summary[:500],
        tags=tuple(dict.fromkeys((*page.tags, *entry.tags))),
        section=page.section,
        genre=page.genre,
        source_id=source.id if source else None,
        extraction_note="" if extracted else note,
        icon=page.icon,
    )


class Ingester:
    """Dedupes and stores articles one at a time; each call is one transaction."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self.tally = Tally()
        self.dedupe = Deduplicator(
            store.articles,
            threshold=settings.near_duplicate_threshold,
            window_days=settings.dedupe_window_days,
            now=clock(),
        )

    def ingest(self, article: Article, urls: Collection[str] = ()) -> IngestResult:
        now = self.clock()
        # What pages and feeds show as one line of text carries no control characters or bidi overrides.
        article = replace(
            article,
            title=strip_controls(article.title),
            outlet=strip_controls(article.outlet),
            author=strip_controls(article.author),
            description=strip_controls(article.description),
            image_alt=strip_controls(article.image_alt),
            tags=tuple(tag for tag in map(strip_controls, article.tags) if tag),
        )
        prints = fingerprint(article.title, article.text)
        article = replace(
            article,
            canonical_url=canonical_url(article.canonical_url or article.url),
            content_hash=prints.content_hash,
        )
        all_urls = {canonical_url(u) for u in (article.url, *urls) if u}
        signature = prints.signature
        for attempt in range(1, ATTEMPTS + 1):
            verdict = self.dedupe.judge(article, signature, all_urls)
            try:
                article_id = self._apply(verdict, article, signature, all_urls, now)
                break
            except Exception as exc:
                # Another process stored one of these URLs first (the verdict, made before, is then stale),
                # or the database asked for the transaction again: judge again against what is stored now.
                # Each write is one transaction, so nothing of the failed try was kept.
                if attempt == ATTEMPTS or not (is_conflict(exc) or is_transient(exc)):
                    raise
                log.info("storing %s again (try %d): %s", article.url, attempt + 1, type(exc).__name__)
                time.sleep(RETRY_PAUSE * attempt)
        self.tally.add(verdict.action)
        log.debug("%s %s -> %s (%s)", verdict.action, article.url, article_id, verdict.reason)
        return IngestResult(verdict.action, article_id, verdict.reason)

    def _apply(
        self, verdict: Verdict, article: Article, sig: Signature | None, urls: set[str], now: datetime
    ) -> int:
        blob = signature_bytes(sig) if sig is not None else None
        articles = self.store.articles
        if verdict.action is Action.SAME:
            assert verdict.article_id is not None
            articles.add_urls(verdict.article_id, urls)
            return verdict.article_id
        if verdict.action is Action.UPDATE:
            assert verdict.article_id is not None
            articles.replace_content(verdict.article_id, article, blob, urls | {article.canonical_url}, now)
            if articles.known(verdict.article_id).duplicate_of is None:
                self.dedupe.remember(verdict.article_id, sig)
            return verdict.article_id
        if verdict.action is Action.COPY:
            article = replace(article, duplicate_of=verdict.article_id)
        new_id = articles.insert(article, blob, urls, now)
        if verdict.action is Action.NEW:
            self.dedupe.remember(new_id, sig)
        return new_id
