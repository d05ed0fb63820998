from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.readers.policy import EDIT_WINDOW, may_delete, may_edit

POSTED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_author_may_edit_within_the_window_and_not_after() -> None:
    assert may_edit(7, 7, POSTED, POSTED + timedelta(minutes=1))
    assert may_edit(7, 7, POSTED, POSTED + EDIT_WINDOW)
    assert not may_edit(7, 7, POSTED, POSTED + EDIT_WINDOW + timedelta(seconds=1))


def test_no_one_else_may_edit_a_comment_even_at_once() -> None:
    assert not may_edit(7, 8, POSTED, POSTED)


@pytest.mark.parametrize(
    ("author_id", "reader_id", "role", "allowed"),
    [
        (7, 7, "reader", True),
        (7, 8, "reader", False),
        (7, 8, "moderator", True),
        (7, 8, "admin", True),
        (7, 8, "owner", False),  # a role this version does not know moderates nothing
    ],
)
def test_the_author_or_a_moderator_may_delete(
    author_id: int, reader_id: int, role: str, allowed: bool
) -> None:
    assert may_delete(author_id, reader_id, role) is allowed
