"""What a reader may do to comments, the same through the JSON API and the article page's forms: post, edit
within the window, delete, report, vote; moderators hide, restore and ban.

Owns the decisions and their errors (401/403/404/429 with a message that says what to do); not the storage
(`store/comments.py`) nor the Markdown (`readers/markup.py`). Each function is a plain one: handlers run it
on a worker thread.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException
from starlette.types import Scope

from broadsheet.errors import CommentError
from broadsheet.readers.markup import check_comment, render_comment
from broadsheet.store import Comment
from broadsheet.web.cache import changes
from broadsheet.web.context import WebContext
from broadsheet.web.readers import Reader

__all__ = [
    "NO_COMMENT",
    "ORDERS",
    "ban",
    "delete",
    "dismiss",
    "edit",
    "editable",
    "found",
    "hide",
    "mine",
    "post",
    "report",
    "restore",
    "shown",
    "story_anchor",
    "vote",
]

ORDERS = ("newest", "oldest", "top")
NO_COMMENT = "There is no such comment."


def _changed(scope: Scope, comment: Comment) -> None:
    """The pages that show the comment, dropped from the page cache: its article's page and thread, or (a
    comment on a story, whose number the comment does not keep) the story pages and threads."""
    # Every single comment's API page: hiding a comment hides its replies too, and those pages are rarely
    # cached at all.
    one = "/api/v1/comments/*"
    if comment.on_story:
        changes(scope, "/stories/*", "/api/v1/stories/*", one)
    else:
        changes(
            scope, f"/articles/{comment.article_id}", f"/api/v1/articles/{comment.article_id}/comments", one
        )


BANNED = "Your account is banned from this site's comments."


def _may_post(ctx: WebContext, reader: Reader, client: str, what: str = "commenting") -> None:
    """A banned reader may do nothing to comments; the others are limited per reader and per address (posts,
    edits, votes and reports alike: each drops cached pages or fills the moderators' queue)."""
    if reader.banned:
        raise HTTPException(403, BANNED)
    for key in (f"u:{reader.id}", f"a:{client}"):
        wait = ctx.comment_limit.wait(key)
        if wait:
            seconds = int(wait) + 1
            raise HTTPException(
                429,
                f"You are {what} too fast: wait {seconds} s and try again.",
                {"Retry-After": str(seconds)},
            )


def _body(body: str) -> tuple[str, str]:
    """(Markdown, its safe HTML), or 400 saying what is wrong with it."""
    body = body.strip()
    problem = check_comment(body)
    if problem:
        raise HTTPException(400, problem)
    return body, render_comment(body)


def found(ctx: WebContext, comment_id: int) -> Comment:
    comment = ctx.store.comments.get(comment_id)
    if comment is None:
        raise HTTPException(404, NO_COMMENT)
    return comment


def shown(ctx: WebContext, comment: Comment) -> bool:
    """Whether everyone may see the comment: not hidden, and not a reply under a hidden comment."""
    if comment.hidden_at is not None:
        return False
    parent = ctx.store.comments.get(comment.parent_id) if comment.parent_id is not None else None
    return parent is None or parent.hidden_at is None


def mine(comment: Comment, reader: Reader) -> bool:
    return comment.user_id == reader.id


def editable(ctx: WebContext, comment: Comment, reader: Reader | None) -> bool:
    """Whether `reader` may still edit `comment`: their own, not deleted or hidden, within the edit window."""
    if reader is None or not mine(comment, reader) or comment.deleted_at or comment.hidden_at:
        return False
    return ctx.clock() - comment.created_at <= timedelta(minutes=ctx.settings.comment_edit_minutes)


def post(ctx: WebContext, scope: Scope, reader: Reader, client: str, article_id: int, body: str,
         parent_id: int | None = None, *, on_story: bool = False) -> Comment:  # fmt: skip
    """A comment on the article (or, `on_story`, on its story, kept on that article)."""
    markdown, html = _body(body)
    if not ctx.store.articles.exists(article_id):
        raise HTTPException(404, "There is no such article: it may have been removed.")
    _may_post(ctx, reader, client)
    try:
        comment = ctx.store.comments.add(
            article_id, reader.id, markdown, html, ctx.clock(), parent_id, on_story=on_story
        )
    except CommentError as exc:
        raise HTTPException(400, str(exc)) from exc
    _changed(scope, comment)
    return comment


def story_anchor(ctx: WebContext, story_id: int) -> tuple[int, int]:
    """(the story as it is now, following merges; the article a new comment on it is kept on: its headline)."""
    story = ctx.store.stories.follow_merges(story_id, ctx.clock())
    anchor = story.headline_id
    if anchor is None:
        raise HTTPException(404, "This story has no articles left to comment on.")
    return story.id, anchor


def edit(ctx: WebContext, scope: Scope, reader: Reader, client: str, comment_id: int, body: str) -> Comment:
    comment = found(ctx, comment_id)
    if not mine(comment, reader):
        raise HTTPException(403, "This is someone else's comment: only its author may edit it.")
    if not editable(ctx, comment, reader):
        raise HTTPException(
            403,
            f"Comments can be edited for {ctx.settings.comment_edit_minutes:g} minutes after posting; "
            "this one no longer can. Delete it and post again, or reply to it.",
        )
    markdown, html = _body(body)
    _may_post(ctx, reader, client)
    edited = ctx.store.comments.edit(comment_id, markdown, html, ctx.clock())
    _changed(scope, comment)
    return edited


def delete(ctx: WebContext, scope: Scope, reader: Reader, comment_id: int) -> Comment:
    comment = found(ctx, comment_id)
    if not (mine(comment, reader) or reader.moderates):
        raise HTTPException(
            403, "This is someone else's comment: only its author or a moderator may delete it."
        )
    ctx.store.comments.delete(comment_id, ctx.clock())
    _changed(scope, comment)
    return comment


def report(ctx: WebContext, reader: Reader, client: str, comment_id: int, reason: str) -> bool:
    """True when this reader's report is new (a second report of the same comment is not counted twice)."""
    found(ctx, comment_id)
    _may_post(ctx, reader, client, "reporting")
    return ctx.store.comments.report(comment_id, reader.id, reason.strip()[:1000], ctx.clock())


def vote(ctx: WebContext, scope: Scope, reader: Reader, client: str, comment_id: int, up: bool) -> None:
    comment = found(ctx, comment_id)
    if comment.deleted_at is not None or comment.hidden_at is not None:
        raise HTTPException(404, NO_COMMENT)
    _may_post(ctx, reader, client, "voting")
    if up:
        changed = ctx.store.comments.vote(comment_id, reader.id, ctx.clock())
    else:
        changed = ctx.store.comments.unvote(comment_id, reader.id)
    if changed:  # a vote that changes nothing drops nothing from the page cache
        _changed(scope, comment)


def _moderator(reader: Reader) -> None:
    if reader.banned or not reader.moderates:
        raise HTTPException(403, "Only moderators may do this.")


def dismiss(ctx: WebContext, reader: Reader, comment_id: int) -> Comment:
    """Close the comment's open reports without hiding it (the reports were unfounded)."""
    _moderator(reader)
    comment = found(ctx, comment_id)
    ctx.store.comments.resolve_reports(comment_id, ctx.clock())
    return comment


def hide(ctx: WebContext, scope: Scope, reader: Reader, comment_id: int) -> Comment:
    _moderator(reader)
    comment = found(ctx, comment_id)
    ctx.store.comments.hide(comment_id, reader.id, ctx.clock())
    ctx.store.comments.resolve_reports(comment_id, ctx.clock())
    _changed(scope, comment)
    return comment


def restore(ctx: WebContext, scope: Scope, reader: Reader, comment_id: int) -> Comment:
    _moderator(reader)
    comment = found(ctx, comment_id)
    ctx.store.comments.restore(comment_id)
    ctx.store.comments.resolve_reports(comment_id, ctx.clock())
    _changed(scope, comment)
    return comment


def ban(ctx: WebContext, reader: Reader, name: str, reason: str) -> None:
    """Ban a reader: their sessions end and they can no longer post; their comments stay until hidden."""
    _moderator(reader)
    user = ctx.store.accounts.user_by_name(name)
    if user is None:
        raise HTTPException(404, "There is no reader of that name.")
    if user.role != "reader" and reader.user.role != "admin":
        raise HTTPException(403, "Only an admin may ban a moderator or an admin.")
    ctx.store.accounts.ban(user.id, reason.strip()[:1000], ctx.clock())
