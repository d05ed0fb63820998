"""One error handler for the whole app: JSON `{"error": {"code", "message"}}` under /api, a page otherwise.

Known errors keep their message (it says what to do); anything unexpected is logged and shown as a plain 500.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from broadsheet.errors import BroadsheetError, NotFoundError
from broadsheet.web.context import WebContext

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "too_large", 422: "invalid_input", 500: "internal_error"}  # fmt: skip
_TITLES = {400: "That request didn't work", 401: "Sign in needed", 403: "Not allowed", 404: "Page not found",
           405: "Not allowed", 422: "That input didn't work", 500: "Something went wrong"}  # fmt: skip


def _status_of(exc: BroadsheetError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return getattr(exc, "http_status", 400)


def _respond(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
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
    @app.exception_handler(BroadsheetError)
    async def _known(request: Request, exc: BroadsheetError) -> Response:
        return _respond(request, _status_of(exc), str(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = "There is nothing at this address. Try the home page or search."
        return _respond(request, exc.status_code, message, dict(exc.headers or {}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('query', 'path', 'body'))}: {e['msg']}"
            for e in exc.errors()
        )
        return _respond(request, 422 if request.url.path.startswith("/api/") else 400, problems)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return _respond(request, 500, "The server hit an error it did not expect. It has been logged.")
