"""The signed-in reader's own things in the JSON API: follows and mutes, bookmarks, For You, their data.

Who: `Authorization: Bearer TOKEN`, or the browser's session with the page's CSRF token in `X-CSRF-Token` for
changes (as for comments, `api/comments.py`). Nobody else's: every route answers for the caller alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from broadsheet.errors import NotFoundError
from broadsheet.web.api.comments import Writer
from broadsheet.web.api.models import ArticleSummary, Story
from broadsheet.web.context import Ctx, PathId
from broadsheet.web.follows import FOR_YOU, followed, for_you
from broadsheet.web.readers import Reader, personal_data, signed_in

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/me", tags=["me"])
Me = Annotated[Reader, Depends(signed_in)]
Kind = Literal["outlet", "tag", "entity", "story"]
Key = Annotated[
    str, Path(max_length=300, description="the outlet's, tag's or entity's slug, or a story's id")
]


class FollowOut(BaseModel):
    kind: str
    key: str
    name: str
    mute: bool
    created_at: datetime


class FollowIn(BaseModel):
    mute: bool = Field(False, description="true: mute it (its stories leave For You) instead of following it")


class Pick(BaseModel):
    story: Story
    reasons: list[str] = Field(description="why it is on the page, in plain words")
    personal: bool = Field(description="false for a top story filling the page")


@router.get("/follows", response_model=list[FollowOut], summary="What you follow and mute")
def follows(ctx: Ctx, me: Me) -> list[FollowOut]:
    return [FollowOut(kind=f.kind, key=f.key, name=f.name, mute=f.mute, created_at=f.created_at)
            for f in ctx.store.follows.follows(me.id)]  # fmt: skip


@router.put("/follows/{kind}/{key}", status_code=204, summary="Follow or mute something")
def follow(ctx: Ctx, kind: Kind, key: Key, body: FollowIn, me: Writer) -> Response:
    kept, name = followed(ctx, kind, key)
    ctx.store.follows.follow(me.id, kind, kept, name, ctx.clock(), mute=body.mute)
    return Response(status_code=204)


@router.delete("/follows/{kind}/{key}", status_code=204, summary="Stop following or muting")
def unfollow(ctx: Ctx, kind: Kind, key: Key, me: Writer) -> Response:
    ctx.store.follows.unfollow(me.id, kind, key)
    return Response(status_code=204)


@router.get("/bookmarks", response_model=list[ArticleSummary], summary="Your bookmarks, newest first")
def bookmarks(ctx: Ctx, me: Me, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ArticleSummary]:
    return [ArticleSummary.of(card) for card in ctx.store.follows.bookmarks(me.id, limit)]


@router.put("/bookmarks/{article_id}", status_code=204, summary="Bookmark an article")
def bookmark(ctx: Ctx, article_id: PathId, me: Writer) -> Response:
    ctx.store.follows.bookmark(me.id, article_id, ctx.clock())
    return Response(status_code=204)


@router.delete("/bookmarks/{article_id}", status_code=204, summary="Remove a bookmark")
def unbookmark(ctx: Ctx, article_id: PathId, me: Writer) -> Response:
    ctx.store.follows.unbookmark(me.id, article_id)
    return Response(status_code=204)


@router.get("/foryou", response_model=list[Pick], summary="Your For You page")
def foryou(ctx: Ctx, me: Me, limit: Annotated[int, Query(ge=1, le=100)] = FOR_YOU) -> list[Pick]:
    return [Pick(story=Story.of(p.story), reasons=list(p.reasons), personal=p.personal)
            for p in for_you(ctx, me, limit)]  # fmt: skip


@router.get("/data", summary="Everything stored about you (JSON)")
def data(ctx: Ctx, me: Me) -> dict[str, object]:
    return personal_data(ctx, me)


class States(BaseModel):
    read: list[int] = Field(description="the asked-for articles you have read (opened, or marked read)")
    bookmarked: list[int] = Field(description="the asked-for articles you bookmarked")


MAX_STATES = 200


@router.get("/states", response_model=States, summary="Which of these articles you read and bookmarked")
def states(
    ctx: Ctx,
    me: Me,
    ids: Annotated[str, Query(max_length=4000, description="article ids, comma-separated")] = "",
) -> States:
    wanted = [int(part) for part in ids.split(",") if part.strip().isdigit() and len(part.strip()) < 19]
    entries = ctx.store.library.entries_by_id(me.id, wanted[:MAX_STATES])
    return States(read=[e.id for e in entries if e.read], bookmarked=[e.id for e in entries if e.starred])


@router.put("/read/{article_id}", status_code=204, summary="Mark an article read (here and in your apps)")
def mark_read(ctx: Ctx, article_id: PathId, me: Writer) -> Response:
    if not ctx.store.library.mark(me.id, [article_id], True, ctx.clock()):
        raise NotFoundError(f"there is no article {article_id}")
    return Response(status_code=204)


@router.delete("/read/{article_id}", status_code=204, summary="Mark an article unread")
def mark_unread(ctx: Ctx, article_id: PathId, me: Writer) -> Response:
    if not ctx.store.library.mark(me.id, [article_id], False, ctx.clock()):
        raise NotFoundError(f"there is no article {article_id}")
    return Response(status_code=204)
