"""The JSON API, version 1: articles, outlets, search, sources (admin). Errors: `{"error": {code, message}}`."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from broadsheet.errors import BadCursorError
from broadsheet.pipeline.briefs import gets_brief
from broadsheet.pipeline.rewrite import written_answer, written_brief
from broadsheet.web.api.models import (
    AnswerPassage,
    ArticleDetail,
    ArticleList,
    ArticleSummary,
    Outlet,
    Question,
    SearchResult,
    SearchResults,
    SourceList,
    SourceOut,
    Story,
    StoryAnswer,
    StoryBrief,
    StoryDetail,
    StoryMerge,
    WrittenPoints,
)
from broadsheet.web.auth import require_admin
from broadsheet.web.context import MAX_ID, Ctx, PathId
from broadsheet.web.errors import error_response
from broadsheet.web.languages import LangFilter
from broadsheet.web.search import run_search
from broadsheet.web.server import request_client

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["api"])

MAX_SOURCES_PAGE = 500


@router.get("/articles", response_model=ArticleList, summary="Latest articles, newest first")
def list_articles(
    ctx: Ctx,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 30,
    outlet: str | None = None,
    tag: str | None = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    include_duplicates: bool = False,
) -> ArticleList:
    page = ctx.store.reads.latest(limit=limit, cursor=cursor, outlet_slug=outlet, tag_slug=tag, lang=lang,
                                  include_duplicates=include_duplicates)  # fmt: skip
    return ArticleList(items=[ArticleSummary.of(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/articles/{article_id}", response_model=ArticleDetail,
            summary="One article with its full text and what enrichment made of it")  # fmt: skip
def get_article(ctx: Ctx, article_id: PathId) -> ArticleDetail:
    article = ctx.store.articles.get(article_id)
    ai = ctx.store.enrichments.view(article_id, article.text)
    return ArticleDetail.full(
        ctx.store.reads.card(article_id), article, ai, written=ctx.llm_writes("summary")
    )


@router.get("/outlets", response_model=list[Outlet], summary="Outlets by article count")
def list_outlets(ctx: Ctx) -> list[Outlet]:
    return [Outlet.of(o) for o in ctx.store.reads.outlets()]


@router.get("/search", response_model=SearchResults, summary="Full-text search (syntax as on /search)")
def search_articles(
    ctx: Ctx,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    page: Annotated[int, Query(ge=1, le=50)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
    outlet: str | None = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    since: date | None = None,
    until: date | None = None,
) -> SearchResults:
    results = run_search(ctx, q, page, outlet, lang, since, until, per_page)
    hits = [SearchResult(article=ArticleSummary.of(h.card), snippet_html=h.snippet_html, rank=h.rank)
            for h in results.hits]  # fmt: skip
    return SearchResults(query=q, page=results.page, has_next=results.has_next, results=hits)


@router.get("/stories", response_model=list[Story], summary="Top stories now, hottest first")
def list_stories(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=100)] = 30) -> list[Story]:
    return [Story.of(s) for s in ctx.store.stories.top(ctx.clock(), limit=limit)]


@router.get("/stories/{story_id}", response_model=StoryDetail,
            summary="One story with every member article (a merged story answers as the one it joined)")  # fmt: skip
def get_story(ctx: Ctx, story_id: PathId, lang: LangFilter = None) -> StoryDetail:
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    members = [ArticleSummary.of(c) for c in ctx.store.stories.members(story.id, lang=lang)]
    merges = [StoryMerge.of(e) for e in ctx.store.stories.events(story.id)]
    return StoryDetail(**Story.of(story).model_dump(), articles=members, merges=merges,
                       languages=ctx.store.stories.languages(story.id))  # fmt: skip


@router.get("/stories/{story_id}/articles", response_model=list[ArticleSummary],
            summary="A story's articles, oldest first, copies included")  # fmt: skip
def story_articles(ctx: Ctx, story_id: PathId, lang: LangFilter = None) -> list[ArticleSummary]:
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    return [ArticleSummary.of(c) for c in ctx.store.stories.members(story.id, lang=lang)]


@router.get("/stories/{story_id}/related", response_model=list[Story], summary="Stories about similar things")
def related_stories(ctx: Ctx, story_id: PathId, limit: Annotated[int, Query(ge=1, le=50)] = 6) -> list[Story]:
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    return [Story.of(s) for s in ctx.store.stories.related(story.id, ctx.clock(), limit=limit)]


@router.get("/stories/{story_id}/brief", response_model=StoryBrief,
            summary="What the coverage agrees on, and what only one outlet reports (each citing its sentences)")  # fmt: skip
def story_brief(ctx: Ctx, story_id: PathId) -> StoryBrief:
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    stored = ctx.store.briefs.get(story.id)
    if stored is None:
        return StoryBrief(story_id=story.id, agreed=[], only={}, article_count=0, outlet_count=0,
                          story_article_count=story.article_count, built_at=None,
                          waiting=gets_brief(ctx.settings, story.outlet_count))  # fmt: skip
    data = stored.data
    written = written_brief(ctx.store, ctx.settings, story.id)
    return StoryBrief(story_id=story.id, agreed=data["agreed"], only=data["only"],
                      article_count=data["article_count"], outlet_count=data["outlet_count"],
                      story_article_count=story.article_count, built_at=stored.built_at,
                      written=WrittenPoints(model=written.model, article_count=written.article_count,
                                            points=list(written.points)) if written else None)  # fmt: skip


@router.post("/stories/{story_id}/ask", response_model=StoryAnswer,
             summary="Ask about a story: answered from its articles' own sentences, or found: false")  # fmt: skip
def ask_story(ctx: Ctx, request: Request, story_id: PathId, body: Question) -> Response | StoryAnswer:
    wait = ctx.question_limit.wait(request_client(request))
    if wait:
        return error_response(request, 429, f"Too many questions; ask again in {math.ceil(wait)} s.",
                              {"Retry-After": str(math.ceil(wait))})  # fmt: skip
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    answer = ctx.questions.ask(story.id, body.question)
    written = written_answer(ctx.store, ctx.settings, story.id, body.question, answer, ctx.clock())
    return StoryAnswer(found=answer.found, answer=[
        AnswerPassage(text=c.text, article_id=c.article_id, outlet=c.outlet, sentence=c.sentence)
        for c in answer.passages],
        written=WrittenPoints(model=written.model, points=list(written.points)) if written.points else None,
        written_pending=written.pending)  # fmt: skip


@router.get("/sources", response_model=SourceList, summary="Sources and their health, a page at a time (admin)",
            dependencies=[Depends(require_admin)])  # fmt: skip
def list_sources(
    ctx: Ctx,
    cursor: Annotated[
        str | None, Query(max_length=40, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SOURCES_PAGE, description="sources per page")] = 100,
) -> SourceList:
    after = _source_cursor(cursor) if cursor else 0
    page = ctx.store.sources.after(after, limit=limit + 1)
    items = [SourceOut.of(s) for s in page[:limit]]
    return SourceList(items=items, next_cursor=str(items[-1].id) if len(page) > limit else None)


def _source_cursor(cursor: str) -> int:
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) > MAX_ID:
        raise BadCursorError(
            "this cursor is not one the sources list handed out (it may have been cut short or edited); "
            "start again without it"
        )
    return int(cursor)
