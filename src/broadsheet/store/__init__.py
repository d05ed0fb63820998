"""Storage: the only package with SQL. `Store.open` connects, migrates and hands out one store per entity."""

from __future__ import annotations

from sqlalchemy import Engine

from broadsheet.store.accounts import AccountStore, TokenInfo, User
from broadsheet.store.article_page import ArticlePage
from broadsheet.store.articles import ArticleStore, KnownArticle
from broadsheet.store.briefs import BriefStore, MemberText, StoredBrief
from broadsheet.store.comments import Comment, CommentStore, Report
from broadsheet.store.copy import (
    DEFAULT_COPY_BATCH,
    LEFT_OUT,
    TableCheck,
    copy_database,
    copy_source,
    copy_target,
    table_digest,
)
from broadsheet.store.db import (
    DEFAULT_THREADS,
    connect,
    database_bytes,
    is_conflict,
    is_transient,
    migrate,
    shown_url,
)
from broadsheet.store.enrichments import EnrichInput, EnrichmentStore, EnrichOutput
from broadsheet.store.follows import BookmarkedCard, Follow, FollowStore, StorySignals
from broadsheet.store.jobs import Job, JobStore
from broadsheet.store.leases import Lease, LeaseStore
from broadsheet.store.library import (
    DEFAULT_FOLDER,
    MAX_IDS,
    Entry,
    EntryQuery,
    Folder,
    LibraryStore,
    Stream,
    Subscription,
)
from broadsheet.store.reads import ReadStore
from broadsheet.store.rewrites import WRITTEN, RewriteStore, StoredRewrite, Subject
from broadsheet.store.search import SEARCH_HELP, compact_index, index_segments, search
from broadsheet.store.sources import FetchOutcome, SourceStore
from broadsheet.store.stories import PendingArticle, StoryStore, StoryUpdate
from broadsheet.store.websub import MAX_WAITING_PUSHES, Push, WebSubscription, WebSubStore

__all__ = [
    "DEFAULT_COPY_BATCH",
    "DEFAULT_FOLDER",
    "LEFT_OUT",
    "MAX_IDS",
    "MAX_WAITING_PUSHES",
    "SEARCH_HELP",
    "WRITTEN",
    "AccountStore",
    "ArticlePage",
    "ArticleStore",
    "BookmarkedCard",
    "BriefStore",
    "Comment",
    "CommentStore",
    "EnrichInput",
    "EnrichOutput",
    "EnrichmentStore",
    "Entry",
    "EntryQuery",
    "FetchOutcome",
    "Folder",
    "Follow",
    "FollowStore",
    "Job",
    "JobStore",
    "KnownArticle",
    "Lease",
    "LeaseStore",
    "LibraryStore",
    "MemberText",
    "PendingArticle",
    "Push",
    "ReadStore",
    "Report",
    "RewriteStore",
    "SourceStore",
    "Store",
    "StoredBrief",
    "StoredRewrite",
    "StorySignals",
    "StoryStore",
    "StoryUpdate",
    "Stream",
    "Subject",
    "Subscription",
    "TableCheck",
    "TokenInfo",
    "User",
    "WebSubStore",
    "WebSubscription",
    "compact_index",
    "copy_database",
    "copy_source",
    "copy_target",
    "database_bytes",
    "index_segments",
    "is_conflict",
    "is_transient",
    "search",
    "shown_url",
    "table_digest",
]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sources = SourceStore(engine)
        self.articles = ArticleStore(engine)
        self.reads = ReadStore(engine)
        self.stories = StoryStore(engine)
        self.leases = LeaseStore(engine)
        self.jobs = JobStore(engine)
        self.enrichments = EnrichmentStore(engine)
        self.briefs = BriefStore(engine)
        self.rewrites = RewriteStore(engine)
        self.accounts = AccountStore(engine)
        self.comments = CommentStore(engine)
        self.follows = FollowStore(engine)
        self.library = LibraryStore(engine)
        self.websub = WebSubStore(engine)

    @classmethod
    def open(cls, url: str, *, threads: int = DEFAULT_THREADS) -> Store:
        """Connect to `url` and migrate it to the newest schema. `threads`: the server's page threads in this
        process (setting `server_threads`), which size a database server's connection pool. Every `open` is
        matched by a `close`."""
        engine = connect(url, threads=threads)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Close every pooled connection (a database server's are otherwise left to the garbage collector)."""
        self.engine.dispose()
