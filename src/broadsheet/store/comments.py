"""SQL for readers' comments on articles: threads one level deep, edits with their history, moderation, votes.

Owns the `comments`, `comment_revisions`, `comment_reports` and `comment_votes` tables. Rendering Markdown and
deciding who may edit, delete or hide belong to `readers/`; bodies arrive here already checked and rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from broadsheet.errors import CommentError, NotFoundError
from broadsheet.store.db import dialect_insert
from broadsheet.store.schema import (
    articles,
    comment_reports,
    comment_revisions,
    comment_votes,
    comments,
    users,
)

__all__ = ["THREAD_ORDERS", "Comment", "CommentStore", "Report"]

MAX_REPLIES = 100  # replies a thread shows under one comment, oldest first
THREAD_ORDERS = ("newest", "oldest", "top")


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    article_id: int
    parent_id: int | None  # None for a top-level comment; replies are one level deep
    user_id: int | None  # None once its author removed their account
    author_name: str
    author_display: str  # '' = show author_name
    body: str  # Markdown source; '' in a thread's placeholder for a deleted comment
    html: str  # its sanitised rendering; '' likewise
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    hidden_at: datetime | None
    votes: int
    on_story: bool = False  # on the story of its article, rather than on the article alone
    replies: tuple[Comment, ...] = ()  # in a thread: a top-level comment's replies, oldest first


@dataclass(frozen=True, slots=True)
class Report:
    """A reader's report of a comment, as the moderators' list shows it."""

    id: int
    comment: Comment
    reporter_id: int
    reporter_name: str
    reason: str
    created_at: datetime
    resolved_at: datetime | None


_VOTES = (
    select(func.count())
    .select_from(comment_votes)
    .where(comment_votes.c.comment_id == comments.c.id)
    .scalar_subquery()
    .label("votes")
)
# A comment with its author's names and its votes: what every read returns.
_COMMENT_COLUMNS = (
    comments.c.id,
    comments.c.article_id,
    comments.c.parent_id,
    comments.c.user_id,
    func.coalesce(users.c.name, "").label("author_name"),
    func.coalesce(users.c.display_name, "").label("author_display"),
    comments.c.body,
    comments.c.html,
    comments.c.created_at,
    comments.c.edited_at,
    comments.c.deleted_at,
    comments.c.hidden_at,
    _VOTES,
    comments.c.on_story,
)
_WITH_AUTHOR = comments.outerjoin(users, users.c.id == comments.c.user_id)
_COMMENTS = select(*_COMMENT_COLUMNS).select_from(_WITH_AUTHOR)

_ORDERS = {
    "newest": (comments.c.created_at.desc(), comments.c.id.desc()),
    "oldest": (comments.c.created_at, comments.c.id),
    "top": (_VOTES.desc(), comments.c.created_at.desc(), comments.c.id.desc()),
}

_reply = comments.alias("reply")
_parent = comments.alias("parent")
_reporter = users.alias("reporter")

_REPORTS = (
    select(
        *_COMMENT_COLUMNS,
        comment_reports.c.id.label("report_id"),
        comment_reports.c.user_id.label("reporter_id"),
        _reporter.c.name.label("reporter_name"),
        comment_reports.c.reason,
        comment_reports.c.created_at.label("reported_at"),
        comment_reports.c.resolved_at,
    )
    .select_from(
        comment_reports.join(_WITH_AUTHOR, comments.c.id == comment_reports.c.comment_id).join(
            _reporter, _reporter.c.id == comment_reports.c.user_id
        )
    )
    .order_by(comment_reports.c.created_at.desc(), comment_reports.c.id.desc())
)


def _comment(row: Any) -> Comment:
    return Comment(
        id=row.id, article_id=row.article_id, parent_id=row.parent_id, user_id=row.user_id,
        author_name=row.author_name, author_display=row.author_display, body=row.body, html=row.html,
        created_at=row.created_at, edited_at=row.edited_at, deleted_at=row.deleted_at, hidden_at=row.hidden_at,
        votes=row.votes, on_story=bool(row.on_story),
    )  # fmt: skip


def _get(conn: Connection, comment_id: int) -> Comment | None:
    row = conn.execute(_COMMENTS.where(comments.c.id == comment_id)).first()
    return None if row is None else _comment(row)


class CommentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- writing -------------------------------------------------------------------------------------------

    def add(
        self,
        article_id: int,
        user_id: int,
        body: str,
        html: str,
        now: datetime,
        parent_id: int | None = None,
        *,
        on_story: bool = False,
    ) -> Comment:
        """A new comment on the article (with `on_story`, on its story, kept on this article), or a reply to
        the comment `parent_id` there. Replies are one level deep: a reply to a reply joins its top-level
        comment's replies, and a reply is kept on the article of the comment it answers. CommentError when the
        article is gone, or the comment replied to is in another thread, deleted or hidden."""
        with self.engine.begin() as conn:
            if conn.execute(select(articles.c.id).where(articles.c.id == article_id)).first() is None:
                raise CommentError(
                    f"there is no article {article_id} to comment on: it may have been removed"
                )
            if parent_id is not None:
                article_id, parent_id = _thread_of(conn, article_id, parent_id, on_story)
            values = {"article_id": article_id, "parent_id": parent_id, "user_id": user_id, "body": body,
                      "html": html, "created_at": now, "on_story": on_story}  # fmt: skip
            comment_id = conn.execute(insert(comments).values(**values)).inserted_primary_key[0]  # type: ignore[index]
            comment = _get(conn, comment_id)
        assert comment is not None
        return comment

    def edit(self, comment_id: int, body: str, html: str, now: datetime) -> Comment:
        """Replace the comment's body; the one it had goes to its revisions, with the time it was written, in
        the same transaction. NotFoundError when there is no such comment, CommentError when it was deleted."""
        earlier = (
            select(comments.c.id, comments.c.body, func.coalesce(comments.c.edited_at, comments.c.created_at))
            .where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
            # PostgreSQL: lock the row, so that of two edits at once the second keeps the first's body. SQLite
            # renders nothing here: the INSERT, a write, already holds the database's one write lock.
            .with_for_update()
        )
        keep = (
            insert(comment_revisions)
            .from_select(["comment_id", "body", "created_at"], earlier)
            .execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only when asked for
        )
        change = update(comments).where(comments.c.id == comment_id)
        with self.engine.begin() as conn:
            if conn.execute(keep).rowcount == 1:
                conn.execute(change.values(body=body, html=html, edited_at=now))
                comment = _get(conn, comment_id)
                assert comment is not None
                return comment
            if _get(conn, comment_id) is None:
                raise NotFoundError(f"there is no comment {comment_id}: it may have been removed")
        raise CommentError("this comment was deleted, so it cannot be edited: write a new one instead")

    def revisions_of(self, comment_ids: Sequence[int]) -> dict[int, list[tuple[str, datetime]]]:
        """`revisions` of many comments in one statement (the reader's data export)."""
        query = (
            select(comment_revisions.c.comment_id, comment_revisions.c.body, comment_revisions.c.created_at)
            .where(comment_revisions.c.comment_id.in_(list(comment_ids)))
            .order_by(comment_revisions.c.created_at, comment_revisions.c.id)
        )
        found: dict[int, list[tuple[str, datetime]]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                found.setdefault(row.comment_id, []).append((row.body, row.created_at))
        return found

    def user_activity(
        self, user_id: int
    ) -> tuple[list[tuple[int, datetime]], list[tuple[int, str, datetime]]]:
        """(the comments the reader up-voted, with when; the comments they reported, with why and when): the
        rest of their data export."""
        votes = select(comment_votes.c.comment_id, comment_votes.c.created_at).where(
            comment_votes.c.user_id == user_id
        )
        reports = select(
            comment_reports.c.comment_id, comment_reports.c.reason, comment_reports.c.created_at
        ).where(comment_reports.c.user_id == user_id)
        with self.engine.connect() as conn:
            voted = [
                (r.comment_id, r.created_at) for r in conn.execute(votes.order_by(comment_votes.c.created_at))
            ]
            made = [(r.comment_id, r.reason, r.created_at)
                    for r in conn.execute(reports.order_by(comment_reports.c.created_at))]  # fmt: skip
        return voted, made

    def revisions(self, comment_id: int) -> list[tuple[str, datetime]]:
        """The comment's earlier bodies with when each was written, oldest first; the current body is not
        among them."""
        query = (
            select(comment_revisions.c.body, comment_revisions.c.created_at)
            .where(comment_revisions.c.comment_id == comment_id)
            .order_by(comment_revisions.c.created_at, comment_revisions.c.id)
        )
        with self.engine.connect() as conn:
            return [(row.body, row.created_at) for row in conn.execute(query)]

    def delete(self, comment_id: int, now: datetime) -> None:
        """Deleted by its author: the row stays (its replies hang from it, its body stays for moderators and
        the author's data export), and a thread shows it as a placeholder while it has replies."""
        self._set(comment_id, comments.c.deleted_at.is_(None), deleted_at=now)

    def hide(self, comment_id: int, moderator_id: int, now: datetime) -> None:
        """Hidden by a moderator, with its replies, from everyone but moderators, until restored."""
        self._set(comment_id, comments.c.hidden_at.is_(None), hidden_at=now, hidden_by=moderator_id)

    def restore(self, comment_id: int) -> None:
        self._set(comment_id, comments.c.hidden_at.is_not(None), hidden_at=None, hidden_by=None)

    # --- reports and votes ---------------------------------------------------------------------------------

    def report(self, comment_id: int, user_id: int, reason: str, now: datetime) -> bool:
        """Report the comment to the moderators; False when this reader has reported it already."""
        values = {"comment_id": comment_id, "user_id": user_id, "reason": reason, "created_at": now}
        return self._insert_once(comment_reports, comment_id, values)

    def reports(self, open_only: bool = True, limit: int = 100) -> list[Report]:
        """Reports, newest first: only those not yet resolved, unless `open_only` is false."""
        query = _REPORTS.limit(limit)
        if open_only:
            query = query.where(comment_reports.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Report(
                id=row.report_id,
                comment=_comment(row),
                reporter_id=row.reporter_id,
                reporter_name=row.reporter_name,
                reason=row.reason,
                created_at=row.reported_at,
                resolved_at=row.resolved_at,
            )
            for row in rows
        ]

    def resolve_reports(self, comment_id: int, now: datetime) -> int:
        """Mark every open report of the comment resolved; returns how many were open."""
        resolve = update(comment_reports).where(
            comment_reports.c.comment_id == comment_id, comment_reports.c.resolved_at.is_(None)
        )
        with self.engine.begin() as conn:
            return conn.execute(resolve.values(resolved_at=now)).rowcount

    def vote(self, comment_id: int, user_id: int, now: datetime) -> bool:
        """An up-vote; False when this reader had voted for it already (the vote stands, once)."""
        values = {"comment_id": comment_id, "user_id": user_id, "created_at": now}
        return self._insert_once(comment_votes, comment_id, values)

    def unvote(self, comment_id: int, user_id: int) -> bool:
        """Take the reader's vote back; False when there was none."""
        remove = delete(comment_votes).where(
            comment_votes.c.comment_id == comment_id, comment_votes.c.user_id == user_id
        )
        with self.engine.begin() as conn:
            return conn.execute(remove).rowcount == 1

    # --- reading -------------------------------------------------------------------------------------------

    def get(self, comment_id: int) -> Comment | None:
        with self.engine.connect() as conn:
            return _get(conn, comment_id)

    def thread(
        self,
        article_id: int,
        order: str = "newest",
        *,
        include_hidden: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Comment]:
        """The article's top-level comments in `order` (newest | oldest | top: most votes, then newest), `limit`
        of them after the first `offset`, each with its first MAX_REPLIES replies, oldest first, in `.replies`.
        Comments hidden by a moderator are left out, with their replies, unless `include_hidden` (for
        moderators, who see `hidden_at`). A deleted
        comment is left out, unless it is a top-level one with replies shown: then it stays as a placeholder,
        its body and html empty. Comments on the article's story are not among them (`story_thread`). Two
        statements: the top-level comments, then their replies."""
        where = [comments.c.article_id == article_id, comments.c.on_story.is_(False)]
        return self._thread(where, order, include_hidden, limit, offset)

    def story_thread(
        self,
        story_id: int,
        order: str = "newest",
        *,
        include_hidden: bool = False,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Comment]:
        """The story's comments, as `thread` gives an article's: those on the story kept on any of its
        articles today (so they follow their articles into a story they merge into)."""
        members = select(articles.c.id).where(articles.c.story_id == story_id)
        where = [comments.c.article_id.in_(members), comments.c.on_story.is_(True)]
        return self._thread(where, order, include_hidden, limit, offset)

    def _thread(
        self, where: list[Any], order: str, include_hidden: bool, limit: int, offset: int = 0
    ) -> list[Comment]:
        if order not in _ORDERS:
            raise CommentError(f"no comment order {order!r}: choose one of {', '.join(THREAD_ORDERS)}")
        shown_replies = [_reply.c.parent_id == comments.c.id, _reply.c.deleted_at.is_(None)]
        visible = list(where)
        if not include_hidden:
            shown_replies.append(_reply.c.hidden_at.is_(None))
            visible.append(comments.c.hidden_at.is_(None))
        top = (
            _COMMENTS.where(
                *visible,
                comments.c.parent_id.is_(None),
                or_(comments.c.deleted_at.is_(None), exists().where(*shown_replies)),
            )
            .order_by(*_ORDERS[order])
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            firsts = [_comment(row) for row in conn.execute(top)]
            if not firsts:
                return []
            # Each comment's first MAX_REPLIES replies: a comment answered thousands of times must not make
            # every read of its thread that large.
            numbered = (
                select(
                    comments.c.id,
                    func.row_number()
                    .over(partition_by=comments.c.parent_id, order_by=(comments.c.created_at, comments.c.id))
                    .label("n"),
                )
                .where(
                    *visible,
                    comments.c.parent_id.in_([c.id for c in firsts]),
                    comments.c.deleted_at.is_(None),
                )
                .subquery()
            )
            first_replies = select(numbered.c.id).where(numbered.c.n <= MAX_REPLIES)
            replies = _COMMENTS.where(comments.c.id.in_(first_replies)).order_by(
                comments.c.created_at, comments.c.id
            )
            under: dict[int, list[Comment]] = {}
            for row in conn.execute(replies):
                under.setdefault(row.parent_id, []).append(_comment(row))
        return [_with_replies(first, under.get(first.id, [])) for first in firsts]

    def counts(self, article_ids: Sequence[int]) -> dict[int, int]:
        """How many comments a reader sees on each article (not deleted, not hidden, not under a hidden one);
        every id asked for is in the answer."""
        query = (
            select(comments.c.article_id, func.count().label("n"))
            .select_from(comments.outerjoin(_parent, _parent.c.id == comments.c.parent_id))
            .where(
                comments.c.article_id.in_(list(article_ids)),
                comments.c.on_story.is_(False),
                comments.c.deleted_at.is_(None),
                comments.c.hidden_at.is_(None),
                _parent.c.hidden_at.is_(None),  # also true of a top-level comment: the join found no parent
            )
            .group_by(comments.c.article_id)
        )
        found: dict[int, int] = dict.fromkeys(article_ids, 0)
        if not found:
            return found
        with self.engine.connect() as conn:
            found.update({row.article_id: row.n for row in conn.execute(query)})
        return found

    def user_comments(self, user_id: int) -> list[Comment]:
        """Everything the reader wrote, oldest first, deleted and hidden comments included with their bodies:
        their data export."""
        query = _COMMENTS.where(comments.c.user_id == user_id).order_by(comments.c.created_at, comments.c.id)
        with self.engine.connect() as conn:
            return [_comment(row) for row in conn.execute(query)]

    # --- helpers -------------------------------------------------------------------------------------------

    def _set(self, comment_id: int, unless_done: Any, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(comments).where(comments.c.id == comment_id, unless_done).values(**values))

    def _insert_once(self, table: Any, comment_id: int, values: dict[str, Any]) -> bool:
        """Insert the row unless the table holds it already (its unique key); False then. NotFoundError when
        the comment is gone."""
        try:
            with self.engine.begin() as conn:
                statement = (
                    dialect_insert(conn, table)
                    .values(**values)
                    .on_conflict_do_nothing()
                    .execution_options(preserve_rowcount=True)
                )
                return conn.execute(statement).rowcount == 1
        except IntegrityError as exc:  # not a conflict (those are done nothing): the comment's foreign key
            raise NotFoundError(f"there is no comment {comment_id}: it may have been removed") from exc


def _with_replies(first: Comment, replies: list[Comment]) -> Comment:
    """A top-level comment as a thread shows it: with its replies; a deleted one as an empty placeholder."""
    if first.deleted_at is not None:
        return replace(first, body="", html="", replies=tuple(replies))
    return replace(first, replies=tuple(replies))


def _thread_of(conn: Connection, article_id: int, parent_id: int, on_story: bool) -> tuple[int, int]:
    """(the article a reply to `parent_id` is kept on, the top-level comment it joins: that comment, or the
    one it replies to). A reply in a story's thread may answer a comment kept on another of its articles."""
    parent = conn.execute(
        select(
            comments.c.article_id, comments.c.parent_id, comments.c.deleted_at, comments.c.hidden_at,
            comments.c.on_story,
        ).where(comments.c.id == parent_id)
    ).first()  # fmt: skip
    same_thread = parent is not None and bool(parent.on_story) == on_story
    if same_thread and parent is not None and parent.article_id != article_id:
        same_thread = on_story and _same_story(conn, article_id, parent.article_id)
    if parent is None or not same_thread:
        where = "story" if on_story else "article"
        raise CommentError(
            f"the comment you reply to is not on this {where}: reload the page and reply there"
        )
    top: Any = parent
    if parent.parent_id is not None:  # a reply to a reply joins the thread of the comment it answers
        top = conn.execute(
            select(comments.c.deleted_at, comments.c.hidden_at).where(comments.c.id == parent.parent_id)
        ).first()
    for replied in (parent, top):
        if replied is None or replied.deleted_at is not None:
            raise CommentError("the comment you reply to was deleted: write a new comment instead")
        if replied.hidden_at is not None:
            raise CommentError(
                "the comment you reply to was hidden by a moderator: write a new comment instead"
            )
    return int(parent.article_id), int(parent.parent_id if parent.parent_id is not None else parent_id)


def _same_story(conn: Connection, first: int, second: int) -> bool:
    rows = conn.execute(select(articles.c.story_id).where(articles.c.id.in_([first, second]))).scalars().all()
    return len(rows) == 2 and rows[0] is not None and rows[0] == rows[1]
