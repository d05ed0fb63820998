"""Deduplication: decides whether an incoming article is new, a copy, an update, or already stored.

The judgement is made against the store (URLs, exact hashes) and an in-memory near-duplicate index; it
writes nothing. The pipeline applies the verdict.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from broadsheet.dedupe.fingerprint import Signature, fingerprint, signature_bytes, signature_from_bytes
from broadsheet.dedupe.index import NearDuplicateIndex
from broadsheet.dedupe.urls import canonical_url, same_site
from broadsheet.models import Article
from broadsheet.store.articles import ArticleStore

__all__ = [
    "Action",
    "Deduplicator",
    "Signature",
    "Verdict",
    "canonical_url",
    "fingerprint",
    "same_site",
    "signature_bytes",
]


# How often a deduplicator reads what other processes stored (`Deduplicator.catch_up`), and how far below the
# newest id it has seen it reads again.
CATCH_UP_SECONDS = 1.0
CATCH_UP_IDS = 200


class Action(StrEnum):
    NEW = "new"  # store as a new article
    COPY = "copy"  # store, marked duplicate_of the original (syndicated copy on another site)
    UPDATE = "update"  # replace the stored article's content, keep its id
    SAME = "same"  # already stored: at most record the extra URLs


@dataclass(frozen=True, slots=True)
class Verdict:
    action: Action
    article_id: int | None = None  # the stored article this one updates, copies or is
    similarity: float = 1.0
    reason: str = ""


class Deduplicator:
    def __init__(self, articles: ArticleStore, *, threshold: float, window_days: int, now: datetime) -> None:
        self.articles = articles
        self.index = NearDuplicateIndex(threshold)
        since = now - timedelta(days=window_days)
        # The highest article id read from the store: what catch_up reads after (less its margin).
        self._newest = articles.max_id()
        self._caught_up = time.monotonic()
        self._add_stored(articles.signatures_since(since))

    def _add_stored(self, rows: Iterable[tuple[int, bytes]]) -> None:
        for article_id, data in rows:
            self.index.add(article_id, signature_from_bytes(data))
            self._newest = max(self._newest, article_id)

    def catch_up(self) -> None:
        """Index the originals other processes stored since (workers side by side, an import beside the
        server), at most once every CATCH_UP_SECONDS. Ids are handed out before commits land, so a commit may
        land below the newest id seen: the last CATCH_UP_IDS ids are read again, and those already indexed
        skipped. Two copies stored by two processes within the same moment may still both stay originals."""
        now = time.monotonic()
        if now - self._caught_up < CATCH_UP_SECONDS:
            return
        self._caught_up = now
        for article_id, data in self.articles.signatures_after(max(0, self._newest - CATCH_UP_IDS)):
            # Every id read moves the mark, this process's own articles (indexed already) and copies too: the
            # next look reads only what is new since, and CATCH_UP_IDS below it.
            self._newest = max(self._newest, article_id)
            if data is not None and article_id not in self.index:
                self.index.add(article_id, signature_from_bytes(data))

    def judge(self, article: Article, signature: Signature | None, urls: Collection[str]) -> Verdict:
        known = self.articles.known_urls({article.canonical_url, *urls})
        if known:
            stored_id = known.get(article.canonical_url) or min(known.values())
            stored = self.articles.known(stored_id)
            if stored.content_hash == article.content_hash:
                return Verdict(Action.SAME, stored_id, reason="already stored under this URL")
            return Verdict(Action.UPDATE, stored_id, reason="new text at a known URL")

        exact = self.articles.by_content_hash(article.content_hash)
        if exact is not None:
            if same_site(exact.canonical_url, article.canonical_url):
                return Verdict(Action.SAME, exact.id, reason=f"same text already at {exact.canonical_url}")
            original = exact.duplicate_of or exact.id
            return Verdict(Action.COPY, original, reason=f"identical text to article {original}")

        if signature is not None:
            self.catch_up()
            near = self.index.nearest(signature)
            if near is not None:
                # Stored, never merged: on the same site this may be an edited version under a new URL, or
                # only a templated look-alike (weather, results); keeping both loses nothing either way.
                near_id, similarity = near
                return Verdict(Action.COPY, near_id, similarity, f"near-duplicate of article {near_id}")
        return Verdict(Action.NEW)

    def remember(self, article_id: int, signature: Signature | None) -> None:
        """Index a stored original so later copies of it are found."""
        if signature is not None:
            self.index.add(article_id, signature)
