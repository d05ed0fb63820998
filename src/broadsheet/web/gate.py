"""The gate in front of the app: the host the site answers as, how large a request body may be on each route,
and who may reach the admin routes, all decided before the app reads a byte of the body.

Owns refusing requests early (400, 401, 403, 413, 429); not connection limits (`web.server`) nor the checks
that need the body (CSRF tokens, form fields), which the admin pages make themselves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broadsheet.config import Settings
from broadsheet.web.auth import ADMIN_OFF
from broadsheet.web.cache import APP_PREFIXES, WEBSUB_PREFIX
from broadsheet.web.errors import error_response
from broadsheet.web.security import ADMIN_PREFIXES, check_admin
from broadsheet.web.server import request_client

__all__ = ["Gate", "Lockout"]

log = logging.getLogger(__name__)

HEALTH_CHECK = "/healthz"
OPML_UPLOAD = "/admin/sources/import"
# A comment is at most 10 000 characters: as a form, with every one of them non-ASCII and percent-encoded,
# some 90 000 bytes.
COMMENT_PATHS = (
    "/articles/",
    "/stories/",
    "/comments/",
    "/api/v1/articles/",
    "/api/v1/stories/",
    "/api/v1/comments/",
)
COMMENT_BODY_BYTES = 128 * 1024
# Reader apps mark thousands of items in one request (10 000 long item ids are some 600 000 bytes as a form).
APP_BODY_BYTES = 1024 * 1024
MULTIPART_SLACK = 64 * 1024  # a multipart body wraps the file in boundaries and part headers
FAILURE_DELAY = 0.5  # seconds a wrong password waits before its answer: guessing is slow even before lockout
MAX_TRACKED = 10_000  # client addresses remembered for lockout; the oldest are forgotten first


@dataclass
class _Tries:
    failures: int = 0
    locked_until: float = 0.0


class Lockout:
    """Wrong admin passwords per client address: after `max_failures` in a row the address is refused for
    `seconds`. Kept in memory, per server process."""

    def __init__(
        self, max_failures: int, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.seconds = seconds
        self.clock = clock
        self._tries: OrderedDict[str, _Tries] = OrderedDict()

    def locked_for(self, address: str) -> float:
        """Seconds this address is still locked out (0 when it is not)."""
        tries = self._tries.get(address)
        return max(0.0, tries.locked_until - self.clock()) if tries else 0.0

    def failed(self, address: str) -> bool:
        """Count a wrong password; True when this one locks the address out."""
        tries = self._tries.pop(address, None) or _Tries()
        self._tries[address] = tries  # most recent last
        while len(self._tries) > MAX_TRACKED:
            self._tries.popitem(last=False)
        tries.failures += 1
        if tries.failures >= self.max_failures:
            tries.failures = 0
            tries.locked_until = self.clock() + self.seconds
            return True
        return False

    def succeeded(self, address: str) -> None:
        self._tries.pop(address, None)


def _allowed_hosts(base_url: str) -> frozenset[str]:
    """The Host header values that name the site at `base_url` (with and without its default port)."""
    if not base_url:
        return frozenset()
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    named = f"[{host}]" if ":" in host else host
    default = 443 if parts.scheme == "https" else 80
    port = parts.port or default
    hosts = {f"{named}:{port}"}
    if port == default:
        hosts.add(named)
    return frozenset(hosts)


class Gate:
    """Pure ASGI middleware: cheap checks on the request line and headers, and a count of the body as it
    streams in, so that nothing the app does can read more than a route allows."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.app = app
        self.settings = settings
        self.hosts = _allowed_hosts(settings.base_url)
        self.lockout = Lockout(settings.admin_max_failures, settings.admin_lockout_seconds, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        refusal = self._host(request) or await self._admin(request)
        cap = self._body_cap(request)
        if refusal is None:
            refusal = self._declared_length(request, cap)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        await self._counted(scope, receive, send, cap)

    # --- the checks ----------------------------------------------------------------------------------------

    def _host(self, request: Request) -> Response | None:
        if not self.hosts or request.headers.get("host", "").lower() in self.hosts:
            return None
        if request.url.path == HEALTH_CHECK:  # probes on the machine ask by its own address
            return None
        return _refuse(
            request, 400, f"This site answers only as {self.settings.base_url}; use that address.", close=True
        )

    async def _admin(self, request: Request) -> Response | None:
        """Admin routes: the password is checked here, before the app parses any form or upload."""
        if not request.url.path.startswith(ADMIN_PREFIXES):
            return None
        password = self.settings.admin_password.get_secret_value()
        if not password:
            return _refuse(request, 403, ADMIN_OFF)
        # IPv6 clients by their /64, as the connection caps count them: one machine can pick any address in it.
        address = request_client(request)
        locked = self.lockout.locked_for(address)
        if locked:
            minutes = max(1, round(locked / 60))
            return _refuse(request, 429, f"Too many wrong passwords from this address: try again in about "
                                         f"{minutes} min.", {"Retry-After": str(int(locked) + 1)})  # fmt: skip
        authorization = request.headers.get("authorization")
        if check_admin(password, authorization):
            self.lockout.succeeded(address)
            return None
        if authorization:  # a browser's first visit sends none: that is a question, not a guess
            if self.lockout.failed(address):
                log.warning("admin: %s locked out for %g s after %d wrong passwords", address,
                            self.lockout.seconds, self.lockout.max_failures)  # fmt: skip
            else:
                log.warning("admin: wrong password from %s", address)
            await asyncio.sleep(FAILURE_DELAY)
        return _refuse(
            request, 401, "The admin password is needed.", {"WWW-Authenticate": 'Basic realm="broadsheet"'}
        )

    def _body_cap(self, request: Request) -> int:
        if request.method == "POST" and request.url.path == OPML_UPLOAD:
            return self.settings.max_opml_bytes + MULTIPART_SLACK
        if request.url.path.startswith(COMMENT_PATHS):
            return max(self.settings.max_form_bytes, COMMENT_BODY_BYTES)
        if request.url.path.startswith(APP_PREFIXES):
            return max(self.settings.max_form_bytes, APP_BODY_BYTES)
        if request.url.path.startswith(WEBSUB_PREFIX):  # a hub pushes whole feed documents
            return max(self.settings.max_form_bytes, self.settings.max_response_bytes)
        return self.settings.max_form_bytes

    def _declared_length(self, request: Request, cap: int) -> Response | None:
        declared = request.headers.get("content-length")
        if declared is None:
            return None
        if not declared.isdigit():
            return _refuse(request, 400, "The Content-Length header is not a number.", close=True)
        if int(declared) > cap:
            return _too_large(request, cap)
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        """Run the app, cutting its body off past `cap`: the app then sees a body that ends there, and
        whatever it answers is replaced by 413 (the connection closes, unread bytes and all)."""
        received = 0
        over = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not over:
                started = started or message["type"] == "http.response.start"
                await send(message)
                return
            if message["type"] == "http.response.start" and not started:
                started = True
                await _too_large(Request(scope), cap)(scope, counted_receive, send)

        await self.app(scope, counted_receive, guarded_send)


def _too_large(request: Request, cap: int) -> Response:
    what = "OPML file" if request.url.path == OPML_UPLOAD else "request"
    return _refuse(
        request, 413, f"That {what} is too large: at most {cap:,} bytes are accepted here.", close=True
    )


def _refuse(
    request: Request, status: int, message: str, headers: dict[str, str] | None = None, *, close: bool = False
) -> Response:
    """The app's own error page (JSON under /api), made before the app ran; never kept by a cache."""
    extra = {**(headers or {}), "Cache-Control": "no-store", **({"Connection": "close"} if close else {})}
    return error_response(request, status, message, extra)
