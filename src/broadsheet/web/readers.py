"""Who is reading: a signed-in reader's session cookie or personal API token, resolved once per request.

Owns the session cookie (set, cleared) and the request's reader; not the sign-in pages (`pages/account.py`)
nor what a reader may do (`readers/policy.py`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from broadsheet.config import Settings
from broadsheet.errors import AccountError
from broadsheet.readers.names import Role
from broadsheet.readers.passwords import hash_password
from broadsheet.store import Store
from broadsheet.web.context import WebContext, get_context
from broadsheet.web.identity import Reader, cached_reader, claims, remember_reader, resolve_reader
from broadsheet.web.security import SESSION_COOKIE

__all__ = [
    "CurrentReader",
    "Reader",
    "SignedIn",
    "clear_session_cookie",
    "current_reader",
    "ensure_first_admin",
    "set_session_cookie",
    "signed_in",
]

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
    elif ctx.store.engine.dialect.name == "sqlite":  # a local file: faster than a thread hop
        reader = resolve_reader(ctx.store, ctx.clock(), request)
    else:
        reader = await run_in_threadpool(resolve_reader, ctx.store, ctx.clock(), request)
    remember_reader(request, reader)
    return reader


async def signed_in(reader: Annotated[Reader | None, Depends(current_reader)]) -> Reader:
    """A reader must be signed in: 401 otherwise (the API says so in JSON; pages offer the sign-in page)."""
    if reader is None:
        raise HTTPException(401, NOT_SIGNED_IN, {"WWW-Authenticate": 'Bearer realm="broadsheet"'})
    return reader


CurrentReader = Annotated[Reader | None, Depends(current_reader)]
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
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


FIRST_ADMIN = "admin"


def ensure_first_admin(settings: Settings, store: Store, now: datetime) -> None:
    """A site with no accounts whose operator set the admin password: that password becomes the first admin
    account, "admin", which signs in like any reader and moderates (the admin pages still take the password)."""
    password = settings.admin_password.get_secret_value()
    if not password or store.accounts.count_users():
        return
    with contextlib.suppress(AccountError):  # another server process made it a moment ago
        store.accounts.add_user(FIRST_ADMIN, hash_password(password), Role.ADMIN.value, now)
