"""Comments in the JSON API: an article's thread and a story's, and a signed-in reader's comments (post, edit, delete, report,
vote); moderators hide and restore.

Who: `Authorization: Bearer TOKEN` (a personal API token: `broadsheet user token NAME`, or the account page),
or the browser's session cookie together with an `X-CSRF-Token` header (the token of the page's forms), so that
another site cannot post in a reader's name. 401 without credentials, 403 for someone else's comment, 429 past
the rate limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from broadsheet.store import Comment
from broadsheet.web import comments as actions
from broadsheet.web.context import MAX_ID, Ctx, PathId
from broadsheet.web.readers import CurrentReader, Reader, signed_in
from broadsheet.web.security import request_identity, valid_csrf
from broadsheet.web.server import request_client

__all__ = ["CommentIn", "CommentOut", "CommentThread", "StoryThread", "router"]

router = APIRouter(prefix="/api/v1", tags=["comments"])
MAX_BODY = 10_000
PAGE = 50  # top-level comments a page of a thread holds (each with its first 100 replies)
Order = Annotated[Literal["newest", "oldest", "top"], Query()]
Limit = Annotated[int, Query(ge=1, le=200, description="top-level comments on this page")]
Offset = Annotated[int, Query(ge=0, le=100_000, description="top-level comments to skip (next_offset)")]


class CommentIn(BaseModel):
    body: str = Field(
        max_length=MAX_BODY, description="Markdown: **bold**, *italic*, `code`, links, lists, quotes."
    )
    parent_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The comment this one answers (replies are one level deep)."
    )


class CommentEdit(BaseModel):
    body: str = Field(max_length=MAX_BODY)


class Report(BaseModel):
    reason: str = Field("", max_length=1000)


class Author(BaseModel):
    name: str
    display_name: str


class CommentOut(BaseModel):
    id: int
    article_id: int
    parent_id: int | None
    author: Author | None = Field(description="null once the comment is deleted")
    body: str = Field(description="its Markdown; empty once deleted or hidden")
    html: str = Field(description="its Markdown rendered and sanitised")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    votes: int
    on_story: bool = Field(description="a comment on the article's story rather than on the article alone")
    replies: list[CommentOut] = []

    @classmethod
    def of(cls, c: Comment, *, moderator: bool = False) -> CommentOut:
        gone = c.deleted_at is not None or (c.hidden_at is not None and not moderator)
        return cls(id=c.id, article_id=c.article_id, parent_id=c.parent_id,
                   author=None if c.deleted_at else Author(name=c.author_name, display_name=c.author_display),
                   body="" if gone else c.body, html="" if gone else c.html, created_at=c.created_at,
                   edited_at=c.edited_at, deleted=c.deleted_at is not None, hidden=c.hidden_at is not None,
                   votes=c.votes, on_story=c.on_story,
                   replies=[cls.of(r, moderator=moderator) for r in c.replies])  # fmt: skip


class CommentThread(BaseModel):
    article_id: int
    order: str
    count: int = Field(description="comments shown, replies included")
    comments: list[CommentOut]
    next_offset: int | None = Field(
        None, description="`offset` of the next page of top-level comments, if any"
    )


class StoryThread(BaseModel):
    story_id: int
    order: str
    count: int = Field(description="comments shown, replies included")
    comments: list[CommentOut]
    next_offset: int | None = Field(
        None, description="`offset` of the next page of top-level comments, if any"
    )


async def api_reader(request: Request, ctx: Ctx, reader: Annotated[Reader, Depends(signed_in)]) -> Reader:
    """A reader for a write: a token, or a session with the page's CSRF token in X-CSRF-Token."""
    if reader.session and not valid_csrf(ctx.secret, request.headers.get("x-csrf-token", ""),
                                         request_identity(request)):  # fmt: skip
        raise HTTPException(
            403,
            "A browser session needs the page's CSRF token in an X-CSRF-Token header; scripts use a token.",
        )
    return reader


Writer = Annotated[Reader, Depends(api_reader)]


def _count(comments: list[Comment]) -> int:
    return sum(1 + len(c.replies) for c in comments)


@router.get("/articles/{article_id}/comments", response_model=CommentThread, summary="An article's comments")
def thread(ctx: Ctx, article_id: PathId, reader: CurrentReader, order: Order = "newest", limit: Limit = PAGE,
           offset: Offset = 0) -> CommentThread:  # fmt: skip
    if not ctx.store.articles.exists(article_id):
        raise HTTPException(404, "There is no such article.")
    moderator = reader is not None and reader.moderates
    comments = ctx.store.comments.thread(article_id, order, include_hidden=moderator, limit=limit + 1,
                                         offset=offset)  # fmt: skip
    more, comments = len(comments) > limit, comments[:limit]
    return CommentThread(article_id=article_id, order=order, count=_count(comments),
                         comments=[CommentOut.of(c, moderator=moderator) for c in comments],
                         next_offset=offset + limit if more else None)  # fmt: skip


@router.post("/articles/{article_id}/comments", response_model=CommentOut, status_code=201,
             summary="Comment on an article")  # fmt: skip
def add(ctx: Ctx, request: Request, article_id: PathId, body: CommentIn, reader: Writer) -> CommentOut:
    comment = actions.post(
        ctx, request.scope, reader, request_client(request), article_id, body.body, body.parent_id
    )
    return CommentOut.of(comment)


@router.get("/stories/{story_id}/comments", response_model=StoryThread, summary="A story's comments")
def story_thread(ctx: Ctx, story_id: PathId, reader: CurrentReader, order: Order = "newest",
                 limit: Limit = PAGE, offset: Offset = 0) -> StoryThread:  # fmt: skip
    """Comments on the story as a whole (a merged story's number answers with the story it went into)."""
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    moderator = reader is not None and reader.moderates
    comments = ctx.store.comments.story_thread(story.id, order, include_hidden=moderator, limit=limit + 1,
                                               offset=offset)  # fmt: skip
    more, comments = len(comments) > limit, comments[:limit]
    return StoryThread(story_id=story.id, order=order, count=_count(comments),
                       comments=[CommentOut.of(c, moderator=moderator) for c in comments],
                       next_offset=offset + limit if more else None)  # fmt: skip


@router.post("/stories/{story_id}/comments", response_model=CommentOut, status_code=201,
             summary="Comment on a story")  # fmt: skip
def add_to_story(ctx: Ctx, request: Request, story_id: PathId, body: CommentIn, reader: Writer) -> CommentOut:
    _story, anchor = actions.story_anchor(ctx, story_id)
    comment = actions.post(ctx, request.scope, reader, request_client(request), anchor, body.body, body.parent_id,
                           on_story=True)  # fmt: skip
    return CommentOut.of(comment)


@router.get("/comments/{comment_id}", response_model=CommentOut, summary="One comment")
def one(ctx: Ctx, comment_id: PathId, reader: CurrentReader) -> CommentOut:
    comment = ctx.store.comments.get(comment_id)
    moderator = reader is not None and reader.moderates
    if comment is None or (not moderator and not actions.shown(ctx, comment)):
        raise HTTPException(404, actions.NO_COMMENT)
    return CommentOut.of(comment, moderator=moderator)


@router.patch("/comments/{comment_id}", response_model=CommentOut, summary="Edit your comment")
def change(ctx: Ctx, request: Request, comment_id: PathId, body: CommentEdit, reader: Writer) -> CommentOut:
    return CommentOut.of(
        actions.edit(ctx, request.scope, reader, request_client(request), comment_id, body.body)
    )


@router.delete("/comments/{comment_id}", status_code=204, summary="Delete your comment")
def remove(ctx: Ctx, request: Request, comment_id: PathId, reader: Writer) -> Response:
    actions.delete(ctx, request.scope, reader, comment_id)
    return Response(status_code=204)


@router.post("/comments/{comment_id}/report", status_code=202, summary="Report a comment to the moderators")
def report(ctx: Ctx, request: Request, comment_id: PathId, body: Report, reader: Writer) -> dict[str, bool]:
    return {"new": actions.report(ctx, reader, request_client(request), comment_id, body.reason)}


@router.put("/comments/{comment_id}/vote", status_code=204, summary="Up-vote a comment")
def vote(ctx: Ctx, request: Request, comment_id: PathId, reader: Writer) -> Response:
    actions.vote(ctx, request.scope, reader, request_client(request), comment_id, up=True)
    return Response(status_code=204)


@router.delete("/comments/{comment_id}/vote", status_code=204, summary="Take your vote back")
def unvote(ctx: Ctx, request: Request, comment_id: PathId, reader: Writer) -> Response:
    actions.vote(ctx, request.scope, reader, request_client(request), comment_id, up=False)
    return Response(status_code=204)


@router.post("/comments/{comment_id}/hide", response_model=CommentOut, summary="Hide a comment (moderators)")
def hide(ctx: Ctx, request: Request, comment_id: PathId, reader: Writer) -> CommentOut:
    actions.hide(ctx, request.scope, reader, comment_id)
    return CommentOut.of(actions.found(ctx, comment_id), moderator=True)


@router.post(
    "/comments/{comment_id}/restore", response_model=CommentOut, summary="Show a hidden comment again"
)
def restore(ctx: Ctx, request: Request, comment_id: PathId, reader: Writer) -> CommentOut:
    actions.restore(ctx, request.scope, reader, comment_id)
    return CommentOut.of(actions.found(ctx, comment_id), moderator=True)
