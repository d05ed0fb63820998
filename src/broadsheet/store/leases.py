"""Leases in the database: work that one process at a time may do, whichever machine it runs on.

The stories step needs one: its clusterer keeps the open stories in memory and hands out story ids, so two
processes clustering at once (`broadsheet import` while `serve` crawls, or two crawl workers) would give two
stories one id. A lease is held until it expires and renewed while the work goes on; a holder that dies frees
it when its time runs out. Each step is one statement, atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, case, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from broadsheet.store.db import is_transient
from broadsheet.store.schema import leases

__all__ = ["Lease", "LeaseStore"]


@dataclass(frozen=True, slots=True)
class Lease:
    """The outcome of asking for a lease."""

    acquired: bool
    generation: int = 0  # when acquired: grows each time a different holder takes the lease
    holder: str = ""  # when refused: who holds it ...
    until: datetime | None = None  # ... and until when, unless they renew it


class LeaseStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> Lease:
        """Take (or renew) the lease `name` for `holder` until now + ttl, unless another holder has it."""
        expires = now + ttl
        changed_hands = case((leases.c.holder == holder, 0), else_=1)
        take = (
            update(leases)
            .where(leases.c.name == name, (leases.c.holder == holder) | (leases.c.expires_at <= now))
            .values(holder=holder, expires_at=expires, generation=leases.c.generation + changed_hands)
        )
        try:
            with self.engine.begin() as conn:
                if conn.execute(take).rowcount == 1:
                    generation = conn.execute(select(leases.c.generation).where(leases.c.name == name))
                    return Lease(True, int(generation.scalar_one()))
                row = conn.execute(select(leases).where(leases.c.name == name)).first()
                if row is not None:
                    return Lease(False, holder=row.holder, until=row.expires_at)
                conn.execute(
                    insert(leases).values(name=name, holder=holder, expires_at=expires, generation=1)
                )
                return Lease(True, 1)
        except (IntegrityError, OperationalError) as exc:
            # Another process took it in the same instant (it inserted first, or holds the write lock).
            if isinstance(exc, OperationalError) and not is_transient(exc):
                raise
            with self.engine.connect() as conn:
                row = conn.execute(select(leases).where(leases.c.name == name)).first()
            if row is None or row.holder == holder:  # nobody else has it: the database was too busy to say
                return Lease(False, holder="another process (the database was busy)")
            return Lease(False, holder=row.holder, until=row.expires_at)

    def hold(
        self, conn: Connection, name: str, holder: str, generation: int, ttl: timedelta, now: datetime
    ) -> bool:
        """Inside the transaction of `conn`: renew the lease if `holder` still has it, unchanged since
        `generation`. Writes guarded by this commit only while their writer holds the lease."""
        renew = (
            update(leases)
            .where(leases.c.name == name, leases.c.holder == holder, leases.c.generation == generation)
            .values(expires_at=now + ttl)
        )
        return conn.execute(renew).rowcount == 1

    def release(self, name: str, holder: str, now: datetime) -> None:
        """Give the lease up now (if `holder` still has it); its generation is kept."""
        with self.engine.begin() as conn:
            conn.execute(
                update(leases).where(leases.c.name == name, leases.c.holder == holder).values(expires_at=now)
            )
