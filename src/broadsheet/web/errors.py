"""How the app answers when a route does not answer for itself: errors as JSON `{"error": {"code", "message"}}`
under /api and as a page otherwise, a short reference for the unexpected ones, and HEAD answered as GET.

Known errors keep their message (it says what to do); the security headers and the rest of each answer are
other modules' (`security.py`, the routes).
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
from types import TracebackType

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.errors import BroadsheetError, NotFoundError
from broadsheet.text import collapse_whitespace, strip_controls
from broadsheet.web.context import WebContext
from broadsheet.web.security import SecurityHeaders

__all__ = ["ErrorPages", "HeadAsGet", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "too_large", 422: "invalid_input", 429: "too_many", 500: "internal_error"}  # fmt: skip
_TITLES = {400: "That request didn't work", 401: "Sign in needed", 403: "Not allowed", 404: "Page not found",
           405: "Not allowed", 413: "Too large", 422: "That input didn't work", 429: "Too many tries",
           500: "Something went wrong"}  # fmt: skip
NOTHING_HERE = "There is nothing at this address. Try the home page or search."
MAX_LOGGED_MESSAGE = 300  # characters of an exception's message in its log line (SQL errors quote statements)


def _status_of(exc: BroadsheetError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return getattr(exc, "http_status", 400)


def error_response(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The site's error page for `status` (JSON `{"error": {"code", "message"}}` under /api)."""
    if request.url.path.startswith("/api/"):
        body = {"error": {"code": _CODES.get(status, "error"), "message": message}}
        return JSONResponse(body, status_code=status, headers=headers)
    context: WebContext = request.app.state.context
    response = context.render(
        request, "error.html", status=status, title=_TITLES.get(status, "Error"), message=message
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Handlers for the errors routes raise on purpose; anything else is `ErrorPages`'s."""

    @app.exception_handler(BroadsheetError)
    async def _known(request: Request, exc: BroadsheetError) -> Response:
        return error_response(request, _status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = NOTHING_HERE
        return error_response(request, exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        api = request.url.path.startswith("/api/")
        if not api and all(error["loc"][:1] == ("path",) for error in exc.errors()):
            # "/stories/abc" or an id past what the database holds names no page, like any unknown address.
            return error_response(request, 404, NOTHING_HERE)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
            for e in exc.errors()
        )
        return error_response(request, 422 if api else 400, problems)


# --- the unexpected -----------------------------------------------------------------------------------------


def _one_line(text: str, limit: int) -> str:
    line = collapse_whitespace(strip_controls(text))
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _short_path(filename: str) -> str:
    """A source file as its import path shows it ("broadsheet/store/stories.py"), not the machine's layout."""
    roots = sorted((p for p in sys.path if p), key=len, reverse=True)
    for root in roots:
        if filename.startswith(root.rstrip(os.sep) + os.sep):
            return filename[len(root.rstrip(os.sep)) + 1 :]
    return filename


def _where(tb: TracebackType | None) -> str:
    """The innermost frame (file:line), and the innermost of broadsheet's own when that is another one."""
    innermost = ours = None
    while tb is not None:
        innermost = tb
        if _short_path(tb.tb_frame.f_code.co_filename).startswith("broadsheet" + os.sep):
            ours = tb
        tb = tb.tb_next
    if innermost is None:
        return "no traceback"

    def frame(at: TracebackType) -> str:
        return f"{_short_path(at.tb_frame.f_code.co_filename)}:{at.tb_lineno}"

    where = f"at {frame(innermost)}"
    return where if ours is None or ours is innermost else f"{where}, from {frame(ours)}"


def _unexpected(request: Request, reference: str) -> Response:
    message = (
        f"The server hit an error it did not expect. It is logged under the reference {reference}: if it "
        "keeps happening, tell whoever runs this site, with that reference."
    )
    headers = {"Cache-Control": "no-store"}
    if request.url.path.startswith("/api/"):
        body = {"error": {"code": _CODES[500], "message": message, "reference": reference}}
        return JSONResponse(body, status_code=500, headers=headers)
    try:
        return error_response(request, 500, message, headers)
    except Exception:  # the page itself could not be made: the words still reach the reader
        log.exception("the error page for reference %s could not be rendered", reference)
        return PlainTextResponse(message, status_code=500, headers=headers)


class ErrorPages:
    """Pure ASGI middleware around the whole app: an exception nothing inside handled becomes the site's own
    500 (a page, or JSON under /api) with the security headers and a reference, logged on one line with the
    exception and where it was raised; the full traceback is logged at DEBUG level. It must sit outside every
    other middleware: Starlette's own last resort does, and answers without the security headers."""

    def __init__(self, app: ASGIApp, *, proxy_images: bool = False) -> None:
        self.app = app
        self.proxy_images = proxy_images

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except ClientDisconnect:
            log.debug(
                "%s %s: the client left before sending its whole request", scope["method"], scope["path"]
            )
        except Exception as exc:
            reference = secrets.token_hex(4)
            log.error(
                "error %s on %s %s: %s: %s (%s)",
                reference,
                scope["method"],
                _one_line(scope["path"], 200),
                type(exc).__qualname__,
                _one_line(str(exc), MAX_LOGGED_MESSAGE),
                _where(exc.__traceback__),
            )
            log.debug("error %s in full", reference, exc_info=exc)
            if started:
                return  # half an answer is out: the server closes the connection, which tells the client
            response = _unexpected(Request(scope), reference)
            await SecurityHeaders(response, proxy_images=self.proxy_images)(scope, receive, send)


class HeadAsGet:
    """Pure ASGI middleware: HEAD is answered as GET would be, status and headers (Content-Length included),
    without the body (FastAPI's routes accept only the methods they name). Outside the page cache, so a HEAD is answered from it like a GET."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
