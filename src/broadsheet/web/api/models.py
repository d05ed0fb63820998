"""Typed response bodies of the JSON API (they are its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from broadsheet.models import AIView, Article, ArticleCard, OutletInfo, Source, StoryCard, StoryEvent

__all__ = [
    "ArticleDetail",
    "ArticleList",
    "ArticleSummary",
    "Outlet",
    "SearchResult",
    "SearchResults",
    "SourceList",
    "SourceOut",
    "Story",
    "StoryDetail",
    "StoryMerge",
]


class ArticleSummary(BaseModel):
    id: int
    title: str
    url: str
    canonical_url: str
    outlet: str
    outlet_slug: str
    published: datetime | None
    image: str
    image_alt: str
    excerpt: str
    lang: str
    tags: list[str]
    duplicate_of: int | None

    @classmethod
    def of(cls, card: ArticleCard) -> ArticleSummary:
        return cls(id=card.id, title=card.title, url=card.url, canonical_url=card.canonical_url,
                   outlet=card.outlet, outlet_slug=card.outlet_slug, published=card.published, image=card.image,
                   image_alt=card.image_alt, excerpt=card.excerpt, lang=card.lang, tags=list(card.tags),
                   duplicate_of=card.duplicate_of)  # fmt: skip


class ArticleList(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


class CitedSentence(BaseModel):
    sentence: int = Field(description="index of the sentence in the article's text (enrich.sentences)")
    text: str = Field(description="that sentence exactly as stored")


class KeyPointOut(BaseModel):
    text: str
    citations: list[CitedSentence]


class EntityOut(BaseModel):
    name: str
    type: str = Field(description="person, organisation, place or other")
    mentions: int
    slug: str = Field(description="its page: /entities/<slug>")


class WrittenSummary(BaseModel):
    model: str = Field(description="the model that wrote it")
    points: list[KeyPointOut] = Field(
        description="its claims, each citing the sentences it was checked against"
    )

    @classmethod
    def of(cls, ai: AIView) -> WrittenSummary:
        return cls(model=ai.written_by, points=[
            KeyPointOut(text=p.text, citations=[CitedSentence(sentence=c.sentence, text=c.text) for c in p.citations])
            for p in ai.written])  # fmt: skip


class ArticleDetail(ArticleSummary):
    story_id: int | None
    text: str
    html: str
    author: str
    description: str
    updated: datetime | None
    source_id: int | None
    also_published_at: list[str]
    extraction_note: str
    topic: str = Field(description="one of the topics (docs: /docs/ai); empty until enriched")
    kind: str = Field(description="news, opinion, analysis, live or review; empty until enriched")
    section: str = Field(description="the publisher's own section name, when its page gave one")
    entities: list[EntityOut]
    summary: str = Field(description="a short summary made of the article's own sentences")
    summary_sentences: list[CitedSentence]
    key_points: list[KeyPointOut]
    written_summary: WrittenSummary | None = Field(
        None,
        description="the summary as the optional LLM wrote it from the cited sentences; null when off or not yet written",
    )

    @classmethod
    def full(cls, card: ArticleCard, article: Article, ai: AIView, *, written: bool = False) -> ArticleDetail:
        base = ArticleSummary.of(card).model_dump()
        base["tags"] = list(ai.tags or article.tags)
        return cls(**base, text=article.text, html=article.html,
                   author=article.author, description=article.description, updated=article.updated,
                   source_id=article.source_id, also_published_at=list(article.also_published_at),
                   extraction_note=article.extraction_note, story_id=article.story_id, topic=article.topic,
                   kind=article.kind, section=article.section,
                   entities=[EntityOut(name=e.name, type=e.type, mentions=e.mentions, slug=e.slug)
                             for e in ai.entities],
                   summary=ai.summary_text,
                   summary_sentences=[CitedSentence(sentence=c.sentence, text=c.text) for c in ai.summary],
                   key_points=[KeyPointOut(text=p.text, citations=[CitedSentence(sentence=c.sentence, text=c.text)
                                                                    for c in p.citations])
                               for p in ai.key_points],
                   written_summary=WrittenSummary.of(ai) if written and ai.written else None)  # fmt: skip


class Outlet(BaseModel):
    slug: str
    name: str
    article_count: int
    latest: datetime | None
    site_url: str = Field(description="scheme://host of its newest article")
    icon: str = Field(description="its icon as its pages name it (the publisher's URL); empty when none does")

    @classmethod
    def of(cls, info: OutletInfo) -> Outlet:
        return cls(slug=info.slug, name=info.name, article_count=info.article_count, latest=info.latest,
                   site_url=info.site_url, icon=info.icon)  # fmt: skip


class SearchResult(BaseModel):
    article: ArticleSummary
    snippet_html: str
    rank: float


class SearchResults(BaseModel):
    query: str
    page: int
    has_next: bool
    results: list[SearchResult]


class SourceOut(BaseModel):
    id: int
    url: str
    kind: str
    title: str
    folder: str
    last_status: str
    last_http_status: int | None
    last_error: str | None
    last_warning: str | None = Field(
        description="The last good fetch had errors: what the parser found, and how much could be read."
    )
    error_count: int
    article_count: int
    last_fetch_at: datetime | None
    next_fetch_at: datetime

    @classmethod
    def of(cls, s: Source) -> SourceOut:
        return cls(id=s.id, url=s.url, kind=s.kind.value, title=s.title, folder=s.folder,
                   last_status=s.last_status, last_http_status=s.last_http_status, last_error=s.last_error,
                   last_warning=s.last_warning, error_count=s.error_count, article_count=s.article_count, last_fetch_at=s.last_fetch_at,
                   next_fetch_at=s.next_fetch_at)  # fmt: skip


class SourceList(BaseModel):
    """One page of the sources, in the order they were added."""

    items: list[SourceOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page. Sources added meanwhile "
        "come on later pages; none is skipped or repeated."
    )


class Story(BaseModel):
    id: int
    title: str
    headline_id: int | None
    image: str
    first_seen: datetime
    last_seen: datetime
    article_count: int
    outlet_count: int
    outlets: list[str]
    status: str
    hotness: float
    topic: str = Field(description="its articles' majority topic; empty until they have one")

    @classmethod
    def of(cls, story: StoryCard) -> Story:
        return cls(id=story.id, title=story.title, headline_id=story.headline_id, image=story.image,
                   first_seen=story.first_seen, last_seen=story.last_seen, article_count=story.article_count,
                   outlet_count=story.outlet_count, outlets=list(story.outlets), status=story.status,
                   hotness=round(story.hotness, 4), topic=story.topic)  # fmt: skip


class StoryMerge(BaseModel):
    at: datetime
    merged_story_id: int
    score: float
    detail: str

    @classmethod
    def of(cls, event: StoryEvent) -> StoryMerge:
        return cls(at=event.at, merged_story_id=event.story_id, score=event.score, detail=event.detail)


class StoryDetail(Story):
    articles: list[ArticleSummary]
    merges: list[StoryMerge]
    languages: dict[str, int] = Field(
        description="how many of its articles are in each language (by `lang` code), most first; articles "
        "of unknown language left out. `?lang=` lists only one language's articles"
    )


class BriefCitation(BaseModel):
    article_id: int
    outlet: str
    sentence: int = Field(description="index of the sentence in that article's text")
    text: str = Field(description="that sentence exactly as stored")


class BriefPointOut(BaseModel):
    text: str = Field(description="the point: one of the cited sentences, word for word")
    citations: list[BriefCitation]


class StoryBrief(BaseModel):
    story_id: int
    agreed: list[BriefPointOut] = Field(description="what two outlets or more report, in the order told")
    only: dict[str, list[BriefPointOut]] = Field(
        description="per outlet, what no other outlet's coverage says"
    )
    article_count: int = Field(description="articles the brief was built from")
    outlet_count: int
    story_article_count: int = Field(description="the story's articles now; more than built from: rebuilding")
    built_at: datetime | None = Field(description="null: not built yet (a story one outlet covers has none)")
    waiting: bool = Field(
        False,
        description="true: not built yet, and being built beside the crawl (ask again in a minute); false with "
        "built_at null: this story gets none (one outlet, or briefs off)",
    )
    written: WrittenPoints | None = Field(
        None,
        description="what the coverage agrees on, as the optional LLM wrote it; null when off or not yet written",
    )


class WrittenPoints(BaseModel):
    model: str = Field(description="the model that wrote it")
    article_count: int = Field(0, description="articles the points were written from (briefs)")
    points: list[WrittenPointOut]


class WrittenPointOut(BaseModel):
    text: str = Field(description="a claim written by the model")
    citations: list[BriefCitation] = Field(description="the sentences it was checked against")


class Question(BaseModel):
    question: str = Field(max_length=2000, description="what to ask about the story, in one line")


class AnswerPassage(BaseModel):
    text: str = Field(description="a sentence of the story's coverage, word for word")
    article_id: int
    outlet: str
    sentence: int


class StoryAnswer(BaseModel):
    found: bool = Field(description="false: the coverage does not say; no answer is made up")
    answer: list[AnswerPassage]
    written: WrittenPoints | None = Field(
        None, description="the answer as the optional LLM wrote it from these sentences, once it is written"
    )
    written_pending: bool = Field(
        False, description="true: a written answer is being prepared in the background; ask again later"
    )
