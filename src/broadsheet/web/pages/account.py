"""Readers' accounts in the browser: sign up, sign in, sign out, a one-time sign-in link that sets a new
password, and the account page (display name, password, personal API tokens, signing out everywhere).

Every form is checked for origin and CSRF token; every answer says `no-store` (the page cache leaves signed-in
readers alone, and these pages set or clear the session cookie). Wrong passwords are slowed, counted per
account (lockout, in the database, so every server process agrees) and limited per client address.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from broadsheet.errors import AccountError
from broadsheet.readers.mail import link_message
from broadsheet.readers.names import check_display_name, check_email, check_name
from broadsheet.readers.passwords import check_new_password, hash_password, needs_rehash, verify_password
from broadsheet.readers.tokens import LINK_HOURS, new_token, token_hash
from broadsheet.store import User
from broadsheet.web.cache import changes
from broadsheet.web.context import Ctx, PathId, WebContext, base_url
from broadsheet.web.mail import mail_on, send, sender
from broadsheet.web.readers import (
    CurrentReader,
    Reader,
    SessionReader,
    clear_session_cookie,
    make_api_token,
    make_sign_in_link_token,
    personal_data,
    set_session_cookie,
)
from broadsheet.web.security import SESSION_COOKIE, request_identity, same_origin, valid_csrf
from broadsheet.web.server import request_client

__all__ = ["check_form", "router", "safe_next", "to_signin"]

log = logging.getLogger(__name__)

router = APIRouter(default_response_class=HTMLResponse)
Token = Annotated[str, Form(alias="csrf", max_length=200)]
NameField = Annotated[str, Form(max_length=100)]
PasswordField = Annotated[str, Form(max_length=2048)]
NextField = Annotated[str, Form(alias="next", max_length=500)]
FAILURE_DELAY = 0.5  # seconds a wrong password waits for its answer, on top of the hash itself
WRONG = "Wrong name or password."
STALE_FORM = "This form is out of date or came from another site; reload the page and retry."
BANNED_ACCOUNT = "This account is banned from the site."
# Names a stranger could use to pass for the site itself; the operator can still give them (`broadsheet user add`).
RESERVED = frozenset({"admin", "administrator", "moderator", "mod", "root", "system", "staff", "support",
                      "broadsheet", "operator", "webmaster"})  # fmt: skip


def check_form(ctx: WebContext, request: Request, token: str) -> None:
    """A form that changes something came from our own page, for the identity that loaded it: 403 if not."""
    if not same_origin(request, ctx.settings.base_url) or not valid_csrf(
        ctx.secret, token, request_identity(request)
    ):
        raise HTTPException(403, STALE_FORM)


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this site only (never `//host` or `https://elsewhere`)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and "\n" not in target:
        return target
    return "/"


def _limited(ctx: WebContext, request: Request) -> None:
    wait = ctx.login_limit.wait(request_client(request))
    if wait:
        raise HTTPException(
            429,
            f"Too many sign-in attempts from this address: try again in {int(wait) + 1} s.",
            {"Retry-After": str(int(wait) + 1)},
        )


def _form(ctx: WebContext, request: Request, template: str, status: int = 200, **context: object) -> Response:
    return ctx.render(request, template, status=status, **context)


def _start_session(ctx: WebContext, request: Request, user: User, target: str) -> Response:
    token = new_token("bs_s_")
    lifetime = timedelta(days=ctx.settings.session_days)
    now = ctx.clock()
    # Expired sessions and spent or stale links go as new sessions come: sign-ins are rare enough that this
    # costs nothing, and the table never holds more than the sessions of one lifetime.
    ctx.store.accounts.sweep(now)
    ctx.store.accounts.open_session(user.id, token_hash(token), now, lifetime)
    response = RedirectResponse(safe_next(target), status_code=303)
    set_session_cookie(response, request, token, ctx.settings.session_days)
    return response


# --- signing in and out ---------------------------------------------------------------------------------------


@router.get("/signin")
def signin_page(ctx: Ctx, request: Request, reader: SessionReader, next: str = "/") -> Response:
    return _form(ctx, request, "signin.html", next=safe_next(next), error="", typed_name="", reader=reader)


@router.post("/signin")
async def signin(ctx: Ctx, request: Request, name: NameField, password: PasswordField,
                 next: NextField = "/", csrf: Token = "") -> Response:  # fmt: skip
    check_form(ctx, request, csrf)
    _limited(ctx, request)
    now = ctx.clock()
    user = await ctx.run_db(ctx.store.accounts.user_by_name, name.strip())
    if user is not None and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, round((user.locked_until - now).total_seconds() / 60))
        raise HTTPException(
            429,
            f"This account is locked after too many wrong passwords: try again in about {minutes} min, or "
            "ask the site's operator for a sign-in link.",
            {"Retry-After": str(minutes * 60)},
        )
    stored = user.password_hash if user is not None else ""
    good = await ctx.passwords.run(lambda: verify_password(stored, password))
    if user is None or not good:
        if user is not None:
            locked = await ctx.run_db(
                ctx.store.accounts.record_failure,
                user.id,
                now,
                ctx.settings.login_max_failures,
                timedelta(seconds=ctx.settings.login_lockout_seconds),
            )
            if locked is not None:
                log.warning("sign-in: account %r locked after %d wrong passwords", user.name,
                            ctx.settings.login_max_failures)  # fmt: skip
        await asyncio.sleep(FAILURE_DELAY)
        return _form(ctx, request, "signin.html", 401, next=safe_next(next), error=WRONG, typed_name=name,
                     reader=None)  # fmt: skip
    if user.banned_at is not None:
        raise HTTPException(403, BANNED_ACCOUNT)
    await ctx.run_db(ctx.store.accounts.record_success, user.id)
    if needs_rehash(user.password_hash):  # made with weaker settings than today's: made again, once
        rehashed = await ctx.passwords.run(lambda: hash_password(password))
        await ctx.run_db(ctx.store.accounts.rehash, user.id, rehashed)  # other browsers stay signed in
    old = request.cookies.get(SESSION_COOKIE, "")
    if old and len(old) <= 200:  # signing in again (as anyone) ends the session this browser had
        await ctx.run_db(ctx.store.accounts.close_session, token_hash(old))
    return await ctx.run_db(_start_session, ctx, request, user, next)


@router.post("/signout")
async def signout(ctx: Ctx, request: Request, reader: SessionReader, csrf: Token = "") -> Response:
    check_form(ctx, request, csrf)
    if reader is not None and reader.session:
        await ctx.run_db(ctx.store.accounts.close_session, reader.session)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


# --- signing up -----------------------------------------------------------------------------------------------


def _signups_on(ctx: WebContext) -> None:
    if not ctx.settings.signups:
        raise HTTPException(403, "This site does not take sign-ups: its operator adds readers' accounts.")


@router.get("/signup")
def signup_page(ctx: Ctx, request: Request, reader: SessionReader, next: str = "/") -> Response:
    _signups_on(ctx)
    return _form(ctx, request, "signup.html", next=safe_next(next), error="", typed_name="", display_name="",
                 reader=reader)  # fmt: skip


@router.post("/signup")
async def signup(ctx: Ctx, request: Request, name: NameField, password: PasswordField,
                 display_name: Annotated[str, Form(max_length=200)] = "", next: NextField = "/", csrf: Token = "") -> Response:  # fmt: skip
    _signups_on(ctx)
    check_form(ctx, request, csrf)
    _limited(ctx, request)
    name = name.strip()
    display_name = display_name.strip()
    error = check_name(name) or check_display_name(display_name) or check_new_password(password, name)
    if error is None and name.casefold() in RESERVED:
        error = f"The name {name!r} is kept for the site's own staff: choose another."
    if error is None:
        hashed = await ctx.passwords.run(lambda: hash_password(password))
        try:
            user = await ctx.run_db(
                ctx.store.accounts.add_user, name, hashed, "reader", ctx.clock(), display_name
            )
        except AccountError as exc:
            error = str(exc)
        else:
            log.info("sign-up: new reader %r", user.name)
            return await ctx.run_db(_start_session, ctx, request, user, next)
    return _form(ctx, request, "signup.html", 400, next=safe_next(next), error=error, typed_name=name,
                 display_name=display_name, reader=None)  # fmt: skip


# --- one-time sign-in links (`broadsheet user reset NAME`, or mailed) --------------------------------------------

FORGOT_SENT = ("If that account has an e-mail address, a sign-in link is on its way to it; it works once, for an "
               "hour. Nothing arrived? Ask the operator of this site for a link.")  # fmt: skip


@router.get("/signin/forgot")
def forgot_page(ctx: Ctx, request: Request) -> Response:
    return _form(ctx, request, "forgot.html", mail=mail_on(ctx.settings), message="", reader=None)


def _mail_links(ctx: WebContext, request: Request, who: str) -> int:
    """Mail a sign-in link to each account named by `who` (a name, or an e-mail address) that has an address
    and is not banned; returns how many were sent. Failures are logged, not shown: the answer is the same."""
    found = ctx.store.accounts.users_by_email(who) if "@" in who else []
    if not found:
        user = ctx.store.accounts.user_by_name(who)
        found = [user] if user is not None else []
    sent = 0
    for user in found:
        if not user.email or user.banned_at is not None:
            continue
        link = make_sign_in_link_token(ctx.store, user.id, ctx.clock())
        message = link_message(sender=sender(ctx.settings), to=user.email, site=ctx.settings.site_name,
                               name=user.name, link=f"{base_url(request)}/signin/link/{link}", hours=LINK_HOURS)  # fmt: skip
        try:
            send(ctx.settings, message)
            sent += 1
            log.info("sign-in link mailed to account %r", user.name)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("the sign-in link for %r could not be mailed: %s", user.name, exc)
    return sent


@router.post("/signin/forgot")
async def forgot(ctx: Ctx, request: Request, who: Annotated[str, Form(max_length=300)] = "",
                 csrf: Token = "") -> Response:  # fmt: skip
    check_form(ctx, request, csrf)
    _limited(ctx, request)
    if mail_on(ctx.settings) and who.strip():
        await run_in_threadpool(_mail_links, ctx, request, who.strip())
    return _form(ctx, request, "forgot.html", mail=mail_on(ctx.settings), message=FORGOT_SENT, reader=None)


@router.get("/signin/link/{token}")
def link_page(ctx: Ctx, request: Request, token: str) -> Response:
    """The link only shows a form: mail scanners and link previews fetch links, and must not spend them."""
    user = (
        ctx.store.accounts.token_user(token_hash(token), "link", ctx.clock()) if len(token) <= 200 else None
    )
    if user is None:
        raise HTTPException(
            404, "This sign-in link is unknown, used or expired: ask the site's operator for a new one."
        )
    return _form(ctx, request, "link.html", user=user, token=token, error="", reader=None)


@router.post("/signin/link/{token}")
async def link_signin(
    ctx: Ctx, request: Request, token: str, password: PasswordField, csrf: Token = ""
) -> Response:
    check_form(ctx, request, csrf)
    _limited(ctx, request)
    digest = token_hash(token[:200])
    user = await ctx.run_db(ctx.store.accounts.token_user, digest, "link", ctx.clock())
    if user is None:
        raise HTTPException(
            404, "This sign-in link is unknown, used or expired: ask the site's operator for a new one."
        )
    if user.banned_at is not None:
        raise HTTPException(403, BANNED_ACCOUNT)
    error = check_new_password(password, user.name)
    if error is not None:
        return _form(ctx, request, "link.html", 400, user=user, token=token, error=error, reader=None)
    hashed = await ctx.passwords.run(lambda: hash_password(password))
    spent = await ctx.run_db(ctx.store.accounts.spend_link, digest, ctx.clock())
    if spent is None:  # another request spent it in the meantime
        raise HTTPException(
            404, "This sign-in link was used a moment ago: ask the site's operator for a new one."
        )
    await ctx.run_db(ctx.store.accounts.set_password, spent.id, hashed)  # ends every other session
    await ctx.run_db(ctx.store.accounts.record_success, spent.id)
    return await ctx.run_db(_start_session, ctx, request, spent, "/account?changed=password")


# --- the account page -----------------------------------------------------------------------------------------


def _account(ctx: WebContext, request: Request, reader: Reader, *, status: int = 200, error: str = "",
             message: str = "", new_token_value: str = "") -> Response:  # fmt: skip
    tokens = ctx.store.accounts.tokens(reader.id, "api")
    app_passwords = ctx.store.accounts.tokens(reader.id, "app")
    return _form(ctx, request, "account.html", status, reader=reader, tokens=tokens, error=error,
                 message=message, new_token=new_token_value, app_passwords=app_passwords, mail=mail_on(ctx.settings),
                 site_url=str(request.base_url).rstrip("/"))  # fmt: skip


def to_signin(path: str) -> Response:
    """Where a page that needs a signed-in reader sends everyone else: sign in, then come back."""
    return RedirectResponse(f"/signin?next={quote(path)}", status_code=303)


MESSAGES = {"password": "Your password is changed; other browsers were signed out."}


@router.get("/account")
def account_page(ctx: Ctx, request: Request, reader: SessionReader, changed: str = "") -> Response:
    if reader is None:
        return to_signin("/account")
    return _account(ctx, request, reader, message=MESSAGES.get(changed, ""))


@router.post("/account/email")
def account_email(ctx: Ctx, request: Request, reader: SessionReader,
                  email: Annotated[str, Form(max_length=400)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    error = check_email(email)
    if error:
        return _account(ctx, request, reader, status=400, error=error)
    ctx.store.accounts.set_email(reader.id, email)
    return RedirectResponse("/account", status_code=303)


@router.post("/account/profile")
def account_profile(ctx: Ctx, request: Request, reader: SessionReader,
                    display_name: Annotated[str, Form(max_length=200)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    if reader.banned:  # the name beside their comments stays as it was when they were banned
        raise HTTPException(403, "Your account is banned: its name cannot be changed.")
    display_name = display_name.strip()
    error = check_display_name(display_name)
    if error:
        return _account(ctx, request, reader, status=400, error=error)
    ctx.store.accounts.set_display_name(reader.id, display_name)
    return RedirectResponse("/account", status_code=303)


async def _password_again(
    ctx: WebContext, request: Request, reader: Reader, typed: str, refusal: str
) -> Response | None:
    """For a change that needs the password typed again: None when it is right, else the account page saying
    `refusal` (after the wait a wrong password costs; attempts count against the address's sign-in limit)."""
    _limited(ctx, request)
    stored = reader.user.password_hash
    if await ctx.passwords.run(lambda: verify_password(stored, typed)):
        return None
    await asyncio.sleep(FAILURE_DELAY)
    return await ctx.run_db(_account, ctx, request, reader, status=400, error=refusal)


@router.post("/account/password")
async def account_password(ctx: Ctx, request: Request, reader: SessionReader,
                           current: PasswordField, password: PasswordField, csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    refused = await _password_again(ctx, request, reader, current, "Your current password is not right.")
    if refused is not None:
        return refused
    error = check_new_password(password, reader.user.name)
    if error:
        return await ctx.run_db(_account, ctx, request, reader, status=400, error=error)
    hashed = await ctx.passwords.run(lambda: hash_password(password))
    await ctx.run_db(ctx.store.accounts.set_password, reader.id, hashed)  # every session ends, this one too
    return await ctx.run_db(_start_session, ctx, request, reader.user, "/account?changed=password")


@router.post("/account/tokens")
def account_new_token(ctx: Ctx, request: Request, reader: SessionReader,
                      label: Annotated[str, Form(max_length=100)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    token = make_api_token(ctx.store, reader.id, label.strip(), ctx.clock())
    # Shown once, on this answer only (no-store): the database keeps its digest alone.
    return _account(ctx, request, reader, message="Your new token (copy it now: it is not shown again):",
                    new_token_value=token)  # fmt: skip


@router.post("/account/app-passwords")
def account_new_app_password(ctx: Ctx, request: Request, reader: SessionReader,
                             label: Annotated[str, Form(max_length=100)] = "", csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    from broadsheet.web.apps.common import make_app_password

    password = make_app_password(ctx.store, reader.user, label or "an app", ctx.clock())
    return _account(ctx, request, reader, message=f"Your new app password (copy it into the app now: it is not "
                    f"shown again). Sign in there as {reader.user.name}:", new_token_value=password)  # fmt: skip


@router.post("/account/tokens/{token_id}/revoke")
def account_revoke_token(ctx: Ctx, request: Request, reader: SessionReader,
                         token_id: PathId, csrf: Token = "") -> Response:  # fmt: skip
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    if not ctx.store.accounts.revoke_token(reader.id, token_id):
        raise HTTPException(404, "You have no such token.")
    return RedirectResponse("/account", status_code=303)


@router.post("/account/signout-everywhere")
def account_signout_everywhere(
    ctx: Ctx, request: Request, reader: SessionReader, csrf: Token = ""
) -> Response:
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    ctx.store.accounts.close_sessions(reader.id)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


# --- the reader's own data ------------------------------------------------------------------------------------


@router.get("/account/data.json")
def account_data(ctx: Ctx, reader: CurrentReader) -> Response:
    """The reader's data export (a session, or `Authorization: Bearer` for scripts)."""
    if reader is None:
        return to_signin("/account")
    return JSONResponse(
        personal_data(ctx, reader),
        headers={"Content-Disposition": f'attachment; filename="{reader.user.name}-data.json"'},
    )


@router.post("/account/delete")
async def account_delete(
    ctx: Ctx, request: Request, reader: SessionReader, current: PasswordField, csrf: Token = ""
) -> Response:
    """Delete the account and what it wrote (a comment others answered stays as "[deleted]"), after the
    password is typed again."""
    if reader is None:
        return to_signin("/account")
    check_form(ctx, request, csrf)
    refused = await _password_again(
        ctx, request, reader, current, "Your password is not right: the account is not deleted."
    )
    if refused is not None:
        return refused
    await ctx.run_db(ctx.store.accounts.remove_user, reader.user.name, ctx.clock())
    log.info("account %r deleted by its reader", reader.user.name)
    changes(request.scope, "*")  # their comments may be on any cached page
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response
