"""SQL for WebSub: each source's subscription at its hub, and what hubs pushed until the crawler reads it.

Owns the `websub` and `websub_pushes` tables. The protocol (when to subscribe, signatures, the hub's requests) is
`pipeline/websub.py`'s and the callback route's; every time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from broadsheet.errors import NotFoundError
from broadsheet.store.db import dialect_insert
from broadsheet.store.schema import websub, websub_pushes

__all__ = ["MAX_WAITING_PUSHES", "Push", "WebSubStore", "WebSubscription"]

MAX_WAITING_PUSHES = 20  # pushes kept per source until the crawler reads them; older ones go first


@dataclass(frozen=True, slots=True)
class WebSubscription:
    source_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: str  # pending | active | denied | failed
    lease_seconds: int | None
    requested_at: datetime
    verified_at: datetime | None
    expires_at: datetime | None
    last_push_at: datetime | None
    pushes: int
    failures: int
    last_error: str

    def active(self, now: datetime) -> bool:
        return self.state == "active" and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class Push:
    id: int
    body: bytes
    content_type: str
    received_at: datetime


def _subscription(row: object) -> WebSubscription:
    return WebSubscription(**{name: getattr(row, name) for name in WebSubscription.__slots__})


class WebSubStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, source_id: int) -> WebSubscription | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(websub).where(websub.c.source_id == source_id)).first()
        return _subscription(row) if row is not None else None

    def all(self) -> list[WebSubscription]:
        with self.engine.connect() as conn:
            return [_subscription(row) for row in conn.execute(select(websub).order_by(websub.c.source_id))]

    def requested(
        self, source_id: int, hub: str, topic: str, token: str, secret: str, lease_seconds: int, now: datetime
    ) -> None:
        """A subscription was asked of `hub` (pending until the hub verifies it); it replaces any earlier one
        (whose token then calls back in vain), keeping the counts. NotFoundError when the source is gone."""
        values = {"hub": hub, "topic": topic, "token": token, "secret": secret, "state": "pending",
                  "lease_seconds": lease_seconds, "requested_at": now}  # fmt: skip
        row = dialect_insert(self.engine, websub)
        upsert = row.values(source_id=source_id, **values).on_conflict_do_update(
            index_elements=[websub.c.source_id], set_=values
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(upsert)
        except IntegrityError as exc:
            raise NotFoundError(f"there is no source {source_id}: it may have been removed") from exc

    def verified(
        self, source_id: int, token: str, topic: str, lease_seconds: int | None, now: datetime
    ) -> bool:
        """The hub confirmed the subscription named by `token` for `topic`: active until the lease ends. False
        (nothing changes) for a token or topic that is not the pending or active one."""
        expires = now + timedelta(seconds=lease_seconds) if lease_seconds else None
        change = (
            update(websub)
            .where(
                websub.c.source_id == source_id,
                websub.c.token == token,
                websub.c.topic == topic,
                websub.c.state.in_(("pending", "active")),
            )
            .values(
                state="active",
                verified_at=now,
                expires_at=expires,
                lease_seconds=lease_seconds,
                failures=0,
                last_error="",
            )
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(change).rowcount == 1)

    def denied(self, source_id: int, token: str, reason: str) -> bool:
        """The hub refused the subscription named by `token` (hub.mode=denied)."""
        change = (
            update(websub)
            .where(websub.c.source_id == source_id, websub.c.token == token)
            .values(
                state="denied",
                last_error=f"the hub denied the subscription: {reason or 'no reason given'}",
                failures=websub.c.failures + 1,
            )
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(change).rowcount == 1)

    def failed(self, source_id: int, error: str, now: datetime) -> None:
        """Asking the hub came to nothing (it refused, or never answered, or never verified): polling goes on
        as before; the next poll may ask again, later each time (`failures`)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(websub)
                .where(websub.c.source_id == source_id)
                .values(state="failed", last_error=error, failures=websub.c.failures + 1, requested_at=now)
            )

    def add_push(self, source_id: int, token: str, body: bytes, content_type: str, now: datetime) -> bool:
        """Keep what the hub pushed for the subscription `token` names (the caller checked its signature);
        False when the token is not that source's current subscription. At most MAX_WAITING_PUSHES wait."""
        with self.engine.begin() as conn:
            current = conn.execute(
                select(websub.c.source_id).where(
                    websub.c.source_id == source_id,
                    websub.c.token == token,
                    websub.c.state.in_(("active", "pending")),
                )
            ).first()
            if current is None:
                return False
            conn.execute(insert(websub_pushes).values(source_id=source_id, body=body, content_type=content_type,
                                                      received_at=now))  # fmt: skip
            conn.execute(update(websub).where(websub.c.source_id == source_id)
                         .values(last_push_at=now, pushes=websub.c.pushes + 1))  # fmt: skip
            keep = (
                select(websub_pushes.c.id).where(websub_pushes.c.source_id == source_id)
                .order_by(websub_pushes.c.id.desc()).limit(MAX_WAITING_PUSHES)
            )  # fmt: skip
            conn.execute(delete(websub_pushes).where(websub_pushes.c.source_id == source_id,
                                                     websub_pushes.c.id.not_in(keep.scalar_subquery())))  # fmt: skip
        return True

    def take_pushes(self, source_id: int) -> list[Push]:
        """The source's waiting pushes, oldest first, removed as they are handed over (a crash after this
        loses them; the next poll reads the feed itself, so nothing it still lists is lost)."""
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(websub_pushes)
                .where(websub_pushes.c.source_id == source_id)
                .order_by(websub_pushes.c.id)
            ).all()
            if rows:
                conn.execute(delete(websub_pushes).where(websub_pushes.c.id.in_([r.id for r in rows])))
        return [Push(r.id, bytes(r.body), r.content_type, r.received_at) for r in rows]

    def waiting(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(websub_pushes)).scalar_one())
