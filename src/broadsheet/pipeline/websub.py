"""WebSub (W3C, 2018): updates pushed by hubs instead of only polled, both ways.

As a subscriber: a feed that names a hub (`<link rel="hub">`, and its own address as `rel="self"`, the topic)
gets a subscription there after each good poll that finds none, a stale one, or one near its end. The hub checks
the request by calling `/websub/{source}/{token}` back (the route is `web/pages/websub.py`), then posts new
content there, signed with the secret sent along (HMAC); the route keeps what passes and makes the source due,
and the crawler reads the pushed document in place of a poll (`Poller`). While a hub is pushing, the source is
still polled every `websub_poll_hours` in case a push is lost; when the hub refuses, never verifies, or its
lease runs out, polling goes back to the source's usual pace, and asking again waits longer each time.

As a publisher: with `websub_hub` set, the site's feeds name that hub, and each crawl pass that stored new
articles tells it (`hub.mode=publish`) which of the site's feeds changed.

Pure decisions (`subscription_wanted`, `signature_ok`, `callback_url`, the back-off) around a thin shell
(`Subscriber`), which speaks to hubs through the fetcher's guarded client.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from broadsheet.config import Settings
from broadsheet.errors import BroadsheetError
from broadsheet.fetch import Fetcher
from broadsheet.store import Store, WebSubscription

__all__ = [
    "PENDING_PATIENCE",
    "Subscriber",
    "announce",
    "callback_url",
    "renew_at",
    "retry_after",
    "signature_ok",
    "subscription_wanted",
]

log = logging.getLogger(__name__)

PENDING_PATIENCE = timedelta(hours=1)  # a hub that has not verified by then is taken to have failed
RETRY_FIRST, RETRY_MOST = timedelta(hours=1), timedelta(days=7)
_DIGESTS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}


def callback_url(base_url: str, source_id: int, token: str) -> str:
    return f"{base_url.rstrip('/')}/websub/{source_id}/{token}"


def signature_ok(secret: str, header: str, body: bytes) -> bool:
    """Whether `X-Hub-Signature` ("sha256=HEX", or sha1/sha384/sha512) is the HMAC of `body` with `secret`."""
    method, _, sent = header.strip().partition("=")
    digest = _DIGESTS.get(method.strip().lower())
    if digest is None or not sent:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    return hmac.compare_digest(expected, sent.strip().lower())


def retry_after(failures: int) -> timedelta:
    """How long after a failed request to ask a hub again: an hour, doubling, at most a week."""
    doubled: timedelta = RETRY_FIRST * 2 ** min(max(0, failures - 1), 20)
    return min(RETRY_MOST, doubled)


def renew_at(subscription: WebSubscription) -> datetime | None:
    """When an active subscription is asked again: a day before its lease ends, or with a fifth of the lease
    left when that is shorter; None for a lease without end."""
    if subscription.expires_at is None:
        return None
    lease = timedelta(seconds=subscription.lease_seconds or 0)
    return subscription.expires_at - min(timedelta(days=1), lease / 5)


def subscription_wanted(current: WebSubscription | None, hub: str, topic: str, now: datetime) -> bool:
    """Whether to ask `hub` for `topic` now, given the source's subscription as it stands."""
    if current is None or current.hub != hub or current.topic != topic:
        return True
    if current.state == "active":
        renew = renew_at(current)
        return renew is not None and now >= renew
    if current.state == "pending":
        return now - current.requested_at > PENDING_PATIENCE
    if current.state in ("failed", "denied"):
        return now - current.requested_at > retry_after(current.failures)
    return False


class Subscriber:
    """Asks hubs for subscriptions after polls (`after_poll`) and says how often to poll a pushed-to source
    (`next_due`). One per poller; its fetcher is the poller's."""

    def __init__(self, settings: Settings, store: Store, fetcher: Fetcher) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher

    @property
    def enabled(self) -> bool:
        return self.settings.websub and bool(self.settings.base_url)

    async def after_poll(self, source_id: int, hub: str, topic: str, now: datetime) -> None:
        """After a good poll of a feed naming `hub` (and itself as `topic`): subscribe or renew if due. Never
        raises for what a hub does; the outcome is kept on the subscription."""
        if not self.enabled or not hub or not topic:
            return
        current = self.store.websub.get(source_id)
        if (
            current is not None
            and current.state == "pending"
            and now - current.requested_at > PENDING_PATIENCE
        ):
            self.store.websub.failed(source_id, "the hub never confirmed the subscription", now)
            current = self.store.websub.get(source_id)
        if not subscription_wanted(current, hub, topic, now):
            return
        token, secret = secrets.token_hex(16), secrets.token_hex(32)
        lease = int(self.settings.websub_lease_days * 86_400)
        # Kept before asking: a hub may call back to verify before it even answers this request.
        self.store.websub.requested(source_id, hub, topic, token, secret, lease, now)
        form = {
            "hub.mode": "subscribe", "hub.topic": topic, "hub.secret": secret, "hub.lease_seconds": str(lease),
            "hub.callback": callback_url(self.settings.base_url, source_id, token),
        }  # fmt: skip
        try:
            status, answer = await self.fetcher.post_form(hub, form)
        except BroadsheetError as exc:
            self.store.websub.failed(source_id, f"the hub could not be reached: {exc}", now)
            log.warning("websub: source %s: hub %s unreachable: %s", source_id, hub, exc)
            return
        if status not in (202, 204):
            error = f"the hub answered {status}: {' '.join(answer.split())[:200]}"
            self.store.websub.failed(source_id, error, now)
            log.warning("websub: source %s: %s", source_id, error)
        else:
            log.info("websub: source %s: asked %s for %s", source_id, hub, topic)

    def next_due(self, source_id: int, due: datetime, started: datetime) -> datetime:
        """When to poll again: while the source's hub pushes, no sooner than `websub_poll_hours` (a safety
        net for a lost push), but in time to renew the subscription; otherwise as the schedule says."""
        if not self.settings.websub_poll_hours:
            return due
        current = self.store.websub.get(source_id)
        if current is None or not current.active(started):
            return due
        later = max(due, started + timedelta(hours=self.settings.websub_poll_hours))
        renew = renew_at(current)
        return later if renew is None else max(due, min(later, renew))


async def announce(settings: Settings, fetcher: Fetcher, urls: Sequence[str]) -> int:
    """Tell `websub_hub` that these feeds of the site changed (`hub.mode=publish`, one request per feed, as
    hubs take it); returns how many it accepted. Failures are logged, never raised: readers still poll."""
    accepted = 0
    for url in urls:
        try:
            status, answer = await fetcher.post_form(
                settings.websub_hub, {"hub.mode": "publish", "hub.url": url}
            )
        except BroadsheetError as exc:
            log.warning("websub: the hub %s could not be told of %s: %s", settings.websub_hub, url, exc)
            continue
        if 200 <= status < 300:
            accepted += 1
        else:
            log.warning(
                "websub: the hub %s answered %s for %s: %s", settings.websub_hub, status, url, answer[:200]
            )
    return accepted
