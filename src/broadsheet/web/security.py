"""Web safety: response headers (CSP and friends), the admin password check and CSRF tokens.

Publisher HTML is sanitised when stored (`extract/sanitize.py`); this module makes sure nothing that slipped
through could run: no inline script is allowed by the Content-Security-Policy, and the site cannot be framed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "ADMIN_PREFIXES",
    "CSRF_FIELD",
    "SESSION_COOKIE",
    "SecurityHeaders",
    "check_admin",
    "csrf_token",
    "image_signature",
    "load_secret",
    "proxied_image",
    "request_identity",
    "same_origin",
    "valid_csrf",
]

ADMIN_PREFIXES = ("/admin", "/api/v1/sources")  # the operator's alone: the admin password guards them
CSRF_FIELD = "csrf"
# The signed-in reader's session (web/readers.py). Its value is a random token; the database keeps its digest.
SESSION_COOKIE = "bs_session"
CSRF_LIFETIME = 2 * 3600  # long enough to fill in a form, short enough that a leaked token soon goes stale

# Images come from publishers' hosts (any https origin); nothing else is loaded from anywhere but here.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: http: data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Readers' visits are nobody else's business: publishers' image hosts and linked sites get no referrer.
    # Not "no-referrer": under it browsers send `Origin: null` with a form posted to this very site, and every
    # form's same-origin check (same_origin below) would refuse it.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


# With the image proxy on, pages load images from this origin only.
CSP_PROXIED = CSP.replace("img-src 'self' https: http: data:", "img-src 'self' data:")


class SecurityHeaders:
    """Pure ASGI middleware (Starlette's BaseHTTPMiddleware costs about a millisecond a request): adds the
    headers to every response that does not set its own."""

    def __init__(self, app: ASGIApp, *, proxy_images: bool = False) -> None:
        self.app = app
        headers = {**HEADERS, "Content-Security-Policy": CSP_PROXIED if proxy_images else CSP}
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def load_secret(home: Path) -> bytes:
    """The home's signing key (created on first use, readable only by its owner)."""
    path = home / "secret.key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def request_identity(request: Request) -> str:
    """Who is signed in, as far as forms care: a digest of the request's credentials ("" when there are
    none). A form token made for one identity is refused for another, so a token that leaks from one admin's
    page, or outlives a password change, cannot be replayed."""
    credentials = request.headers.get("authorization", "")
    session = request.cookies.get(SESSION_COOKIE, "")
    if session:  # a reader's session (web/readers.py): tokens made for it die with it
        credentials = f"{credentials}|session|{session}"
    return hashlib.sha256(credentials.encode()).hexdigest()[:32] if credentials else ""


def csrf_token(secret: bytes, identity: str, now: float | None = None) -> str:
    """A token for one form: its creation time and the signed-in identity, signed. Valid for CSRF_LIFETIME
    seconds, for that identity only."""
    stamp = str(int(now if now is not None else time.time()))
    mac = hmac.new(secret, f"csrf|{stamp}|{identity}".encode(), hashlib.sha256).digest()
    return f"{stamp}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def valid_csrf(secret: bytes, token: str, identity: str, now: float | None = None) -> bool:
    stamp, _, _mac = token.partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return False
    current = now if now is not None else time.time()
    if not 0 <= current - int(stamp) <= CSRF_LIFETIME:
        return False
    return hmac.compare_digest(csrf_token(secret, identity, int(stamp)), token)


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, default ports filled in; None for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80)


def same_origin(request: Request, base_url: str = "") -> bool:
    """A state-changing request must come from our own pages: its Origin (or Referer) has our scheme, host and
    port. Ours is `base_url` when the operator set one; only without it is the request's own address (and so
    its Host header) taken as ours, as on a laptop."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    ours = _origin(base_url or str(request.base_url))
    return ours is not None and _origin(claimed) == ours


def check_admin(password: str, authorization: str | None) -> bool:
    """HTTP Basic credentials carry the admin password (any user name). Constant-time comparison."""
    if not password or not authorization or not authorization.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    _user, _, given = decoded.partition(":")
    return hmac.compare_digest(given.encode(), password.encode())


# --- the image proxy's addresses: signed, so it fetches only images our pages link to


def image_signature(secret: bytes, url: str) -> str:
    mac = hmac.new(secret, f"img|{url}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def proxied_image(secret: bytes, url: str) -> str:
    """Our address for a publisher's image."""
    return f"/img/{image_signature(secret, url)}?u={quote(url, safe='')}" if url else ""
