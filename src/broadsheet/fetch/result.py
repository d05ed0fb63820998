"""What a fetch returns: the `FetchResult` record and the `FetchKind` names.

Plain data only; how a result is produced lives in `client.py` and `exchange.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = ["FetchKind", "FetchResult"]

#: What the caller means to do with the body; it picks the Accept header and the content types accepted.
FetchKind = Literal["feed", "page", "robots", "image", "any"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One successful fetch. `elapsed` counts the whole call: redirects, retries and waits included."""

    url: str
    status: int
    content: bytes
    content_type: str
    charset: str | None
    etag: str | None
    last_modified: str | None
    headers: Mapping[str, str]
    elapsed: float

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 to a conditional GET: keep what you already have."""
        return self.status == 304
