"""SQL for readers' accounts: users, the lockout count, signed-in sessions, API tokens, app passwords and links.

Owns the `users`, `user_sessions` and `user_tokens` tables. Stores hashes only: making tokens, hashing and
checking passwords, and deciding who may do what belong to `readers/`. Every time is passed in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from broadsheet.errors import AccountError
from broadsheet.readers.names import name_key
from broadsheet.store.schema import comment_revisions, comments, user_sessions, user_tokens, users

log = logging.getLogger(__name__)
__all__ = ["TOKEN_TOUCH_EVERY", "AccountStore", "TokenInfo", "User"]

_replies = comments.alias("replies")

# An API token or app password notes its last use at most this often: a client polling every few seconds
# would otherwise write to the database on each request.
TOKEN_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str  # as the reader typed it
    display_name: str  # '' = show `name`
    role: str  # reader | moderator | admin
    created_at: datetime
    banned_at: datetime | None
    ban_reason: str
    password_hash: str  # kept here for sign-in to verify; '' = no password (sign in by link only)
    failed_logins: int
    locked_until: datetime | None
    library_at: datetime | None = None  # when the reader-app subscriptions were set up (`LibraryStore`)
    email: str = ""  # for sign-in links, when the site sends mail; '' = none


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as its owner's settings page lists it (never the token itself: only its hash is stored)."""

    id: int
    kind: str  # api | app | link
    label: str
    created_at: datetime
    expires_at: datetime | None
    used_at: datetime | None


_USER_COLUMNS = (
    users.c.id,
    users.c.name,
    users.c.display_name,
    users.c.role,
    users.c.created_at,
    users.c.banned_at,
    users.c.ban_reason,
    users.c.password_hash,
    users.c.failed_logins,
    users.c.locked_until,
    users.c.library_at,
    users.c.email,
)
_USERS = select(*_USER_COLUMNS)


def _user(row: Any) -> User:
    return User(
        id=row.id, name=row.name, display_name=row.display_name, role=row.role, created_at=row.created_at,
        banned_at=row.banned_at, ban_reason=row.ban_reason, password_hash=row.password_hash,
        failed_logins=row.failed_logins, locked_until=row.locked_until, library_at=row.library_at,
        email=row.email,
    )  # fmt: skip


def _usable(now: datetime) -> Any:
    """A token that has not expired (API tokens and app passwords never do)."""
    return or_(user_tokens.c.expires_at.is_(None), user_tokens.c.expires_at > now)


class AccountStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- users ---------------------------------------------------------------------------------------------

    def add_user(
        self, name: str, password_hash: str, role: str, now: datetime, display_name: str = ""
    ) -> User:
        """A new account. AccountError when the name is taken, whatever its case: sign-in ignores case."""
        values = {
            "name": name, "name_key": name_key(name), "display_name": display_name,
            "password_hash": password_hash, "role": role, "created_at": now,
        }  # fmt: skip
        try:
            with self.engine.begin() as conn:
                user_id = conn.execute(insert(users).values(**values)).inserted_primary_key[0]  # type: ignore[index]
                return _user(conn.execute(_USERS.where(users.c.id == user_id)).one())
        except IntegrityError as exc:  # the one unique column: name_key
            raise AccountError(f"the name {name!r} is taken: choose another") from exc

    def user_by_name(self, name: str) -> User | None:
        """The account called `name`, in any case."""
        return self._one(_USERS.where(users.c.name_key == name_key(name)))

    def user(self, user_id: int) -> User | None:
        return self._one(_USERS.where(users.c.id == user_id))

    def users(self) -> list[User]:
        """Every account, by name."""
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(_USERS.order_by(users.c.name_key))]

    def count_users(self, role: str | None = None) -> int:
        """How many accounts there are (with `role`, how many have it)."""
        query = select(func.count()).select_from(users)
        if role is not None:
            query = query.where(users.c.role == role)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def remove_user(self, name: str, now: datetime) -> bool:
        """Delete the account called `name` with its sessions, tokens, votes, reports and what it wrote; False
        if none. A comment of theirs that others replied to stays in its thread as "[deleted]", emptied and
        without an author (its earlier versions go too), so that the replies keep their place."""
        with self.engine.begin() as conn:
            user_id = conn.execute(select(users.c.id).where(users.c.name_key == name_key(name))).scalar()
            if user_id is None:
                return False
            theirs = select(comments.c.id).where(comments.c.user_id == user_id).scalar_subquery()
            conn.execute(delete(comment_revisions).where(comment_revisions.c.comment_id.in_(theirs)))
            answered = exists().where(_replies.c.parent_id == comments.c.id)
            conn.execute(
                update(comments)
                .where(comments.c.user_id == user_id, answered)
                .values(body="", html="", deleted_at=func.coalesce(comments.c.deleted_at, now))
            )
            conn.execute(delete(comments).where(comments.c.user_id == user_id, ~answered))
            return conn.execute(delete(users).where(users.c.id == user_id)).rowcount == 1

    def set_password(self, user_id: int, password_hash: str) -> None:
        """A new password hash; every session of the account ends, so a stolen cookie stops working with the
        old password. API tokens and app passwords stay: the reader revokes those one by one. The lockout count
        is left as it is: it guards the new password as it did the old."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))
            conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))

    def rehash(self, user_id: int, password_hash: str) -> None:
        """The same password's hash made again with today's parameters: nothing else changes (sessions stay)."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))

    def set_role(self, user_id: int, role: str) -> None:
        self._set(user_id, role=role)

    def set_display_name(self, user_id: int, display_name: str) -> None:
        self._set(user_id, display_name=display_name)

    def set_email(self, user_id: int, email: str) -> None:
        """'' removes it. Kept casefolded; not unique (two accounts of one person may share it)."""
        self._set(user_id, email=email.strip().casefold())

    def users_by_email(self, email: str) -> list[User]:
        """The accounts with this address (case ignored); [] for ''."""
        wanted = email.strip().casefold()
        if not wanted:
            return []
        with self.engine.connect() as conn:
            return [_user(row) for row in conn.execute(_USERS.where(users.c.email == wanted))]

    def ban(self, user_id: int, reason: str, now: datetime) -> None:
        """Ban the account and end its sessions. Its API tokens and app passwords are kept, and refused by the
        web layer while `banned_at` is set, so that an unban gives them back."""
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(banned_at=now, ban_reason=reason))
            conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id))

    def unban(self, user_id: int) -> None:
        self._set(user_id, banned_at=None, ban_reason="")

    # --- the lockout ---------------------------------------------------------------------------------------

    def record_failure(
        self, user_id: int, now: datetime, max_failures: int, lock_for: timedelta
    ) -> datetime | None:
        """Count a wrong password. The `max_failures`-th in a row locks the account until now + lock_for and
        starts the count again; returns that time when this failure locked it, else None. One UPDATE, so that
        failures counted at once by several processes each count."""
        reached = users.c.failed_logins + 1 >= max_failures
        until = now + lock_for
        count = (
            update(users)
            .where(users.c.id == user_id)
            .values(
                failed_logins=case((reached, 0), else_=users.c.failed_logins + 1),
                locked_until=case((reached, until), else_=users.c.locked_until),
            )
            .returning(users.c.failed_logins)
        )
        with self.engine.begin() as conn:
            left = conn.execute(count).scalar_one_or_none()
        return until if left == 0 else None

    def record_success(self, user_id: int) -> None:
        """A right password: the count starts again and any lock is lifted."""
        self._set(user_id, failed_logins=0, locked_until=None)

    # --- sessions ------------------------------------------------------------------------------------------

    def open_session(self, user_id: int, token_hash: str, now: datetime, lifetime: timedelta) -> None:
        """A session for the cookie whose token hashes to `token_hash`, valid for `lifetime` from now."""
        values = {"id": token_hash, "user_id": user_id, "created_at": now, "seen_at": now,
                  "expires_at": now + lifetime}  # fmt: skip
        with self.engine.begin() as conn:
            conn.execute(insert(user_sessions).values(**values))

    def session_user(self, token_hash: str, now: datetime, touch_after: timedelta) -> User | None:
        """Who the session belongs to; None when there is no such session or it has expired. Expiry is fixed
        when the session opens (no sliding): a reader signs in again after `lifetime`. `seen_at` is moved to
        now when older than `touch_after`, so that reading pages does not write on every request. A banned
        account has no sessions (the ban ended them); the caller checks `banned_at` for one opened since."""
        query = (
            select(*_USER_COLUMNS, user_sessions.c.seen_at)
            .select_from(user_sessions.join(users, users.c.id == user_sessions.c.user_id))
            .where(user_sessions.c.id == token_hash, user_sessions.c.expires_at > now)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        if row.seen_at <= now - touch_after:
            touch = update(user_sessions).where(
                user_sessions.c.id == token_hash, user_sessions.c.seen_at <= now - touch_after
            )
            try:
                with self.engine.begin() as conn:
                    conn.execute(touch.values(seen_at=now))
            except OperationalError as exc:  # another writer held the database: the reader is who they are
                log.info("a session's last-seen time was not written (%s); the next request tries again", exc)
        return _user(row)

    def close_session(self, token_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(user_sessions).where(user_sessions.c.id == token_hash))

    def close_sessions(self, user_id: int) -> int:
        """End every session of the account (sign out everywhere); returns how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(delete(user_sessions).where(user_sessions.c.user_id == user_id)).rowcount

    def sweep(self, now: datetime) -> int:
        """Delete expired sessions, and links expired or spent (they can never be used again); returns how
        many rows went."""
        spent = (user_tokens.c.kind == "link") & user_tokens.c.used_at.is_not(None)
        with self.engine.begin() as conn:
            sessions = conn.execute(delete(user_sessions).where(user_sessions.c.expires_at <= now)).rowcount
            tokens = conn.execute(
                delete(user_tokens).where((user_tokens.c.expires_at <= now) | spent)
            ).rowcount
        return sessions + tokens

    # --- tokens: API tokens, app passwords, one-time links --------------------------------------------------

    def add_token(
        self,
        user_id: int,
        kind: str,
        token_hash: str,
        label: str,
        now: datetime,
        expires_at: datetime | None = None,
        fever_hash: str | None = None,
    ) -> int:
        """Store the hash of a new token of `kind` (api | app | link); returns its id. An app password may
        come with the hash of its Fever key (`fever_user` looks it up)."""
        values = {"user_id": user_id, "kind": kind, "token_hash": token_hash, "label": label,
                  "created_at": now, "expires_at": expires_at, "fever_hash": fever_hash}  # fmt: skip
        with self.engine.begin() as conn:
            return int(conn.execute(insert(user_tokens).values(**values)).inserted_primary_key[0])  # type: ignore[index]

    def token_user(self, token_hash: str, kind: str | tuple[str, ...], now: datetime) -> User | None:
        """Whose token of `kind` (or one of the kinds) this is; None when there is none, it has expired, or it
        is a link already spent. Looking at a link does not spend it (`spend_link` does). An API token or app
        password notes its use, to the TOKEN_TOUCH_EVERY."""
        kinds = (kind,) if isinstance(kind, str) else kind
        return self._token_user(user_tokens.c.token_hash == token_hash, kinds, now)

    def fever_user(self, fever_hash: str, now: datetime) -> User | None:
        """Whose app password has this Fever key hash; None when none has."""
        return self._token_user(user_tokens.c.fever_hash == fever_hash, ("app",), now)

    def _token_user(self, found: Any, kinds: tuple[str, ...], now: datetime) -> User | None:
        query = (
            select(
                *_USER_COLUMNS, user_tokens.c.id.label("token_id"), user_tokens.c.kind, user_tokens.c.used_at
            )
            .select_from(user_tokens.join(users, users.c.id == user_tokens.c.user_id))
            .where(found, user_tokens.c.kind.in_(kinds), _usable(now))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or (row.kind == "link" and row.used_at is not None):
            return None
        stale = now - TOKEN_TOUCH_EVERY
        if row.kind != "link" and (row.used_at is None or row.used_at <= stale):
            touch = update(user_tokens).where(
                user_tokens.c.id == row.token_id,
                or_(user_tokens.c.used_at.is_(None), user_tokens.c.used_at <= stale),
            )
            with self.engine.begin() as conn:
                conn.execute(touch.values(used_at=now))
        return _user(row)

    def spend_link(self, token_hash: str, now: datetime) -> User | None:
        """Spend an unspent, unexpired link and return its account; None otherwise. One UPDATE guarded by
        `used_at IS NULL`: of requests racing with one link, exactly one gets the account."""
        spend = (
            update(user_tokens)
            .where(
                user_tokens.c.token_hash == token_hash,
                user_tokens.c.kind == "link",
                user_tokens.c.used_at.is_(None),
                _usable(now),
            )
            .values(used_at=now)
            .returning(user_tokens.c.user_id)
        )
        with self.engine.begin() as conn:
            user_id = conn.execute(spend).scalar_one_or_none()
            if user_id is None:
                return None
            return _user(conn.execute(_USERS.where(users.c.id == user_id)).one())

    def tokens(self, user_id: int, kind: str) -> list[TokenInfo]:
        """The account's tokens of `kind`, newest first."""
        query = (
            select(user_tokens)
            .where(user_tokens.c.user_id == user_id, user_tokens.c.kind == kind)
            .order_by(user_tokens.c.created_at.desc(), user_tokens.c.id.desc())
        )
        with self.engine.connect() as conn:
            return [
                TokenInfo(row.id, row.kind, row.label, row.created_at, row.expires_at, row.used_at)
                for row in conn.execute(query)
            ]

    def revoke_token(self, user_id: int, token_id: int) -> bool:
        """Delete the token, if it is this account's; False if it is not (or is gone already)."""
        revoke = delete(user_tokens).where(user_tokens.c.id == token_id, user_tokens.c.user_id == user_id)
        with self.engine.begin() as conn:
            return conn.execute(revoke).rowcount == 1

    # --- helpers -------------------------------------------------------------------------------------------

    def _one(self, query: Any) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _user(row)

    def _set(self, user_id: int, **values: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))
