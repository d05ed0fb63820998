"""The database schema as SQLAlchemy Core tables: the one definition both SQLite and PostgreSQL use.

Migrations in `migrations/versions/` must create exactly this; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

__all__ = [
    "FTS_COLUMNS",
    "FTS_INDEXES",
    "FTS_TABLES",
    "UTCDateTime",
    "article_entities",
    "article_tags",
    "article_urls",
    "articles",
    "bookmarks",
    "comment_reports",
    "comment_revisions",
    "comment_votes",
    "comments",
    "enrichments",
    "entry_labels",
    "entry_states",
    "folders",
    "follows",
    "include_name",
    "jobs",
    "leases",
    "metadata",
    "outlet_icons",
    "reads",
    "rewrites",
    "sentence_vectors",
    "sources",
    "stories",
    "story_briefs",
    "story_events",
    "subscriptions",
    "user_sessions",
    "user_tokens",
    "users",
    "vectors",
    "websub",
    "websub_pushes",
]


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC, returned timezone-aware: identical on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


# Ids and the columns that hold them: 64-bit on every back end. SQLite's INTEGER is 64-bit already (and an
# INTEGER PRIMARY KEY is the rowid); PostgreSQL's would be 32-bit, so there it is BIGINT (migration 0013).
Id = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sources = Table(
    "sources",
    metadata,
    Column("id", Id, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("kind", String(16), nullable=False),  # SourceKind
    Column("format", String(32), nullable=False, server_default=""),
    Column("title", Text, nullable=False, server_default=""),
    Column("site_url", Text, nullable=False, server_default=""),
    Column("folder", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    # conditional GET validators, stored only once every entry of that response is committed
    Column("etag", Text),
    Column("last_modified", Text),
    # health
    Column("last_fetch_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("last_new_at", UTCDateTime),
    Column("last_status", String(16), nullable=False, server_default="never"),  # never|ok|not_modified|error
    Column("last_http_status", Integer),
    Column("last_error", Text),
    Column("last_warning", Text),  # the last good fetch had errors: what the parser said, what was kept
    Column("error_count", Integer, nullable=False, server_default="0"),
    # schedule
    Column("interval_seconds", Integer, nullable=False),
    Column("next_fetch_at", UTCDateTime, nullable=False),
)
Index("ix_sources_next_fetch_at", sources.c.next_fetch_at)
# The admin page's order (folder, then title; the row id breaks ties), walked a page at a time (migration 0007).
Index("ix_sources_folder_title", sources.c.folder, sources.c.title)

articles = Table(
    "articles",
    metadata,
    Column("id", Id, primary_key=True),
    Column("url", Text, nullable=False),
    Column("canonical_url", Text, nullable=False, unique=True),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("author", Text, nullable=False, server_default=""),
    Column("outlet", Text, nullable=False, server_default=""),
    Column("image", Text, nullable=False, server_default=""),
    Column("image_alt", Text, nullable=False, server_default=""),
    Column("lang", String(16), nullable=False, server_default=""),
    Column("tags", Text, nullable=False, server_default="[]"),  # JSON list of strings
    Column("published", UTCDateTime),
    Column("updated", UTCDateTime),
    Column("word_count", Integer, nullable=False, server_default="0"),
    Column("content_hash", String(64), nullable=False),
    Column("minhash", LargeBinary),  # MinHash signature (uint64 array), for near-duplicate search
    Column("duplicate_of", Id, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("extraction_note", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    # What lists are ordered by: `published`, or `created_at` when the publisher gave no date.
    Column("sort_time", UTCDateTime, nullable=False),
    Column("outlet_slug", Text, nullable=False, server_default=""),  # slugs.slugify(outlet)
    # The story it belongs to (cluster/); NULL until the article is clustered. Copies share their original's.
    # No foreign key: stories are never deleted (a merged one stays, pointing at where it went), and SQLite
    # cannot add a constraint to an existing table without rebuilding it.
    Column("story_id", Id),
    # Markup hints kept for enrichment (migration 0008): the publisher's section, and what the markup says the
    # piece is (opinion, analysis, live, review).
    Column("section", Text, nullable=False, server_default=""),
    Column("genre", String(16), nullable=False, server_default=""),
    # Set by enrichment (migration 0008): one of enrich.topic.TOPICS, one of enrich.kind.KINDS; "" until then.
    Column("topic", String(16), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default=""),
)
Index("ix_articles_published", articles.c.published)
Index("ix_articles_created_at", articles.c.created_at)
Index("ix_articles_source_id", articles.c.source_id)
Index("ix_articles_content_hash", articles.c.content_hash)
Index("ix_articles_duplicate_of", articles.c.duplicate_of)
# The reader's lists, newest first, each walked in index order with keyset pagination (no sort step).
Index("ix_articles_sort_time", articles.c.sort_time.desc(), articles.c.id.desc())
Index("ix_articles_outlet_slug", articles.c.outlet_slug, articles.c.sort_time, articles.c.id)
Index("ix_articles_lang", articles.c.lang, articles.c.sort_time, articles.c.id)
# A story's members in time order, and "not yet clustered" (story_id IS NULL) found without a scan.
Index("ix_articles_story_id", articles.c.story_id, articles.c.sort_time, articles.c.id)
# The home page's topic sections, newest first (migration 0008).
Index("ix_articles_topic", articles.c.topic, articles.c.sort_time.desc(), articles.c.id.desc())

# One row per (tag, article), from `articles.tags`; sort_time is copied here so a tag's page is one index walk.
# WITHOUT ROWID on SQLite: the table is its primary key, so counting a tag's articles reads nothing else.
article_tags = Table(
    "article_tags",
    metadata,
    Column("slug", Text, primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sort_time", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index(
    "ix_article_tags_slug_sort_time", article_tags.c.slug, article_tags.c.sort_time, article_tags.c.article_id
)
Index("ix_article_tags_article_id", article_tags.c.article_id)

# The full-text indexes are created by raw SQL and are not described here; comparisons of this metadata with a
# database must skip them: on SQLite the FTS5 table and its shadow tables (migration 0002), on PostgreSQL the
# articles' generated tsvector column and its GIN index (migration 0011).
FTS_TABLES = ("articles_fts",)
FTS_COLUMNS = ("search_vector",)
FTS_INDEXES = ("ix_articles_search_vector",)


# The tables, types and functions of the job queue on PostgreSQL (migration 0012), which Procrastinate owns.
JOB_QUEUE_PREFIX = "procrastinate_"


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic's `include_name`: leave the full-text indexes and the job queue's tables (Procrastinate's own,
    migration 0012) out of schema comparisons."""
    if name is None:
        return True
    parent = (parent_names or {}).get("table_name") or ""
    if name.startswith(JOB_QUEUE_PREFIX) or parent.startswith(JOB_QUEUE_PREFIX):
        return False
    if type_ == "table":
        return not any(name == table or name.startswith(table + "_") for table in FTS_TABLES)
    if type_ == "column":
        return name not in FTS_COLUMNS
    if type_ == "index":
        return name not in FTS_INDEXES
    return True


# Every normalised URL that has reached an article (entry links, redirects' ends, rel=canonical): how a new feed
# entry is recognised as already stored without fetching its page again.
article_urls = Table(
    "article_urls",
    metadata,
    Column("url", Text, primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
)
Index("ix_article_urls_article_id", article_urls.c.article_id)


# --- stories (migration 0003) ---------------------------------------------------------------------------------

# One row per story: what lists and pages show, kept up to date as members arrive. `status` is open while the
# story is in the clusterer's window, closed once it went quiet, merged when folded into `merged_into`.
stories = Table(
    "stories",
    metadata,
    Column("id", Id, primary_key=True),
    # The most central member. No foreign key: articles already refer to stories, and a cycle of constraints
    # is one no migration tool orders well; the clusterer keeps it pointing at a member.
    Column("headline_id", Id),
    Column("title", Text, nullable=False, server_default=""),  # the headline article's title
    Column("image", Text, nullable=False, server_default=""),  # the first member image found, central first
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("article_count", Integer, nullable=False, server_default="0"),  # copies included
    Column("outlet_count", Integer, nullable=False, server_default="0"),
    Column("status", String(8), nullable=False, server_default="open"),
    Column("merged_into", Id, ForeignKey("stories.id", ondelete="SET NULL")),
    Column("centroid", LargeBinary),  # float16 mean embedding of its members
    # Ids of the stories closest to it when it last changed, closest first (JSON list): what "related stories"
    # and the article page's semantic neighbours show, without any vector search on the request path.
    Column("related", Text, nullable=False, server_default="[]"),
    Column("topic", String(16), nullable=False, server_default=""),  # its members' majority (migration 0008)
)
Index("ix_stories_last_seen", stories.c.last_seen.desc(), stories.c.id.desc())
Index("ix_stories_status", stories.c.status)

# The clusterer's decisions that are worth an explanation later: merges of two stories (and why).
story_events = Table(
    "story_events",
    metadata,
    Column("id", Id, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),  # merge
    Column("story_id", Id, nullable=False),  # the story that disappeared into ...
    Column("into_id", Id, nullable=False),  # ... this one
    Column("score", Float, nullable=False),
    Column("detail", Text, nullable=False, server_default=""),
)
Index("ix_story_events_into_id", story_events.c.into_id)

# Dense embeddings (float16, L2-normalised) of each article's title and lead, one per model that made them
# (migration 0010: MiniLM and the multilingual encoder side by side): vectors of different models never mix.
vectors = Table(
    "vectors",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

# --- leases (migration 0004) ----------------------------------------------------------------------------------

# Work that one process at a time may do, such as the stories step (whose clusterer keeps its window in
# memory and hands out story ids): held by `holder` until `expires_at`, renewed while the work goes on, so a
# holder that dies frees it when its time runs out. `generation` grows each time a different holder takes it:
# a holder that finds it changed knows others have written in the meantime.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("generation", Integer, nullable=False, server_default="1"),
)


# --- outlet icons (migration 0005) -----------------------------------------------------------------------------

# Each outlet's icon as its newest page with one named it (<link rel="icon"> and kin), shown beside its name.
outlet_icons = Table(
    "outlet_icons",
    metadata,
    Column("outlet_slug", Text, primary_key=True),
    Column("url", Text, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)


# --- jobs (migration 0007) ------------------------------------------------------------------------------------

# Long work started from the admin page (an OPML import), with its progress: kept here rather than in a server
# process's memory, so that any process of `serve --workers N` can show it, and a job whose process died is
# seen to have stopped (its `updated_at` no longer moves).
jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(32), nullable=False),  # opml_import
    Column("label", Text, nullable=False, server_default=""),  # what it works on, e.g. the file's name
    Column("status", String(16), nullable=False, server_default="queued"),  # queued|running|done|failed
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),  # moves with every step of progress
    Column("finished_at", UTCDateTime),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("processed", Integer, nullable=False, server_default="0"),
    Column("added", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),  # already there
    Column("left_out", Integer, nullable=False, server_default="0"),  # not attempted; `note` says why
    Column("note", Text, nullable=False, server_default=""),
    Column("error", Text),  # why it failed
)


# --- enrichment (migration 0008) ------------------------------------------------------------------------------

# What each enrichment step made of each article, with the version of the step (its model and settings) and the
# content it was made from: a row whose version or content_hash no longer matches is redone. `data` is the
# step's JSON (key points and summary, entities, tags, ...), read back by the article page and the API.
enrichments = Table(
    "enrichments",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("step", String(16), primary_key=True),
    Column("version", String(128), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("done_at", UTCDateTime, nullable=False),
)

# One row per (entity, article), from the entities step: an entity's page is one walk down its slug, newest
# first. WITHOUT ROWID on SQLite, like article_tags.
article_entities = Table(
    "article_entities",
    metadata,
    Column("slug", Text, primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("type", String(16), nullable=False),
    Column("mentions", Integer, nullable=False, server_default="1"),
    Column("sort_time", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index(
    "ix_article_entities_slug_sort_time",
    article_entities.c.slug,
    article_entities.c.sort_time,
    article_entities.c.article_id,
)
Index("ix_article_entities_article_id", article_entities.c.article_id)

# Every sentence of an article embedded (float16 rows, in sentence order, enrich.sentences' split), with the
# model and the content they were made from: what the story brief groups and "ask" searches. Made for the
# articles of stories several outlets cover, when their brief is built.
sentence_vectors = Table(
    "sentence_vectors",
    metadata,
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("vectors", LargeBinary, nullable=False),
)

# Each story's brief (enrich.brief) as JSON, with the member count it was built from: rebuilt in the
# background when the story grows, read as it is by the story page and the API.
story_briefs = Table(
    "story_briefs",
    metadata,
    Column("story_id", Id, primary_key=True),
    Column("article_count", Integer, nullable=False),
    Column("version", String(128), nullable=False),
    Column("built_at", UTCDateTime, nullable=False),
    Column("data", Text, nullable=False),
)


# --- the optional LLM (migration 0009) -----------------------------------------------------------------------

# What the LLM wrote (pipeline/rewrite.py) for stories: a brief, or the answer to a question about a story
# (`question` normalised; '' for a brief). An article's written summary is an enrichment row (step "written").
# `version` names the model and what the rewrite was made from, `source_hash` the sources themselves: a row that no longer matches is stale and redone. Answers
# are asked for by a reader (status 'pending', `sources` the sentences to write from) and written by the
# background rewriter; 'failed' rows say in `data` why the extracted text stands.
rewrites = Table(
    "rewrites",
    metadata,
    Column("subject", String(8), primary_key=True),
    Column("subject_id", Id, primary_key=True),
    Column("question", Text, primary_key=True, server_default=""),
    Column("status", String(8), nullable=False),
    Column("version", String(256), nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("sources", Text, nullable=False, server_default="[]"),
    Column("data", Text, nullable=False, server_default="{}"),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
)
Index("ix_rewrites_status_requested_at", rewrites.c.status, rewrites.c.requested_at)


# --- readers' accounts and comments (migration 0015) ----------------------------------------------------------

# A reader's account. `name` is kept as typed and shown; `name_key`, its casefolded form, is what is unique and
# what sign-in looks up, so "Ada" and "ada" are one account. `failed_logins` and `locked_until` are the account
# lockout, counted and set by single UPDATEs so that every server process sees one count.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(32), nullable=False),
    Column("name_key", String(32), nullable=False, unique=True),
    Column("display_name", String(60), nullable=False, server_default=""),  # '' = show `name`
    Column("password_hash", Text, nullable=False, server_default=""),  # argon2id PHC string; '' = links only
    Column("role", String(12), nullable=False, server_default="reader"),  # reader | moderator | admin
    Column("created_at", UTCDateTime, nullable=False),
    Column("banned_at", UTCDateTime),  # set by a moderator: cannot post; the ban ended the sessions
    Column("ban_reason", Text, nullable=False, server_default=""),
    Column("failed_logins", Integer, nullable=False, server_default="0"),  # wrong passwords in a row
    Column("locked_until", UTCDateTime),  # sign-in refused until then
    # When the reader's subscriptions were first set up (migration 0017): NULL until their first reader app or
    # subscriptions page, which subscribes them to every source of the site once.
    Column("library_at", UTCDateTime),
    # Where a forgotten password's sign-in link goes, when the site sends mail (migration 0020); '' = none.
    # Kept casefolded: the lookup by address ignores case, as mail servers mostly do.
    Column("email", String(254), nullable=False, server_default=""),
)
Index("ix_users_email", users.c.email)

# Signed-in browsers. The key is the SHA-256 of the cookie's token, never the token: a copy of the database
# (a backup, `broadsheet copy`) signs nobody in.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),  # last request, moved at most once a minute
    Column("expires_at", UTCDateTime, nullable=False),
)
Index("ix_user_sessions_user_id", user_sessions.c.user_id)
Index("ix_user_sessions_expires_at", user_sessions.c.expires_at)  # the sweep at each sign-in

# Personal API tokens ('api'), app passwords ('app') and one-time sign-in links ('link'), hashed like sessions.
user_tokens = Table(
    "user_tokens",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(8), nullable=False),  # api | app | link
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("label", Text, nullable=False, server_default=""),  # the reader's name for it; for links: 'reset'
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),  # links only
    Column("used_at", UTCDateTime),  # a link: spent; an api/app token: its last use (to the minute)
    # An app password's Fever key (migration 0017): sha256 of md5("name:password"), which Fever clients send.
    Column("fever_hash", String(64), unique=True),
)
Index("ix_user_tokens_user_id", user_tokens.c.user_id)
Index("ix_user_tokens_expires_at", user_tokens.c.expires_at)  # the sweep at each sign-in

# Readers' comments on articles, one level deep: a reply's parent is a top-level comment. A comment deleted by
# its author keeps its row (its replies still hang from it); one hidden by a moderator can be restored.
comments = Table(
    "comments",
    metadata,
    Column("id", Id, primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("parent_id", Id, ForeignKey("comments.id", ondelete="CASCADE")),
    # NULL once its author removed their account: a comment others replied to stays as "[deleted]", emptied, so
    # that their replies keep their place (AccountStore.remove_user); every other comment of theirs goes.
    Column("user_id", Id, ForeignKey("users.id", ondelete="SET NULL")),
    Column("body", Text, nullable=False),  # the current Markdown source
    Column("html", Text, nullable=False),  # its sanitised rendering
    Column("created_at", UTCDateTime, nullable=False),
    Column("edited_at", UTCDateTime),
    Column("deleted_at", UTCDateTime),
    Column("hidden_at", UTCDateTime),
    Column("hidden_by", Id, ForeignKey("users.id", ondelete="SET NULL")),
    # A comment on the story rather than on the article alone: kept on an article of the story (the story's
    # headline when it was posted), so that it follows its article through merges, splits and `recluster`,
    # which renumbers stories; the story's thread is the story comments of all its articles.
    Column("on_story", Boolean, nullable=False, server_default=false()),
)
# An article's thread in time order; a reader's own comments (their data export).
Index("ix_comments_article_id", comments.c.article_id, comments.c.created_at, comments.c.id)
Index("ix_comments_user_id", comments.c.user_id, comments.c.created_at)
# A comment's replies: found without a scan when its row is deleted (the cascade looks them up by parent).
Index("ix_comments_parent_id", comments.c.parent_id)
# The comments a moderator hid: found without a scan when the moderator's account is removed (SET NULL).
Index("ix_comments_hidden_by", comments.c.hidden_by)

# Every earlier body of a comment, with the time it was written: an edit never loses what was said.
comment_revisions = Table(
    "comment_revisions",
    metadata,
    Column("id", Id, primary_key=True),
    Column("comment_id", Id, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_comment_revisions_comment_id", comment_revisions.c.comment_id)

# Readers' reports of comments to the moderators: one per reader per comment, resolved by a moderator.
comment_reports = Table(
    "comment_reports",
    metadata,
    Column("id", Id, primary_key=True),
    Column("comment_id", Id, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    UniqueConstraint("comment_id", "user_id"),
)
# A reader's reports and votes: their data export, and the cascade when their account goes.
Index("ix_comment_reports_user_id", comment_reports.c.user_id)

# Up-votes, for the "top" order: one per reader per comment, the primary key says so.
comment_votes = Table(
    "comment_votes",
    metadata,
    Column("comment_id", Id, ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_comment_votes_user_id", comment_votes.c.user_id)


# --- follows, mutes, bookmarks and reading history (migration 0016) -------------------------------------------

# What a reader follows or mutes: an outlet, a tag or an entity (by slug), or a story (its id as text: no
# foreign key, and `recluster`, which renumbers stories, leaves it pointing at whatever story has that id). One
# row per (reader, kind, key): following what was muted unmutes it. WITHOUT ROWID on SQLite: the table is its
# primary key, and a reader's follows are one range of it.
follows = Table(
    "follows",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(8), primary_key=True),  # outlet | tag | entity | story
    Column("key", Text, primary_key=True),
    Column("name", Text, nullable=False, server_default=""),  # how to show it, as it was when followed
    Column("mute", Boolean, nullable=False, server_default=false()),  # true: muted, not followed
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
# Who follows this: counts, later notifications.
Index("ix_follows_kind_key", follows.c.kind, follows.c.key)

# Articles a reader keeps to read later, newest first a page at a time: (created_at, article_id) is the keyset.
bookmarks = Table(
    "bookmarks",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_bookmarks_user_id_created_at", bookmarks.c.user_id, bookmarks.c.created_at, bookmarks.c.article_id)
# An article's bookmarks, found without a scan when the article is deleted (the cascade looks them up).
Index("ix_bookmarks_article_id", bookmarks.c.article_id)

# Reading history: the articles a signed-in reader opened, each once, with the latest time. Written on every
# signed-in article view: WITHOUT ROWID like the two above, so that a write touches its key and two indexes.
reads = Table(
    "reads",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    # The article's story when it was read. No foreign key: stories are renumbered (`recluster`).
    Column("story_id", Id),
    Column("read_at", UTCDateTime, nullable=False),  # the latest time it was opened
    sqlite_with_rowid=False,
)
Index("ix_reads_user_id_read_at", reads.c.user_id, reads.c.read_at, reads.c.article_id)
Index("ix_reads_article_id", reads.c.article_id)  # for the cascade, as bookmarks'


# --- reader apps (migration 0017) -----------------------------------------------------------------------------

# A reader's folders (Google Reader labels, Miniflux categories, Fever groups). A folder with `story_id` stands
# for a story the reader follows: its entries are the story's coverage, from every outlet.
folders = Table(
    "folders",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("story_id", Id),  # no foreign key: stories are renumbered (`recluster`); followed by `follows`
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "name", name="uq_folders_user_id_name"),
)

# The sources a reader reads in apps. An entry of a subscribed source is read when the reader marked it so
# (`entry_states`), or else when its id is at most `read_upto`: "mark all as read" moves that one number instead
# of writing a row per entry.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("folder_id", Id, ForeignKey("folders.id", ondelete="SET NULL")),
    Column("title", Text, nullable=False, server_default=""),  # the reader's name for it; '' = the source's
    Column("read_upto", Id, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_subscriptions_source_id", subscriptions.c.source_id)
Index("ix_subscriptions_folder_id", subscriptions.c.folder_id)

# Entries a reader marked read or unread one by one; it overrides `subscriptions.read_upto`.
entry_states = Table(
    "entry_states",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("read", Boolean, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_entry_states_article_id", entry_states.c.article_id)


# Labels a reader put on single entries (migration 0019): Google Reader's item tags. A label is a folder of the
# reader's (one namespace, as in Google Reader), so a label's stream is its feeds' entries and these.
entry_labels = Table(
    "entry_labels",
    metadata,
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("folder_id", Id, ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Id, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    sqlite_with_rowid=False,
)
Index("ix_entry_labels_user_id", entry_labels.c.user_id, entry_labels.c.article_id)
Index("ix_entry_labels_folder_id", entry_labels.c.folder_id)  # for the cascade from folders
Index("ix_entry_labels_article_id", entry_labels.c.article_id)  # for the cascade from articles

# --- WebSub (migration 0018) -----------------------------------------------------------------------------------

# A source's subscription at the hub its feed announces. The hub calls back at /websub/{source_id}/{token}:
# `token` names this subscription (a new request, a new token), `secret` signs what the hub pushes (HMAC).
# state: pending (asked, not yet verified) | active | denied | failed. A removed source's row goes with it, and
# the hub's next push is answered 410 Gone, which ends the subscription at the hub.
websub = Table(
    "websub",
    metadata,
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("token", String(64), nullable=False),
    Column("secret", String(64), nullable=False),
    Column("state", String(12), nullable=False),
    Column("lease_seconds", Integer),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("verified_at", UTCDateTime),
    Column("expires_at", UTCDateTime),
    Column("last_push_at", UTCDateTime),
    Column("pushes", Integer, nullable=False, server_default="0"),
    Column("failures", Integer, nullable=False, server_default="0"),  # requests in a row that came to nothing
    Column("last_error", Text, nullable=False, server_default=""),
)

# Feed documents a hub pushed, signed, waiting for the crawler to read them in place of a poll.
websub_pushes = Table(
    "websub_pushes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("source_id", Id, ForeignKey("sources.id", ondelete="CASCADE"), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("content_type", Text, nullable=False, server_default=""),
    Column("received_at", UTCDateTime, nullable=False),
)
Index("ix_websub_pushes_source_id", websub_pushes.c.source_id, websub_pushes.c.id)
