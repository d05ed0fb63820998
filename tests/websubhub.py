"""A WebSub hub on loopback, written for the tests from the W3C Recommendation (2018): it takes subscription
requests (answering 202), verifies each intent by calling the subscriber back with a challenge (or denies it),
delivers content signed with the subscriber's secret, and records publish pings.

    with Hub() as hub:            # hub.url is its endpoint
        hub.verified(topic)       # waits until a subscription to `topic` was confirmed by the subscriber
        hub.deliver(topic, body)  # POSTs body to the subscriber's callback, X-Hub-Signature: sha256=...
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

__all__ = ["Hub", "Subscription"]


@dataclass
class Subscription:
    callback: str
    topic: str
    secret: str
    lease_seconds: int
    verified: bool = False
    called: bool = False  # the hub has called the subscriber back (to verify, or to deny)
    answer: str = ""  # what the subscriber said


@dataclass
class Hub:
    deny: str = ""  # a reason: deny every subscription with it, instead of verifying
    status: int = 202  # what a subscription request is answered (not 2xx: the hub refuses)
    lease_seconds: int | None = None  # the lease granted; None grants what was asked
    subscriptions: list[Subscription] = field(default_factory=list)
    published: list[str] = field(default_factory=list)  # hub.url of each publish ping
    requests: list[dict[str, str]] = field(default_factory=list)  # every form received

    def __post_init__(self) -> None:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                hub.requests.append(form)
                status = hub._take(form)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Hub:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _take(self, form: dict[str, str]) -> int:
        mode = form.get("hub.mode", "")
        if mode == "publish":
            self.published.append(form.get("hub.url", ""))
            return 204
        if mode != "subscribe" or not form.get("hub.callback") or not form.get("hub.topic"):
            return 400
        if not 200 <= self.status < 300:
            return self.status
        lease = self.lease_seconds or int(form.get("hub.lease_seconds") or 86_400)
        subscription = Subscription(
            form["hub.callback"], form["hub.topic"], form.get("hub.secret", ""), lease
        )
        self.subscriptions.append(subscription)
        # Verification of intent happens after the request is answered, as hubs do.
        threading.Thread(target=self._verify, args=(subscription,), daemon=True).start()
        return 202

    def _verify(self, subscription: Subscription) -> None:
        time.sleep(0.05)
        challenge = secrets.token_hex(8)
        if self.deny:
            query = {"hub.mode": "denied", "hub.topic": subscription.topic, "hub.reason": self.deny}
        else:
            query = {"hub.mode": "subscribe", "hub.topic": subscription.topic, "hub.challenge": challenge,
                     "hub.lease_seconds": str(subscription.lease_seconds)}  # fmt: skip
        answer = httpx.get(subscription.callback, params=query, timeout=10)
        subscription.answer = answer.text
        subscription.verified = not self.deny and answer.status_code == 200 and answer.text == challenge
        subscription.called = True

    def current(self, topic: str, timeout: float = 10) -> Subscription:
        """The latest subscription to `topic`, once the hub called the subscriber back about it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in self.subscriptions if s.topic == topic]
            if found and found[-1].called:
                return found[-1]
            time.sleep(0.05)
        raise AssertionError(f"no subscription to {topic} was verified")

    def deliver(self, topic: str, body: bytes, content_type: str = "application/atom+xml",
                secret: str | None = None, signed: bool = True) -> httpx.Response:  # fmt: skip
        """Content distribution to the latest subscriber of `topic`, signed with its secret (or `secret`)."""
        subscription = self.current(topic)
        headers = {"Content-Type": content_type}
        if signed:
            key = subscription.secret if secret is None else secret
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        return httpx.post(subscription.callback, content=body, headers=headers, timeout=10)
