"""Who a request comes from: the reader behind its session cookie or personal API token, looked up once per
request. Owns that lookup only; the dependencies that ask for it and the session cookie are `web.readers`'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from starlette.requests import Request

from broadsheet.readers.names import Role
from broadsheet.readers.tokens import token_hash
from broadsheet.store import Store, User
from broadsheet.web.security import SESSION_COOKIE

__all__ = [
    "Reader",
    "bearer",
    "cached_reader",
    "claims",
    "reader_of",
    "remember_reader",
    "resolve_reader",
]

TOUCH_AFTER = timedelta(minutes=1)  # a session's last-seen time is written at most this often
MAX_TOKEN = 200  # longer cookies or tokens are no token of ours: not looked up
STATE = "broadsheet_reader"


@dataclass(frozen=True, slots=True)
class Reader:
    """The reader a request comes from, and how it showed who it is."""

    user: User
    session: str = ""  # digest of the session token; "" when signed in by an API token

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def shown_name(self) -> str:
        return self.user.display_name or self.user.name

    @property
    def moderates(self) -> bool:
        """A moderator or admin who is not banned (a ban takes moderation away with the rest)."""
        return self.user.role in (Role.MODERATOR, Role.ADMIN) and self.user.banned_at is None

    @property
    def banned(self) -> bool:
        return self.user.banned_at is not None


def bearer(request: Request) -> str:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def claims(request: Request) -> bool:
    """The request says it is someone (a session cookie, or a Bearer token): worth a lookup."""
    return bool(bearer(request)) or SESSION_COOKIE in request.cookies


def resolve_reader(store: Store, now: datetime, request: Request) -> Reader | None:
    """The request's reader (None when nobody is signed in). A database read: call it from a thread on a
    database server (`web.readers.current_reader` does)."""
    token = bearer(request)
    if token:
        if len(token) > MAX_TOKEN:
            return None
        user = store.accounts.token_user(token_hash(token), "api", now)
        return Reader(user) if user is not None else None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if not cookie or len(cookie) > MAX_TOKEN:
        return None
    digest = token_hash(cookie)
    user = store.accounts.session_user(digest, now, TOUCH_AFTER)
    return Reader(user, digest) if user is not None else None


def cached_reader(request: Request) -> tuple[bool, Reader | None]:
    """(whether this request's reader was looked up already, that reader)."""
    if hasattr(request.state, STATE):
        found: Reader | None = getattr(request.state, STATE)
        return True, found
    return False, None


def remember_reader(request: Request, reader: Reader | None) -> None:
    setattr(request.state, STATE, reader)


def reader_of(store: Store, now: datetime, request: Request) -> Reader | None:
    """The request's reader, looked up at most once per request, for code that runs in a worker thread (a
    page's render)."""
    known, reader = cached_reader(request)
    if not known:
        reader = resolve_reader(store, now, request) if claims(request) else None
        remember_reader(request, reader)
    return reader
