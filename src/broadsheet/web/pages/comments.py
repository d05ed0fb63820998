"""Comments on the article page, without JavaScript: the forms under the article post here and come back to
the comment; editing has a page of its own; moderators hide, restore and ban, and see the open reports.

Every form is checked for origin and CSRF token (`pages.account.check_form`); the rules are `web.comments`'.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from broadsheet.store import Comment
from broadsheet.web import comments as actions
from broadsheet.web.context import MAX_ID, Ctx, PathId, WebContext
from broadsheet.web.identity import Reader
from broadsheet.web.pages.account import check_form, to_signin
from broadsheet.web.readers import SessionReader
from broadsheet.web.server import request_client

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse)
Token = Annotated[str, Form(alias="csrf", max_length=200)]
Body = Annotated[str, Form(max_length=40_000)]  # characters, before the 10 000 of the comment's own check


def _where(ctx: WebContext, comment: Comment) -> str:
    """Where the comment is shown: its article's page, or its story's."""
    path = f"/articles/{comment.article_id}"
    if comment.on_story:
        story = ctx.store.stories.story_of([comment.article_id]).get(comment.article_id)
        path = f"/stories/{story}" if story is not None else path
    return f"{path}#comment-{comment.id}"


def _back(ctx: WebContext, comment: Comment) -> Response:
    return RedirectResponse(_where(ctx, comment), status_code=303)


@router.post("/articles/{article_id}/comments")
def post_comment(ctx: Ctx, request: Request, article_id: PathId, reader: SessionReader, body: Body,
                 parent_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None, csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin(f"/articles/{article_id}#comments")
    check_form(ctx, request, csrf)
    comment = actions.post(ctx, request.scope, reader, request_client(request), article_id, body, parent_id)
    return _back(ctx, comment)


@router.post("/stories/{story_id}/comments")
def post_story_comment(ctx: Ctx, request: Request, story_id: PathId, reader: SessionReader, body: Body,
                       parent_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None, csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin(f"/stories/{story_id}#comments")
    check_form(ctx, request, csrf)
    story, anchor = actions.story_anchor(ctx, story_id)
    comment = actions.post(ctx, request.scope, reader, request_client(request), anchor, body, parent_id,
                           on_story=True)  # fmt: skip
    return RedirectResponse(f"/stories/{story}#comment-{comment.id}", status_code=303)


@router.get("/comments/{comment_id}/edit")
def edit_page(ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader) -> Response:
    if reader is None:
        return to_signin(f"/comments/{comment_id}/edit")
    comment = actions.found(ctx, comment_id)
    if not actions.editable(ctx, comment, reader):
        raise HTTPException(
            403, "You cannot edit this comment: it is someone else's, or its edit window is over."
        )
    return ctx.render(request, "comment_edit.html", comment=comment, reader=reader, error="",
                      back=_where(ctx, comment))  # fmt: skip


@router.post("/comments/{comment_id}/edit")
def edit(
    ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader, body: Body, csrf: Token = ""
) -> Response:
    if reader is None:
        return to_signin(f"/comments/{comment_id}/edit")
    check_form(ctx, request, csrf)
    comment = actions.edit(ctx, request.scope, reader, request_client(request), comment_id, body)
    return _back(ctx, comment)


@router.post("/comments/{comment_id}/delete")
def delete(
    ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader, csrf: Token = ""
) -> Response:
    if reader is None:
        return to_signin(f"/comments/{comment_id}/edit")
    check_form(ctx, request, csrf)
    comment = actions.delete(ctx, request.scope, reader, comment_id)
    return _back(ctx, comment)


@router.post("/comments/{comment_id}/report")
def report(ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader,
           reason: Annotated[str, Form(max_length=1000)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/")
    check_form(ctx, request, csrf)
    comment = actions.found(ctx, comment_id)
    actions.report(ctx, reader, request_client(request), comment_id, reason)
    return _back(ctx, comment)


@router.post("/comments/{comment_id}/vote")
def vote(ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader,
         up: Annotated[bool, Form()] = True, csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/")
    check_form(ctx, request, csrf)
    actions.vote(ctx, request.scope, reader, request_client(request), comment_id, up=up)
    return _back(ctx, actions.found(ctx, comment_id))


@router.post("/comments/{comment_id}/hide")
def hide(ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader, csrf: Token = "") -> Response:
    if reader is None:
        return to_signin("/moderation")
    check_form(ctx, request, csrf)
    comment = actions.hide(ctx, request.scope, reader, comment_id)
    return _back(ctx, comment)


@router.post("/comments/{comment_id}/restore")
def restore(
    ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader, csrf: Token = ""
) -> Response:
    if reader is None:
        return to_signin("/moderation")
    check_form(ctx, request, csrf)
    comment = actions.restore(ctx, request.scope, reader, comment_id)
    return _back(ctx, comment)


@router.post("/comments/{comment_id}/dismiss")
def dismiss(
    ctx: Ctx, request: Request, comment_id: PathId, reader: SessionReader, csrf: Token = ""
) -> Response:
    """Close a comment's reports and leave it shown."""
    if reader is None:
        return to_signin("/moderation")
    check_form(ctx, request, csrf)
    actions.dismiss(ctx, reader, comment_id)
    return RedirectResponse("/moderation", status_code=303)


@router.get("/moderation")
def moderation(ctx: Ctx, request: Request, reader: SessionReader) -> Response:
    """Open reports, newest first, each with its comment and what a moderator can do about it."""
    if reader is None:
        return to_signin("/moderation")
    if not reader.moderates or reader.banned:
        raise HTTPException(403, "Only moderators may see the reports.")
    return _moderation(ctx, request, reader, "")


@router.post("/moderation/ban")
def ban(ctx: Ctx, request: Request, reader: SessionReader, name: Annotated[str, Form(max_length=100)],
        reason: Annotated[str, Form(max_length=1000)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/moderation")
    check_form(ctx, request, csrf)
    actions.ban(ctx, reader, name.strip(), reason)
    return _moderation(
        ctx, request, reader, f"{name.strip()} is banned: their sessions ended and they can no longer post."
    )


def _moderation(ctx: WebContext, request: Request, reader: Reader, message: str) -> Response:
    reports = ctx.store.comments.reports()
    places = {r.comment.id: _where(ctx, r.comment) for r in reports}
    return ctx.render(
        request, "moderation.html", reports=reports, places=places, reader=reader, message=message
    )
