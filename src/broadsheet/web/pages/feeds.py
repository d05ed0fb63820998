"""Feeds out: Atom and RSS for home, each outlet, tag, topic and entity, and any search query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.web.context import Ctx, WebContext, base_url
from broadsheet.web.feeds import ATOM_TYPE, RSS_TYPE, FeedMeta, atom_feed, rss_feed
from broadsheet.web.pages.reader import NO_ENTITY, NO_OUTLET, NO_TAG, topic_label
from broadsheet.web.search import run_search

__all__ = ["FEED_SIZE", "feed_response", "router"]

router = APIRouter()
Kind = Literal["atom", "rss"]
FEED_SIZE = 50


def feed_response(ctx: WebContext, request: Request, kind: Kind, title: str, html_path: str,
          cards: Sequence[ArticleCard]) -> Response:  # fmt: skip
    base = base_url(request)
    self_url = str(request.url)
    meta = FeedMeta(title=f"{ctx.settings.site_name} — {title}", self_url=self_url, html_url=base + html_path,
                    id=self_url, lang=ctx.settings.site_language, hub=ctx.settings.websub_hub)  # fmt: skip
    now = ctx.clock()
    if kind == "atom":
        return Response(atom_feed(meta, cards, base, now), media_type=ATOM_TYPE)
    return Response(rss_feed(meta, cards, base, now), media_type=RSS_TYPE)


@router.get("/feed.{kind}")
def home_feed(ctx: Ctx, request: Request, kind: Kind) -> Response:
    cards = ctx.store.reads.latest(limit=FEED_SIZE).items
    return feed_response(ctx, request, kind, "latest", "/", cards)


@router.get("/outlets/{slug}.{kind}")
def outlet_feed(ctx: Ctx, request: Request, slug: str, kind: Kind) -> Response:
    outlet = ctx.store.reads.outlet(slug)
    if outlet is None:
        raise NotFoundError(NO_OUTLET)
    cards = ctx.store.reads.latest(limit=FEED_SIZE, outlet_slug=slug).items
    return feed_response(ctx, request, kind, outlet.name, f"/outlets/{slug}", cards)


@router.get("/tags/{slug}.{kind}")
def tag_feed(ctx: Ctx, request: Request, slug: str, kind: Kind) -> Response:
    tag = ctx.store.reads.tag(slug)
    if tag is None:
        raise NotFoundError(NO_TAG)
    cards = ctx.store.reads.latest(limit=FEED_SIZE, tag_slug=slug).items
    return feed_response(ctx, request, kind, f"#{tag.name}", f"/tags/{slug}", cards)


@router.get("/topics/{topic}.{kind}")
def topic_feed(ctx: Ctx, request: Request, topic: str, kind: Kind) -> Response:
    label = topic_label(topic)
    cards = ctx.store.reads.latest(limit=FEED_SIZE, topic=topic).items
    return feed_response(ctx, request, kind, label, f"/topics/{topic}", cards)


@router.get("/entities/{slug}.{kind}")
def entity_feed(ctx: Ctx, request: Request, slug: str, kind: Kind) -> Response:
    entity = ctx.store.reads.entity(slug)
    if entity is None:
        raise NotFoundError(NO_ENTITY)
    cards = ctx.store.reads.latest(limit=FEED_SIZE, entity_slug=slug).items
    return feed_response(ctx, request, kind, entity.name, f"/entities/{slug}", cards)


@router.get("/search.{kind}")
def search_feed(
    ctx: Ctx,
    request: Request,
    kind: Kind,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    outlet: str | None = None,
    lang: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    results = run_search(ctx, q, 1, outlet, lang, since, until, FEED_SIZE)
    query = urlencode({k: v for k, v in {"q": q, "outlet": outlet, "lang": lang}.items() if v})
    return feed_response(
        ctx, request, kind, f"search: {q}", f"/search?{query}", [hit.card for hit in results.hits]
    )
