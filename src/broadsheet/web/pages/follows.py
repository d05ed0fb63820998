"""What a signed-in reader follows, mutes and keeps: the follow and mute buttons (outlets, tags, entities,
stories), bookmarks, and the For You page. Without JavaScript: each button is a form that comes back.

What is followed is checked to exist and named from the database, never from the form; a reader's own pages
are never cached (`web.cache`). The order of For You is `web.foryou`'s.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from broadsheet.web.context import Ctx, PathId
from broadsheet.web.follows import followed, for_you
from broadsheet.web.pages.account import check_form, safe_next, to_signin
from broadsheet.web.readers import SessionReader

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse)
Token = Annotated[str, Form(alias="csrf", max_length=200)]
Kind = Literal["outlet", "tag", "entity", "story"]


@router.post("/follow")
def follow(ctx: Ctx, request: Request, reader: SessionReader, kind: Annotated[Kind, Form()],
           key: Annotated[str, Form(max_length=300)], action: Annotated[Literal["follow", "mute", "unfollow"], Form()],
           next: Annotated[str, Form(alias="next", max_length=500)] = "/", csrf: Token = "") -> Response:  # fmt: skip
    """Follow, mute, or stop either (one state per thing: following something muted unmutes it)."""
    if reader is None:
        return to_signin(safe_next(next))
    check_form(ctx, request, csrf)
    if action == "unfollow":
        ctx.store.follows.unfollow(reader.id, kind, key)
    else:
        kept, name = followed(ctx, kind, key)
        ctx.store.follows.follow(reader.id, kind, kept, name, ctx.clock(), mute=action == "mute")
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/articles/{article_id}/bookmark")
def bookmark(ctx: Ctx, request: Request, article_id: PathId, reader: SessionReader,
             action: Annotated[Literal["add", "remove"], Form()] = "add", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin(f"/articles/{article_id}")
    check_form(ctx, request, csrf)
    if action == "add":
        ctx.store.follows.bookmark(reader.id, article_id, ctx.clock())
    else:
        ctx.store.follows.unbookmark(reader.id, article_id)
    return RedirectResponse(f"/articles/{article_id}", status_code=303)


@router.get("/bookmarks")
def bookmarks(ctx: Ctx, request: Request, reader: SessionReader) -> Response:
    if reader is None:
        return to_signin("/bookmarks")
    return ctx.render(
        request, "bookmarks.html", reader=reader, cards=ctx.store.follows.bookmarks(reader.id, 200)
    )


@router.get("/following")
def following(ctx: Ctx, request: Request, reader: SessionReader) -> Response:
    """Everything the reader follows and mutes, each with a button to stop."""
    if reader is None:
        return to_signin("/following")
    return ctx.render(request, "following.html", reader=reader, follows=ctx.store.follows.follows(reader.id))


@router.get("/foryou")
def for_you_page(ctx: Ctx, request: Request, reader: SessionReader) -> Response:
    if reader is None:
        return to_signin("/foryou")
    picks = for_you(ctx, reader)
    # Nothing followed or read yet: the page says how to start, above the top stories.
    empty = not any(p.personal for p in picks) and not ctx.store.follows.follows(reader.id)
    return ctx.render(request, "foryou.html", reader=reader, picks=picks, empty=empty)
