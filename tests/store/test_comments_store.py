"""Comments on SQLite and PostgreSQL: threads one level deep in three orders, edits that keep every earlier body,
deletion and moderation as a reader sees them, reports, votes and counts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, update
from storefill import Add

from broadsheet.errors import CommentError, NotFoundError
from broadsheet.store import Comment, Store
from broadsheet.store.schema import articles

T = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


class Board:
    """An article with readers Ada, Bob and the moderator Mo, and a way to comment at minute `m`."""

    def __init__(self, store: Store, add: Add) -> None:
        self.store = store
        self.article = add("Reservoir levels fall", "The reservoir is at its lowest since records began.")
        self.other = add("Pumpkin wins", "A ninety-one kilogram pumpkin won the county show.", hours=3)
        self.ada = store.accounts.add_user("ada", "", "reader", T, display_name="Ada L").id
        self.bob = store.accounts.add_user("bob", "", "reader", T).id
        self.mo = store.accounts.add_user("mo", "", "moderator", T).id

    def say(self, body: str, m: int, *, by: int | None = None, to: int | None = None) -> Comment:
        who = self.ada if by is None else by
        return self.store.comments.add(
            self.article, who, body, f"<p>{body}</p>", T + m * MINUTE, parent_id=to
        )


@pytest.fixture
def board(store: Store, add: Add) -> Board:
    return Board(store, add)


def _shape(thread: list[Comment]) -> list[tuple[str, list[str]]]:
    return [(c.body, [r.body for r in c.replies]) for c in thread]


def test_a_comment_comes_back_with_its_author_and_html(board: Board) -> None:
    first = board.say("Water is *low*", 1)
    assert (first.article_id, first.parent_id, first.user_id) == (board.article, None, board.ada)
    assert (first.author_name, first.author_display) == ("ada", "Ada L")
    assert (first.body, first.html, first.created_at, first.votes) == ("Water is *low*", "<p>Water is *low*</p>", T + MINUTE, 0)  # fmt: skip
    assert (first.edited_at, first.deleted_at, first.hidden_at, first.replies) == (None, None, None, ())
    assert board.store.comments.get(first.id) == first
    assert board.store.comments.get(first.id + 100) is None


def test_threads_come_newest_oldest_or_top_first_with_replies_one_level_deep(board: Board) -> None:
    comments = board.store.comments
    a, b, c = board.say("a", 1), board.say("b", 2), board.say("c", 3)
    a1 = board.say("a1", 4, by=board.bob, to=a.id)
    a2 = board.say("a2", 5, to=a1.id)  # a reply to a reply joins the top-level comment's replies
    assert a2.parent_id == a.id
    board.say("c1", 6, by=board.bob, to=c.id)
    for voter in (board.ada, board.bob):
        assert comments.vote(b.id, voter, T)
    assert comments.vote(a.id, board.mo, T)
    assert _shape(comments.thread(board.article)) == [("c", ["c1"]), ("b", []), ("a", ["a1", "a2"])]
    assert _shape(comments.thread(board.article, "oldest")) == [("a", ["a1", "a2"]), ("b", []), ("c", ["c1"])]
    assert _shape(comments.thread(board.article, "top")) == [("b", []), ("a", ["a1", "a2"]), ("c", ["c1"])]
    assert [c.votes for c in comments.thread(board.article, "top")] == [2, 1, 0]
    assert _shape(comments.thread(board.article, "oldest", limit=2)) == [("a", ["a1", "a2"]), ("b", [])]
    assert comments.thread(board.other) == []
    with pytest.raises(CommentError, match="choose one of newest, oldest, top"):
        comments.thread(board.article, "loudest")


def test_a_thread_takes_two_statements_whatever_its_size(board: Board) -> None:
    for i in range(5):
        top = board.say(f"top {i}", i)
        for j in range(3):
            board.say(f"reply {i}.{j}", 10 + j, by=board.bob, to=top.id)
    statements: list[str] = []
    engine = board.store.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    thread = board.store.comments.thread(board.article, "top")
    assert len(thread) == 5 and all(len(c.replies) == 3 for c in thread)
    assert len(statements) == 2


def test_hidden_comments_and_their_replies_are_left_out_but_for_moderators(board: Board) -> None:
    comments = board.store.comments
    a, b = board.say("a", 1), board.say("b", 2)
    board.say("a1", 3, by=board.bob, to=a.id)
    b1 = board.say("b1", 4, by=board.bob, to=b.id)
    comments.hide(a.id, board.mo, T + 5 * MINUTE)
    comments.hide(b1.id, board.mo, T + 5 * MINUTE)
    assert _shape(comments.thread(board.article)) == [("b", [])]
    seen = comments.thread(board.article, include_hidden=True)
    assert _shape(seen) == [("b", ["b1"]), ("a", ["a1"])] and seen[1].hidden_at == T + 5 * MINUTE
    assert comments.counts([board.article]) == {board.article: 1}
    with pytest.raises(CommentError, match="hidden by a moderator"):
        board.say("me too", 6, to=a.id)
    comments.restore(a.id)
    assert _shape(comments.thread(board.article)) == [("b", []), ("a", ["a1"])]


def test_a_deleted_comment_stays_as_a_placeholder_only_while_it_has_replies(board: Board) -> None:
    comments = board.store.comments
    a, b, c = board.say("a", 1), board.say("b", 2), board.say("c", 3)
    a1 = board.say("a1", 4, by=board.bob, to=a.id)
    c1 = board.say("c1", 5, by=board.bob, to=c.id)
    for gone in (a, b, c1):
        comments.delete(gone.id, T + 6 * MINUTE)
    comments.delete(a.id, T + 7 * MINUTE)  # deleted once: the first time stands
    thread = comments.thread(board.article, "oldest")
    assert _shape(thread) == [("", ["a1"]), ("c", [])]
    assert (thread[0].id, thread[0].html, thread[0].deleted_at) == (a.id, "", T + 6 * MINUTE)
    assert comments.get(a.id).body == "a"  # type: ignore[union-attr]  # kept for moderators and the export
    assert comments.counts([board.article, board.other]) == {board.article: 2, board.other: 0}
    comments.delete(a1.id, T + 8 * MINUTE)
    assert _shape(comments.thread(board.article, "oldest")) == [("c", [])]
    with pytest.raises(CommentError, match="was deleted: write a new comment"):
        board.say("what did it say?", 9, to=b.id)


def test_an_edit_keeps_every_earlier_body_with_when_it_was_written(board: Board) -> None:
    comments = board.store.comments
    first = board.say("Teh water is low", 1)
    comments.edit(first.id, "The water is low", "<p>The water is low</p>", T + 2 * MINUTE)
    edited = comments.edit(first.id, "The water is very low", "<p>The water is very low</p>", T + 3 * MINUTE)
    assert (edited.body, edited.html) == ("The water is very low", "<p>The water is very low</p>")
    assert (edited.created_at, edited.edited_at) == (T + MINUTE, T + 3 * MINUTE)
    assert comments.revisions(first.id) == [
        ("Teh water is low", T + MINUTE),
        ("The water is low", T + 2 * MINUTE),
    ]
    comments.delete(first.id, T + 4 * MINUTE)
    with pytest.raises(CommentError, match="deleted, so it cannot be edited"):
        comments.edit(first.id, "x", "x", T + 5 * MINUTE)
    with pytest.raises(NotFoundError, match="no comment"):
        comments.edit(first.id + 100, "x", "x", T + 5 * MINUTE)


def test_edits_at_the_same_moment_lose_no_body(board: Board, database_url: str) -> None:
    first = board.say("v0", 1)
    second = Store.open(database_url)
    barrier = threading.Barrier(6)

    def edit(i: int) -> None:
        comments = (board.store, second)[i % 2].comments
        barrier.wait()
        comments.edit(first.id, f"v{i + 1}", "", T + 2 * MINUTE)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    second.close()
    bodies = [body for body, _ in board.store.comments.revisions(first.id)]
    current = board.store.comments.get(first.id).body  # type: ignore[union-attr]
    assert sorted([*bodies, current]) == [f"v{i}" for i in range(7)]


def test_a_comment_must_be_on_an_article_and_reply_on_the_same_one(board: Board) -> None:
    comments = board.store.comments
    elsewhere = comments.add(board.other, board.bob, "big", "<p>big</p>", T)
    with pytest.raises(CommentError, match="not on this article"):
        board.say("reply", 1, to=elsewhere.id)
    with pytest.raises(CommentError, match="not on this article"):
        board.say("reply", 1, to=elsewhere.id + 100)
    with pytest.raises(CommentError, match=f"no article {board.article + 100} to comment on"):
        comments.add(board.article + 100, board.ada, "x", "x", T)


def test_a_reader_reports_a_comment_once_and_moderators_resolve_the_reports(board: Board) -> None:
    comments = board.store.comments
    a, b = board.say("a", 1, by=board.bob), board.say("b", 2, by=board.bob)
    assert comments.report(a.id, board.ada, "rude", T + 3 * MINUTE)
    assert not comments.report(a.id, board.ada, "very rude", T + 4 * MINUTE)
    assert comments.report(a.id, board.mo, "", T + 5 * MINUTE)
    assert comments.report(b.id, board.ada, "spam", T + 6 * MINUTE)
    reports = comments.reports()
    assert [(r.comment.body, r.reporter_name, r.reason) for r in reports] == [
        ("b", "ada", "spam"), ("a", "mo", ""), ("a", "ada", "rude")
    ]  # fmt: skip
    assert reports[0].comment.author_name == "bob" and reports[0].created_at == T + 6 * MINUTE
    assert comments.resolve_reports(a.id, T + 7 * MINUTE) == 2
    assert [r.comment.body for r in comments.reports()] == ["b"]
    resolved = [r for r in comments.reports(open_only=False, limit=10) if r.resolved_at is not None]
    assert len(resolved) == 2 and len(comments.reports(open_only=False, limit=1)) == 1
    with pytest.raises(NotFoundError):
        comments.report(b.id + 100, board.ada, "", T)


def test_a_vote_counts_once_and_can_be_taken_back(board: Board) -> None:
    comments = board.store.comments
    a = board.say("a", 1, by=board.bob)
    assert comments.vote(a.id, board.ada, T) and not comments.vote(a.id, board.ada, T)
    assert comments.get(a.id).votes == 1  # type: ignore[union-attr]
    assert comments.unvote(a.id, board.ada) and not comments.unvote(a.id, board.ada)
    assert comments.get(a.id).votes == 0  # type: ignore[union-attr]
    with pytest.raises(NotFoundError):
        comments.vote(a.id + 100, board.ada, T)


def test_a_readers_comments_are_all_exported_oldest_first(board: Board) -> None:
    comments = board.store.comments
    a = board.say("a", 1)
    board.say("not mine", 2, by=board.bob)
    b = comments.add(board.other, board.ada, "b", "<p>b</p>", T + 3 * MINUTE)
    comments.delete(a.id, T + 4 * MINUTE)
    comments.hide(b.id, board.mo, T + 5 * MINUTE)
    mine = comments.user_comments(board.ada)
    assert [(c.body, c.deleted_at, c.hidden_at) for c in mine] == [
        ("a", T + 4 * MINUTE, None), ("b", None, T + 5 * MINUTE)
    ]  # fmt: skip
    assert comments.user_comments(board.mo) == []


def test_removing_an_article_or_a_reader_takes_their_comments(board: Board) -> None:
    comments = board.store.comments
    a = board.say("a", 1, by=board.bob)
    board.say("a1", 2, to=a.id)
    board.say("b", 3)
    elsewhere = comments.add(board.other, board.ada, "c", "<p>c</p>", T)
    mine = board.say("b1", 4, to=a.id, by=board.bob)  # bob's own reply, under his comment
    assert board.store.accounts.remove_user("bob", T + 10 * MINUTE)
    # His comment stays, emptied and authorless, for the reply someone else made to it; his reply goes.
    assert _shape(comments.thread(board.article)) == [("b", []), ("", ["a1"])]
    kept = comments.get(a.id)
    assert kept is not None and kept.user_id is None and kept.author_name == "" and kept.body == ""
    assert kept.deleted_at == T + 10 * MINUTE and comments.revisions(a.id) == []
    assert comments.get(mine.id) is None
    with board.store.engine.begin() as conn:
        conn.execute(delete(articles).where(articles.c.id == board.article))
    assert comments.thread(board.article) == [] and comments.get(elsewhere.id) == elsewhere


def test_a_story_comment_follows_its_article_into_another_story_and_stays_off_the_article(
    board: Board,
) -> None:
    comments = board.store.comments

    def story_of(article: int, story: int | None) -> None:
        with board.store.engine.begin() as conn:
            conn.execute(update(articles).where(articles.c.id == article).values(story_id=story))

    story_of(board.article, 1)
    story_of(board.other, 2)
    on_story = comments.add(board.article, board.ada, "The whole story", "<p>x</p>", T, on_story=True)
    comments.add(board.article, board.bob, "Just this article", "<p>y</p>", T + MINUTE)
    assert on_story.on_story and [c.body for c in comments.story_thread(1)] == ["The whole story"]
    assert [c.body for c in comments.thread(board.article)] == ["Just this article"]
    assert comments.counts([board.article]) == {board.article: 1}  # cards count the article's own thread
    # A reply from the story's page may name any article of the story: it is kept beside what it answers.
    story_of(board.other, 1)
    reply = comments.add(
        board.other, board.bob, "Agreed", "<p>z</p>", T + 2 * MINUTE, on_story.id, on_story=True
    )
    assert (reply.article_id, reply.parent_id) == (board.article, on_story.id)
    with pytest.raises(CommentError, match="not on this article"):
        comments.add(board.other, board.bob, "Wrong thread", "<p>w</p>", T, on_story.id)  # an article comment
    # The article goes into story 2 (a merge, a split, or `recluster` renumbering): its comments go with it.
    story_of(board.other, 2)
    story_of(board.article, 2)
    assert comments.story_thread(1) == []
    assert _shape(comments.story_thread(2)) == [("The whole story", ["Agreed"])]
