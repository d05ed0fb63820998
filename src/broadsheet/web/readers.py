"""Who is reading: a signed-in reader's session cookie or personal API token, resolved once per request.

Owns the session cookie (set, cleared) and the request's reader; not the sign-in pages (`pages/account.py`)
nor what a reader may do (`web/comments.py`).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from broadsheet.config import Settings
from broadsheet.errors import AccountError
from broadsheet.readers.names import Role
from broadsheet.readers.passwords import hash_password
from broadsheet.readers.tokens import LINK_HOURS, new_token, token_hash
from broadsheet.store import Store
from broadsheet.web.context import WebContext, get_context
from broadsheet.web.identity import Reader, cached_reader, claims, remember_reader, resolve_reader
from broadsheet.web.security import SESSION_COOKIE
from broadsheet.web.timefmt import iso

__all__ = [
    "CurrentReader",
    "Reader",
    "SessionReader",
    "SignedIn",
    "clear_session_cookie",
    "current_reader",
    "ensure_first_admin",
    "make_api_token",
    "make_sign_in_link_token",
    "personal_data",
    "set_session_cookie",
    "signed_in",
]

log = logging.getLogger(__name__)
NOT_SIGNED_IN = (
    "Sign in first: this needs a reader's account (a session, or an API token as 'Authorization: Bearer')."
)


async def current_reader(request: Request, ctx: Annotated[WebContext, Depends(get_context)]) -> Reader | None:
    """The request's reader, looked up once however many dependencies ask."""
    known, reader = cached_reader(request)
    if known:
        return reader
    if not claims(request):
        reader = None  # nobody claims to be anyone: no lookup
    else:  # a thread even on SQLite: a session's touch is a write, which may wait for another writer
        reader = await run_in_threadpool(resolve_reader, ctx.store, ctx.clock(), request)
    remember_reader(request, reader)
    return reader


async def signed_in(reader: Annotated[Reader | None, Depends(current_reader)]) -> Reader:
    """A reader must be signed in: 401 otherwise (the API says so in JSON; pages offer the sign-in page)."""
    if reader is None:
        raise HTTPException(401, NOT_SIGNED_IN, {"WWW-Authenticate": 'Bearer realm="broadsheet"'})
    return reader


CurrentReader = Annotated[Reader | None, Depends(current_reader)]


async def session_reader(reader: CurrentReader) -> Reader | None:
    """The reader of the site's pages and forms: one signed in with a session. A personal API token is for the
    JSON API; on the pages it signs nobody in, so a leaked token cannot mint tokens or sign its owner out."""
    return reader if reader is not None and reader.session else None


SessionReader = Annotated[Reader | None, Depends(session_reader)]
SignedIn = Annotated[Reader, Depends(signed_in)]


def set_session_cookie(response: Response, request: Request, token: str, days: float) -> None:
    """The session cookie: script cannot read it (HttpOnly), other sites' forms and frames do not carry it
    (SameSite=Lax), and it travels only over TLS when the site is served over it."""
    secure = request.url.scheme == "https" or request.app.state.context.settings.base_url.startswith("https:")
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(days * 86_400),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_session_cookie(response: Response) -> None:
    """Sign the browser out: the cookie goes, and so do the pages the service worker kept for offline reading
    (a signed-in reader's pages carry their name and forms; the next reader of this browser must not see them)."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    response.headers["Clear-Site-Data"] = '"cache", "storage"'


def make_api_token(store: Store, user_id: int, label: str, now: datetime) -> str:
    """A new personal API token for the account (the account page's and `broadsheet user token`'s): shown
    once, kept as its digest only."""
    token = new_token("bs_")
    store.accounts.add_token(user_id, "api", token_hash(token), label[:100], now)
    return token


def make_sign_in_link_token(store: Store, user_id: int, now: datetime) -> str:
    """A new one-time sign-in link's token, good for LINK_HOURS (`broadsheet user reset`'s, and the mailed
    ones'); its address is `/signin/link/TOKEN`."""
    token = new_token("bs_l_")
    store.accounts.add_token(
        user_id, "link", token_hash(token), "reset", now, now + timedelta(hours=LINK_HOURS)
    )
    return token


FIRST_ADMIN = "admin"


def ensure_first_admin(settings: Settings, store: Store, now: datetime) -> None:
    """A site with no accounts whose operator set the admin password: that password becomes the first admin
    account, "admin", which signs in like any reader and moderates (the admin pages still take the password)."""
    password = settings.admin_password.get_secret_value()
    if not password:
        return
    if store.accounts.count_users():
        if not store.accounts.count_users(Role.ADMIN.value):  # one count at start-up, not every account read
            log.warning("the admin password is set, but no account is an admin: make one with "
                        "`broadsheet user add NAME --role admin` (or `user role NAME admin`)")  # fmt: skip
        return
    with contextlib.suppress(AccountError):  # another server process made it a moment ago
        store.accounts.add_user(FIRST_ADMIN, hash_password(password), Role.ADMIN.value, now)


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment else None


def personal_data(ctx: WebContext, reader: Reader) -> dict[str, object]:
    """Everything stored about the reader, as JSON: the account; every comment with its earlier versions (on an
    article, or on its story), their votes and reports; what they follow and mute, their bookmarks and reading
    history; and their tokens (labels and dates: the tokens themselves are not kept)."""
    user = reader.user
    store = ctx.store
    account = {
        "name": user.name,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "created_at": iso(user.created_at),
        "banned": user.banned_at is not None,
    }
    written = store.comments.user_comments(user.id)
    earlier = store.comments.revisions_of([c.id for c in written])
    comments = [
        {
            "id": c.id,
            "article_id": c.article_id,
            "on_story": c.on_story,
            "parent_id": c.parent_id,
            "body": c.body,
            "created_at": iso(c.created_at),
            "edited_at": _when(c.edited_at),
            "deleted": c.deleted_at is not None,
            "hidden": c.hidden_at is not None,
            "earlier_versions": [{"body": body, "written_at": iso(at)} for body, at in earlier.get(c.id, [])],
        }
        for c in written
    ]
    voted, reported = store.comments.user_activity(user.id)
    return {
        "account": account,
        "comments": comments,
        "votes": [{"comment_id": cid, "at": iso(at)} for cid, at in voted],
        "reports": [{"comment_id": cid, "reason": why, "at": iso(at)} for cid, why, at in reported],
        "follows": [
            {"kind": f.kind, "key": f.key, "name": f.name, "mute": f.mute, "since": iso(f.created_at)}
            for f in store.follows.follows(user.id)
        ],
        "bookmarks": [
            {"article_id": b.id, "title": b.title, "at": iso(b.bookmarked_at)}
            for b in store.follows.bookmarks(user.id, 200)
        ],
        "reading_history": [
            {"article_id": a, "story_id": st, "at": iso(at)}
            for a, st, at in store.follows.history(user.id, user.created_at, 200)
        ],
        "tokens": [
            {
                "kind": t.kind,
                "label": t.label,
                "created_at": iso(t.created_at),
                "last_used_at": _when(t.used_at),
            }
            for kind in ("api", "app")
            for t in store.accounts.tokens(user.id, kind)
        ],
    }
