"""Stories: the story page (its brief, every outlet's coverage of one event side by side, its timeline, and
"ask about this story") and its feed. Thin, like every page: read from the store, shape for the template."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from broadsheet.enrich import MAX_QUESTION_CHARS, TOPIC_LABELS, Answer
from broadsheet.errors import FilterError, QuestionError
from broadsheet.models import ArticleCard, StoryCard
from broadsheet.pipeline.briefs import gets_brief
from broadsheet.pipeline.rewrite import WrittenAnswer, written_answer, written_brief
from broadsheet.web.comments import ORDERS, editable
from broadsheet.web.context import Ctx, PathId, WebContext
from broadsheet.web.follows import follow_state
from broadsheet.web.identity import reader_of
from broadsheet.web.languages import LangFilter, Language, languages_of
from broadsheet.web.pages.feeds import FEED_SIZE, feed_response
from broadsheet.web.pages.reader import COMMENT_PAGE
from broadsheet.web.server import request_client

__all__ = ["Coverage", "TimelineEntry", "coverage", "router", "timeline"]

router = APIRouter(default_response_class=HTMLResponse)
CommentOrder = Annotated[str, Query(max_length=10, description="newest, oldest or top")]
CommentPage = Annotated[int, Query(ge=1, le=9999, description="the page of the story's comments")]


@dataclass(frozen=True, slots=True)
class Coverage:
    """One outlet's articles in a story, with the copies of each that other outlets carried."""

    outlet: str
    outlet_slug: str
    articles: tuple[tuple[ArticleCard, tuple[ArticleCard, ...]], ...]  # (original, its copies)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    label: str  # "First report", "Report", "Follow-up" (an outlet's second article or later), "Copy"
    card: ArticleCard


def coverage(members: list[ArticleCard]) -> list[Coverage]:
    """Members grouped by outlet (outlets in the order they first reported), copies folded under their
    original ("also carried by"); a copy whose original is not in the story is shown as an article."""
    ids = {c.id for c in members}
    copies: dict[int, list[ArticleCard]] = defaultdict(list)
    by_outlet: dict[str, list[ArticleCard]] = {}
    for c in members:
        if c.duplicate_of is not None and c.duplicate_of in ids:
            copies[c.duplicate_of].append(c)
        else:
            by_outlet.setdefault(c.outlet_slug, []).append(c)
    return [
        Coverage(cards[0].outlet, slug, tuple((c, tuple(copies.get(c.id, ()))) for c in cards))
        for slug, cards in by_outlet.items()
    ]


def timeline(members: list[ArticleCard]) -> list[TimelineEntry]:
    """Every member in publish order: who reported first, and what came after."""
    seen: set[str] = set()
    entries = []
    first = True
    for c in sorted(members, key=lambda c: (c.sort_time, c.id)):
        if c.duplicate_of is not None:
            label = "Copy"
        elif first:
            label, first = "First report", False
        elif c.outlet_slug in seen:
            label = "Follow-up"
        else:
            label = "Report"
        seen.add(c.outlet_slug)
        entries.append(TimelineEntry(c.sort_time, label, c))
    return entries


def _no_such_language(story_id: int, languages: list[Language]) -> str:
    """The answer to a filter naming a language none of the story's articles is in. The value it named is not
    repeated: whatever a link carries in its query is never written back as the site's own words."""
    if not languages:
        return f"None of this story's articles has a known language; /stories/{story_id} lists them all."
    held = ", ".join(f"{language.name} ({language.code})" for language in languages)
    return (
        f"None of this story's articles is in that language; they are in {held}. "
        f"/stories/{story_id} lists them all, with a link for each language."
    )


def _headline(ctx: Ctx, headline_id: int | None, members: list[ArticleCard]) -> ArticleCard | None:
    """The story's most central article (read on its own when the page does not list it)."""
    for m in members:
        if m.id == headline_id:
            return m
    found = ctx.store.reads.cards([headline_id]) if headline_id is not None else []
    return found[0] if found else (members[0] if members else None)


# The feed's route first: "/stories/5.atom" would otherwise reach the page's route and fail validation.
@router.get("/stories/{story_id}.{kind}")
def story_feed(ctx: Ctx, request: Request, story_id: PathId, kind: Literal["atom", "rss"]) -> Response:
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    newest = ctx.store.stories.members(story.id, FEED_SIZE)[::-1]
    return feed_response(ctx, request, kind, f"story: {story.title}", f"/stories/{story.id}", newest)


@router.get("/stories/{story_id}")
def story_page(ctx: Ctx, request: Request, story_id: PathId, lang: LangFilter = None,
               comments: CommentOrder = "newest", cpage: CommentPage = 1) -> Response:  # fmt: skip
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    if story.id != story_id:
        # 302, not 301: a merge can be undone by `recluster`, and browsers keep a 301 for good.
        query = f"?lang={quote(lang)}" if lang else ""
        return RedirectResponse(f"/stories/{story.id}{query}", status_code=302)
    order = comments if comments in ORDERS else "newest"
    return _render(ctx, request, story, lang=lang, comment_order=order, comment_page=cpage)


@router.post("/stories/{story_id}/ask")
async def ask_page(ctx: Ctx, request: Request, story_id: PathId) -> Response:
    """The story page with the answer to the question posted from its form (no JavaScript needed)."""
    form = await request.form()
    raw = form.get("question")
    question = raw if isinstance(raw, str) else ""
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    wait = ctx.question_limit.wait(request_client(request))
    if wait:
        note = f"Too many questions from your address; ask again in {math.ceil(wait)} s."
        return _render(ctx, request, story, question=question[:MAX_QUESTION_CHARS], ask_error=note, status=429,
                       headers={"Retry-After": str(math.ceil(wait))})  # fmt: skip
    try:
        answer = await run_in_threadpool(ctx.questions.ask, story.id, question)
    except QuestionError as exc:
        return _render(
            ctx, request, story, question=question[:MAX_QUESTION_CHARS], ask_error=str(exc), status=400
        )
    written = await run_in_threadpool(
        written_answer, ctx.store, ctx.settings, story.id, question, answer, ctx.clock()
    )
    return _render(ctx, request, story, question=question, answer=answer, written=written)


def _render(
    ctx: WebContext,
    request: Request,
    story: StoryCard,
    *,
    question: str = "",
    answer: Answer | None = None,
    written: WrittenAnswer | None = None,
    ask_error: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
    lang: str | None = None,
    comment_order: str = "newest",
    comment_page: int = 1,
) -> Response:
    # At most story_page_articles: a story of thousands of articles would otherwise be a page of megabytes.
    settings = ctx.settings
    reader = reader_of(ctx.store, ctx.clock(), request)
    thread = ctx.store.comments.story_thread(
        story.id,
        comment_order,
        include_hidden=reader is not None and reader.moderates,
        limit=COMMENT_PAGE + 1,
        offset=(comment_page - 1) * COMMENT_PAGE,
    )
    more, thread = len(thread) > COMMENT_PAGE, thread[:COMMENT_PAGE]
    languages = languages_of(ctx.store.stories.languages(story.id))
    counts = {language.code: language.count for language in languages}
    if lang is not None and lang not in counts:
        raise FilterError(_no_such_language(story.id, languages))
    members = ctx.store.stories.members(
        story.id, settings.story_page_articles, earliest=settings.story_page_first_reports
    )
    listed, entries = members, timeline(members)
    if lang is not None:
        listed = ctx.store.stories.members(
            story.id, settings.story_page_articles, earliest=settings.story_page_first_reports, lang=lang
        )
        # Labelled among all the coverage read: the first article in Portuguese is not the first report.
        entries = timeline(list({c.id: c for c in members + listed}.values()))
    # A story several outlets tell gets its brief beside the crawl, seconds after it is grouped: until then the
    # page says it is coming rather than showing nothing.
    brief = ctx.store.briefs.get(story.id)
    response = ctx.render(
        request,
        "story.html",
        status=status,
        story=story,
        shown=len(listed),
        total=counts[lang] if lang is not None else story.article_count,
        coverage=coverage(listed),
        timeline=[e for e in entries if lang is None or e.card.lang == lang],
        first_report=next((e.card for e in entries if e.label == "First report"), None),
        languages=languages,
        lang=lang,
        headline=_headline(ctx, story.headline_id, members),
        related=ctx.store.stories.related(story.id, ctx.clock()),
        events=ctx.store.stories.events(story.id),
        brief=brief,
        brief_waiting=brief is None and gets_brief(settings, story.outlet_count),
        written_brief=written_brief(ctx.store, settings, story.id),
        written_answer=written,
        topic_label=TOPIC_LABELS.get(story.topic, ""),
        question=question,
        answer=answer,
        ask_error=ask_error,
        max_question=MAX_QUESTION_CHARS,
        comments=thread,
        thread_path=f"/stories/{story.id}",
        comment_count=sum((c.deleted_at is None) + len(c.replies) for c in thread),
        comment_order=comment_order,
        comment_page=comment_page,
        comment_next=comment_page + 1 if more else None,
        editable={c.id for top in thread for c in (top, *top.replies) if editable(ctx, c, reader)},
        reader=reader,
        follow_state=follow_state(ctx, reader, "story", str(story.id)),
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if answer is not None or ask_error:
        response.headers["Cache-Control"] = "no-store"
    return response
