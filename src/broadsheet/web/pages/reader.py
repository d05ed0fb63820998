"""The reader's pages: home, article, outlets, outlet, tag. Thin: read from the store, render a template."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from broadsheet.enrich import TOPIC_LABELS, TOPICS
from broadsheet.errors import NotFoundError
from broadsheet.models import Article, CardPage
from broadsheet.store import ArticlePage, Comment
from broadsheet.text import strip_controls
from broadsheet.web.cache import QueryRoute
from broadsheet.web.comments import ORDERS, editable
from broadsheet.web.context import MAX_ID, Ctx, WebContext, base_url
from broadsheet.web.follows import follow_state
from broadsheet.web.identity import reader_of
from broadsheet.web.languages import LangFilter
from broadsheet.web.pages.panel import build_panel
from broadsheet.web.readers import Reader, current_reader
from broadsheet.web.timefmt import iso

__all__ = ["NO_ENTITY", "NO_OUTLET", "NO_TAG", "router", "routes", "topic_label"]

router = APIRouter(default_response_class=HTMLResponse)

Cursor = Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page.")]
TOP_STORIES = 12
RELATED = 6
COMMENT_PAGE = 50  # top-level comments a page shows (each with its first 100 replies); ?cpage= for more
MAX_ID_DIGITS = len(str(MAX_ID))
NO_OUTLET = "There is no such outlet; the outlets page lists them all."
NO_TAG = "No articles have that tag; tags are listed on each article."
NO_ENTITY = "No articles mention that name; the people, organisations and places are listed on each article."
ENTITY_STORIES = 12
TOPIC_STORIES = 4  # per topic section of the home page


@router.get("/")
def home(ctx: Ctx, request: Request, after: Cursor = None, outlet: str | None = None, tag: str | None = None,
         lang: LangFilter = None) -> Response:  # fmt: skip
    # A filter is shown by the name it has here, and one naming nothing is a 404: whatever a link carries in
    # its query is never written back on the page as the site's own words.
    names = {"outlet": "", "tag": ""}
    if outlet:
        found = ctx.store.reads.outlet(outlet)
        if found is None:
            raise NotFoundError(NO_OUTLET)
        names["outlet"] = found.name
    if tag:
        tagged = ctx.store.reads.tag(tag)
        if tagged is None:
            raise NotFoundError(NO_TAG)
        names["tag"] = tagged.name
    page = ctx.store.reads.latest(
        limit=ctx.settings.page_size, cursor=after, outlet_slug=outlet, tag_slug=tag, lang=lang
    )
    no_sources = not after and not page.items and ctx.store.sources.count() == 0
    # Story-first: the front page leads with the stories most outlets are covering now.
    first_page = not (after or outlet or tag or lang)
    # Stories one outlet covers are in the latest list anyway; the top is what several outlets report.
    top = ctx.store.stories.top(ctx.clock(), limit=TOP_STORIES, min_outlets=2) if first_page else []
    by_topic = ctx.store.stories.top_by_topic(ctx.clock(), TOPIC_STORIES) if first_page else {}
    sections = [(t, TOPIC_LABELS[t], by_topic[t]) for t in TOPICS if t in by_topic]
    return ctx.render(
        request,
        "home.html",
        page=page,
        comment_counts=_counts(ctx, page),
        top_stories=top,
        topic_sections=sections,
        filters={"outlet": outlet, "tag": tag, "lang": lang},
        names=names,
        outlets=ctx.outlets()[:40],
        no_sources=no_sources,
    )


def _counts(ctx: WebContext, page: CardPage) -> dict[int, int]:
    """Comments on each card's article (cards show them; a cached list's counts lag by its time in the cache)."""
    return ctx.store.comments.counts([c.id for c in page.items])


def _follow(ctx: WebContext, request: Request, kind: str, key: str) -> dict[str, str]:
    """The page's follow buttons: what they act on, the reader's state, where they come back to."""
    reader = reader_of(ctx.store, ctx.clock(), request)
    return {"kind": kind, "key": key, "state": follow_state(ctx, reader, kind, key), "back": request.url.path}


def _json_ld(article: Article, url: str, site_name: str, tags: tuple[str, ...]) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title[:110],
        "url": url,
        "mainEntityOfPage": url,
        "isBasedOn": article.canonical_url,
        "publisher": {"@type": "Organization", "name": article.outlet or site_name},
    }
    if article.published:
        data["datePublished"] = iso(article.published)
    if article.updated:
        data["dateModified"] = iso(article.updated)
    if article.author:
        data["author"] = [{"@type": "Person", "name": name.strip()} for name in article.author.split(",")]
    if article.image:
        data["image"] = [article.image]
    if tags:
        data["keywords"] = list(tags)
    # "</script>" inside a value must not end the block: escape "<" (valid JSON either way).
    return strip_controls(json.dumps(data, ensure_ascii=False).replace("<", "\\u003c"))


async def article_page(request: Request) -> Response:
    """The article page: a plain Starlette route (see `routes`), and async on purpose. The page is a handful of
    index lookups (store/article_page.py) costing less than the hop to a worker thread and back, and FastAPI's
    per-request dependency solving would be a fifth of its cost; readers land on this page more than any other.
    """
    ctx: WebContext = request.app.state.context
    given: str = request.path_params["article_id"]
    if not (given.isascii() and given.isdigit()) or len(given) > MAX_ID_DIGITS or int(given) > MAX_ID:
        raise NotFoundError("There is no article at this address: article ids are whole numbers.")
    article_id = int(given)
    order = request.query_params.get("comments", "newest")
    order = order if order in ORDERS else "newest"
    given_page = request.query_params.get("cpage", "1")
    comment_page = (
        int(given_page) if given_page.isascii() and given_page.isdigit() and len(given_page) < 5 else 1
    )
    comment_page = max(1, comment_page)
    reader = await current_reader(request, ctx)
    if ctx.store.engine.dialect.name == "sqlite" and reader is None:  # a local file: faster than a thread hop
        page, thread, bookmarked = _article_reads(ctx, article_id, order, comment_page, reader)
    else:  # a database server's round trips, or a signed-in reader's history written, must not stall the loop
        page, thread, bookmarked = await run_in_threadpool(
            _article_reads, ctx, article_id, order, comment_page, reader
        )
    more, thread = len(thread) > COMMENT_PAGE, thread[:COMMENT_PAGE]
    article = page.article
    url = f"{base_url(request)}/articles/{article_id}"
    # A signed-in reader's page is rendered afresh for them (no cache), with a form per comment: on a worker
    # thread, so that the event loop keeps answering everyone else meanwhile.
    shown: dict[str, Any] = dict(
        article=article,
        card=page.card,
        page_url=url,
        json_ld=_json_ld(article, url, ctx.settings.site_name, page.ai.tags or article.tags),
        related=page.related,
        story=page.story,
        copies=page.copies,
        original=page.original,
        previous=page.previous,
        following=page.following,
        panel=build_panel(article, page.ai, written=ctx.llm_writes("summary")),
        topic_label=TOPIC_LABELS.get(article.topic, ""),
        comments=thread,
        thread_path=f"/articles/{article_id}",
        comment_count=sum((c.deleted_at is None) + len(c.replies) for c in thread),
        comment_order=order,
        comment_page=comment_page,
        comment_next=comment_page + 1 if more else None,
        editable={c.id for c in _all(thread) if editable(ctx, c, reader)},
        reader=reader,
        bookmarked=bookmarked,
    )
    if reader is None:
        return ctx.render(request, "article.html", **shown)
    return await run_in_threadpool(ctx.render, request, "article.html", **shown)


def _article_reads(
    ctx: WebContext, article_id: int, order: str, comment_page: int, reader: Reader | None
) -> tuple[ArticlePage, list[Comment], bool]:
    """The page, its comments, and whether the reader bookmarked it; a signed-in reader's visit is kept in
    their reading history (what For You learns from) and marks the article read, as in their apps."""
    now = ctx.clock()
    page = ctx.store.reads.article_page(article_id, now, RELATED)
    moderator = reader is not None and reader.moderates
    thread = ctx.store.comments.thread(article_id, order, include_hidden=moderator, limit=COMMENT_PAGE + 1,
                                       offset=(comment_page - 1) * COMMENT_PAGE)  # fmt: skip
    if reader is None:
        return page, thread, False
    story = page.story.id if page.story is not None else None
    ctx.store.follows.record_read(reader.id, article_id, story, now)
    ctx.store.library.mark(reader.id, [article_id], True, now)
    return page, thread, article_id in ctx.store.follows.is_bookmarked(reader.id, [article_id])


def _all(thread: list[Comment]) -> list[Comment]:
    return [c for top in thread for c in (top, *top.replies)]


# Routes outside FastAPI's machinery, placed before every other route by the app. The article page reads two
# query parameters: the order of its comments and their page.
routes = [
    QueryRoute(
        "/articles/{article_id}", article_page, reads=("comments", "cpage"), methods=["GET"], name="article"
    )
]


@router.get("/outlets")
def outlets(ctx: Ctx, request: Request) -> Response:
    return ctx.render(request, "outlets.html", outlets=ctx.store.reads.outlets())


@router.get("/outlets/{slug}")
def outlet_page(ctx: Ctx, request: Request, slug: str, after: Cursor = None) -> Response:
    outlet = ctx.store.reads.outlet(slug)
    if outlet is None:
        raise NotFoundError(NO_OUTLET)
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, outlet_slug=slug)
    return ctx.render(request, "listing.html", heading=outlet.name, outlet=outlet, tag=None, page=page,
                      comment_counts=_counts(ctx, page), feed_path=f"/outlets/{slug}",
                      follow=_follow(ctx, request, "outlet", slug))  # fmt: skip


@router.get("/tags/{slug}")
def tag_page(ctx: Ctx, request: Request, slug: str, after: Cursor = None) -> Response:
    tag = ctx.store.reads.tag(slug)
    if tag is None:
        raise NotFoundError(NO_TAG)
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, tag_slug=slug)
    return ctx.render(request, "listing.html", heading=f"#{tag.name}", tag=tag, outlet=None, page=page,
                      comment_counts=_counts(ctx, page), feed_path=f"/tags/{slug}",
                      follow=_follow(ctx, request, "tag", slug))  # fmt: skip


def topic_label(topic: str) -> str:
    """The topic's display name; raises NotFoundError for a topic that is not one of TOPICS."""
    if topic not in TOPIC_LABELS:
        raise NotFoundError(f"There is no such topic; the topics are {', '.join(TOPICS)}.")
    return TOPIC_LABELS[topic]


@router.get("/topics/{topic}")
def topic_page(ctx: Ctx, request: Request, topic: str, after: Cursor = None) -> Response:
    label = topic_label(topic)
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, topic=topic)
    return ctx.render(request, "listing.html", heading=label, tag=None, outlet=None, page=page,
                      comment_counts=_counts(ctx, page), feed_path=f"/topics/{topic}")  # fmt: skip


@router.get("/entities/{slug}")
def entity_page(ctx: Ctx, request: Request, slug: str, after: Cursor = None) -> Response:
    entity = ctx.store.reads.entity(slug)
    if entity is None:
        raise NotFoundError(NO_ENTITY)
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, entity_slug=slug)
    stories = [] if after else ctx.store.stories.cards(ctx.store.reads.entity_stories(slug, ENTITY_STORIES),
                                                        ctx.clock())  # fmt: skip
    return ctx.render(request, "listing.html", heading=entity.name, tag=None, outlet=None, entity=entity,
                      page=page, stories=stories, comment_counts=_counts(ctx, page),
                      feed_path=f"/entities/{slug}", follow=_follow(ctx, request, "entity", slug))  # fmt: skip


@router.get("/healthz", include_in_schema=False)
def healthz(ctx: Ctx) -> Response:
    ctx.store.articles.count()
    return Response("ok\n", media_type="text/plain")
