"""The one clock: timezone-aware UTC now. Passed around as a callable so tests can pin time."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)
