"""Plain data passed between the pipeline's steps: what a feed says, what a page yields, what is stored.

No behaviour lives here beyond trivial derived properties; each step owns its own logic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "AIView",
    "Article",
    "ArticleCard",
    "CardPage",
    "Cited",
    "EntityInfo",
    "EntityRef",
    "Extracted",
    "Feed",
    "FeedEntry",
    "OutletInfo",
    "Outline",
    "Point",
    "SearchHit",
    "SearchPage",
    "Source",
    "SourceKind",
    "StoryCard",
    "StoryEvent",
    "TagInfo",
]


class SourceKind(StrEnum):
    FEED = "feed"  # RSS 0.9x/1.0/2.0, Atom, JSON Feed
    SITEMAP = "sitemap"  # sitemap, Google News sitemap, sitemap index
    PAGE = "page"  # a single article page


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed or sitemap, normalised across formats. Dates are timezone-aware UTC."""

    url: str
    title: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    author: str = ""
    summary: str = ""  # plain text or HTML, as the feed gave it
    content_html: str = (
        ""  # full content when the feed carries it (content:encoded, atom:content, content_html)
    )
    image: str = ""
    tags: tuple[str, ...] = ()
    guid: str = ""
    lang: str = ""


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed or sitemap. `kind` tells which; a sitemap index lists child sitemaps in `sitemaps`."""

    kind: SourceKind
    format: str  # "rss20", "atom10", "json11", "sitemap", "news-sitemap", "sitemapindex", ...
    title: str = ""
    site_url: str = ""
    description: str = ""
    lang: str = ""
    entries: tuple[FeedEntry, ...] = ()
    sitemaps: tuple[str, ...] = ()
    problems: str = ""  # what the parser found wrong, where ("not well-formed XML at line 3, column 7: ...")
    skipped: int = 0  # entries left out: no address to read them at
    hub: str = ""  # the WebSub hub the feed announces (<link rel="hub">), "" if none
    self_url: str = ""  # the feed's own address as it names it (<link rel="self">): the WebSub topic

    @property
    def warning(self) -> str:
        """'' for a clean document; else, for the reader, what was wrong and what could still be read."""
        if not self.problems:
            return ""
        kept = len(self.entries) + len(self.sitemaps)
        return f"the feed has errors ({self.problems}); {kept} {'entry' if kept == 1 else 'entries'} could be read"


@dataclass(frozen=True, slots=True)
class Outline:
    """One feed in an OPML file, with the folder (category) path it sat in."""

    url: str
    title: str = ""
    site_url: str = ""
    folder: str = ""  # "News/World" for nested outlines
    language: str = ""  # an outline's language= (not OPML 2.0's, but the starter packs name it), "" if none


@dataclass(slots=True)
class Extracted:
    """What extraction got out of one article page. Empty strings mean "not found"."""

    text: str
    html: str = ""  # sanitised minimal HTML of the main content
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
    icon: str = ""  # the site's icon (absolute http(s) URL), from <link rel="icon"> and kin
    section: str = ""  # the publisher's section ("Opinion", "Sport"), from article:section or JSON-LD
    genre: str = ""  # what the markup says the piece is: "opinion", "analysis", "live", "review" or ""


@dataclass(slots=True)
class Article:
    """An article as stored. `id` is None until stored."""

    url: str
    canonical_url: str
    title: str
    text: str
    html: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    outlet: str = ""
    author: str = ""
    image: str = ""
    image_alt: str = ""
    lang: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    section: str = ""  # the publisher's section, as its page named it
    genre: str = ""  # what the page's markup says the piece is (Extracted.genre)
    topic: str = ""  # enrichment's section (enrich.topic.TOPICS), "" until enriched
    kind: str = ""  # news, opinion, analysis, live, review (enrich.kind), "" until enriched
    source_id: int | None = None
    duplicate_of: int | None = None
    content_hash: str = ""
    extraction_note: str = ""  # why the feed's content was used instead of the page, when it was
    icon: str = (
        ""  # its outlet's icon as its page named it; stored per outlet (outlet_icons), not per article
    )
    id: int | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)  # other URLs that reached this article
    also_published_at: tuple[str, ...] = field(default_factory=tuple)  # URLs of its copies on other sites
    # Every address it is known by (canonical, feed links, the same text found at another address of its site);
    # filled by the store's iter_all for the export, empty elsewhere
    urls: tuple[str, ...] = field(default_factory=tuple)
    story_id: int | None = None  # its story (cluster/), once clustered; set by the store, never by writers


@dataclass(slots=True)
class Source:
    """A subscribed source with its health and schedule, as stored."""

    id: int
    url: str
    kind: SourceKind
    format: str
    title: str
    site_url: str
    folder: str
    created_at: datetime
    etag: str | None
    last_modified: str | None
    last_fetch_at: datetime | None
    last_success_at: datetime | None
    last_new_at: datetime | None
    last_status: str  # never | ok | not_modified | error
    last_http_status: int | None
    last_error: str | None
    error_count: int
    interval_seconds: int
    next_fetch_at: datetime
    article_count: int = 0
    last_warning: str | None = None  # the last good fetch had errors: what the parser said, what was kept


# --- what the reader sees: shapes returned by the read queries, shared by pages, the API and feeds out ------


@dataclass(frozen=True, slots=True)
class ArticleCard:
    """An article as listed (home, outlet, tag, related, search, feeds): no full text."""

    id: int
    title: str
    url: str
    canonical_url: str
    outlet: str
    outlet_slug: str
    published: datetime | None
    sort_time: datetime  # published, or when stored if the publisher gave no date: what lists are ordered by
    image: str
    image_alt: str
    excerpt: str  # description, else the opening of the text; plain text, at most ~300 characters
    lang: str
    tags: tuple[str, ...]
    duplicate_of: int | None = None


@dataclass(frozen=True, slots=True)
class CardPage:
    """One page of a keyset-paginated list; `next_cursor` is opaque, None on the last page."""

    items: tuple[ArticleCard, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class OutletInfo:
    slug: str
    name: str
    article_count: int
    latest: datetime | None
    site_url: str = ""  # scheme://host of its newest article
    icon: str = ""  # its icon as its pages name it (outlet_icons), "" when none does


@dataclass(frozen=True, slots=True)
class TagInfo:
    slug: str
    name: str
    article_count: int


@dataclass(frozen=True, slots=True)
class SearchHit:
    card: ArticleCard
    snippet_html: str  # escaped text with matches wrapped in <mark>…</mark>; safe to render as is
    rank: float


@dataclass(frozen=True, slots=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    page: int  # 1-based
    has_next: bool


@dataclass(frozen=True, slots=True)
class StoryCard:
    """A story as listed and shown: every outlet's coverage of one event (see cluster/)."""

    id: int
    title: str  # the headline of its most central article
    headline_id: int | None
    image: str
    first_seen: datetime
    last_seen: datetime
    article_count: int  # copies included
    outlet_count: int
    status: str  # open | closed | merged
    merged_into: int | None
    hotness: float  # coverage breadth x recency, at the time it was read
    outlets: tuple[str, ...] = ()  # the first outlets to report it (at most five), first first
    topic: str = ""  # its members' majority topic (enrich.topic.TOPICS), "" until they have one


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """A logged clustering decision: `story_id` was merged into `into_id` (score, and why, in words)."""

    at: datetime
    kind: str
    story_id: int
    into_id: int
    score: float
    detail: str


# --- what enrichment made of an article, as the article page, the API and export read it ----------------------


@dataclass(frozen=True, slots=True)
class Cited:
    """A sentence of the article's stored text: `text` is sentence number `sentence` of it, word for word."""

    sentence: int
    text: str


@dataclass(frozen=True, slots=True)
class Point:
    """A key point and the sentences it rests on (extractive: the point is its first citation's text)."""

    text: str
    citations: tuple[Cited, ...]


@dataclass(frozen=True, slots=True)
class EntityRef:
    name: str
    type: str  # person, organisation, place, other
    mentions: int
    slug: str  # its page: /entities/<slug>


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """An entity's page: its most used name and type, and how many articles mention it."""

    slug: str
    name: str
    type: str
    article_count: int


@dataclass(frozen=True, slots=True)
class AIView:
    """Enrichment's results for one article; every field empty until the step that makes it has run. Only
    what can be traced is here: points and summary sentences whose text is no longer in the article are
    dropped when read."""

    key_points: tuple[Point, ...] = ()
    summary: tuple[Cited, ...] = ()
    entities: tuple[EntityRef, ...] = ()
    tags: tuple[str, ...] = ()  # the merged tags (publisher's, entities, keyphrases); () when not made yet
    steps: tuple[str, ...] = ()  # the steps that have run on it
    # The summary as the optional LLM wrote it from cited sentences (pipeline/rewrite.py), each claim with
    # the sentences it was checked against; () when there is none. `written_by` names the model.
    written: tuple[Point, ...] = ()
    written_by: str = ""

    @property
    def summary_text(self) -> str:
        return " ".join(c.text for c in self.summary)
