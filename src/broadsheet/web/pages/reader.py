"""The reader's pages: home, article, outlets, outlet, tag. Thin: read from the store, render a template."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from broadsheet.errors import NotFoundError
from broadsheet.models import Article, ArticleCard, StoryCard
from broadsheet.web.context import Ctx, WebContext, base_url
from broadsheet.web.timefmt import iso

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse)

Cursor = Annotated[str | None, Query(max_length=200, description="Opaque cursor from the previous page.")]
TOP_STORIES = 12
RELATED = 6

Lang = Annotated[str | None, Query(max_length=16, pattern=r"^[A-Za-z-]+$")]


@router.get("/")
def home(ctx: Ctx, request: Request, after: Cursor = None, outlet: str | None = None, tag: str | None = None,
         lang: Lang = None) -> Response:  # fmt: skip
    page = ctx.store.reads.latest(
        limit=ctx.settings.page_size, cursor=after, outlet_slug=outlet, tag_slug=tag, lang=lang
    )
    no_sources = not after and not page.items and not ctx.store.sources.all()
    # Story-first: the front page leads with the stories most outlets are covering now.
    first_page = not (after or outlet or tag or lang)
    # Stories one outlet covers are in the latest list anyway; the top is what several outlets report.
    top = ctx.store.stories.top(ctx.clock(), limit=TOP_STORIES, min_outlets=2) if first_page else []
    return ctx.render(
        request,
        "home.html",
        page=page,
        top_stories=top,
        filters={"outlet": outlet, "tag": tag, "lang": lang},
        outlets=ctx.outlets()[:40],
        no_sources=no_sources,
    )


def _json_ld(article: Article, url: str, site_name: str) -> str:
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
    if article.tags:
        data["keywords"] = list(article.tags)
    # "</script>" inside a value must not end the block: escape "<" (valid JSON either way).
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


@router.get("/articles/{article_id}")
def article_page(ctx: Ctx, request: Request, article_id: int) -> Response:
    article = ctx.store.articles.get(article_id)
    reads = ctx.store.reads
    card = reads.card(article_id)
    previous, following = reads.neighbours(article_id)
    original: ArticleCard | None = reads.card(article.duplicate_of) if article.duplicate_of else None
    url = f"{base_url(request)}/articles/{article_id}"
    story, related = _related(ctx, article, card)
    return ctx.render(
        request,
        "article.html",
        article=article,
        card=card,
        page_url=url,
        json_ld=_json_ld(article, url, ctx.settings.site_name),
        related=related,
        story=story,
        copies=reads.copies(article_id),
        original=original,
        previous=previous,
        following=following,
        paragraphs=[p for p in article.text.split("\n\n") if p.strip()],
    )


def _related(
    ctx: WebContext, article: Article, card: ArticleCard
) -> tuple[StoryCard | None, list[ArticleCard]]:
    """The article's story, and its related articles: the story's other articles from other outlets first
    (then more from its own outlet), then the headline articles of the closest other stories. An article
    not yet in a story gets full-text neighbours instead."""
    assert article.id is not None
    if article.story_id is None:
        return None, ctx.store.reads.related(article.id, limit=RELATED)
    now = ctx.clock()
    story = ctx.store.stories.get(article.story_id, now)
    related = ctx.store.stories.coverage_for(story.id, article.id, card.outlet_slug, RELATED)
    if len(related) < RELATED:
        near = ctx.store.stories.related(story.id, now, limit=RELATED - len(related))
        related += ctx.store.reads.cards([s.headline_id for s in near if s.headline_id is not None])
    return story, related


@router.get("/outlets")
def outlets(ctx: Ctx, request: Request) -> Response:
    return ctx.render(request, "outlets.html", outlets=ctx.store.reads.outlets())


@router.get("/outlets/{slug}")
def outlet_page(ctx: Ctx, request: Request, slug: str, after: Cursor = None) -> Response:
    outlet = ctx.store.reads.outlet(slug)
    if outlet is None:
        raise NotFoundError(f"no outlet called {slug!r}; the outlets page lists them all")
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, outlet_slug=slug)
    return ctx.render(request, "listing.html", heading=outlet.name, outlet=outlet, tag=None, page=page,
                      feed_path=f"/outlets/{slug}")  # fmt: skip


@router.get("/tags/{slug}")
def tag_page(ctx: Ctx, request: Request, slug: str, after: Cursor = None) -> Response:
    tag = ctx.store.reads.tag(slug)
    if tag is None:
        raise NotFoundError(f"no articles are tagged {slug!r}")
    page = ctx.store.reads.latest(limit=ctx.settings.page_size, cursor=after, tag_slug=slug)
    return ctx.render(request, "listing.html", heading=f"#{tag.name}", tag=tag, outlet=None, page=page,
                      feed_path=f"/tags/{slug}")  # fmt: skip


@router.get("/healthz", include_in_schema=False)
def healthz(ctx: Ctx) -> Response:
    ctx.store.articles.count()
    return Response("ok\n", media_type="text/plain")
