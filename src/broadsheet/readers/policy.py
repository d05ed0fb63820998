"""Who may change a comment: its author within the edit window, and moderators for deletion.

Pure rules on ids, roles and times the caller passes in; the web tier asks them, the store records the result.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from broadsheet.readers.names import can_moderate

__all__ = ["EDIT_WINDOW", "may_delete", "may_edit"]

# Long enough to fix a typo seen after posting, short enough that replies do not answer words that later change
# (earlier bodies are kept as revisions all the same).
EDIT_WINDOW = timedelta(minutes=15)


def may_edit(comment_author_id: int, reader_id: int, created_at: datetime, now: datetime) -> bool:
    """Only the author edits, and only within `EDIT_WINDOW` of posting; moderators hide, they never rewrite."""
    return comment_author_id == reader_id and now - created_at <= EDIT_WINDOW


def may_delete(author_id: int, reader_id: int, role: str) -> bool:
    """The author may delete their comment at any time; a moderator or an admin may delete anyone's."""
    return author_id == reader_id or can_moderate(role)
