"""Readers' accounts on SQLite and PostgreSQL: names unique whatever their case, the lockout counted across
processes, sessions that expire, tokens and one-time links spent exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from broadsheet.errors import AccountError
from broadsheet.readers.tokens import new_token, token_hash
from broadsheet.store import Store, User
from broadsheet.store.accounts import TOKEN_TOUCH_EVERY
from broadsheet.store.schema import user_sessions, user_tokens

T = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def other(database_url: str, store: Store) -> Iterator[Store]:
    """A second Store on the same database: what another server process sees."""
    second = Store.open(database_url)
    yield second
    second.close()


def _ada(store: Store) -> User:
    return store.accounts.add_user("Ada_L", "hash-1", "reader", T, display_name="Ada Lovelace")


def _race(workers: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in `workers` threads released at the same moment; their results in order."""
    barrier = threading.Barrier(workers)
    results: list[object] = [None] * workers

    def run(i: int) -> None:
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_a_name_is_taken_whatever_its_case_and_found_in_any_case(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    assert (ada.name, ada.display_name, ada.role, ada.created_at) == ("Ada_L", "Ada Lovelace", "reader", T)
    assert (ada.failed_logins, ada.locked_until, ada.banned_at, ada.password_hash) == (
        0,
        None,
        None,
        "hash-1",
    )
    with pytest.raises(AccountError, match="the name 'ada_l' is taken: choose another"):
        accounts.add_user("ada_l", "hash-2", "reader", T)
    assert accounts.user_by_name("ADA_L") == ada and accounts.user(ada.id) == ada
    assert accounts.user_by_name("grace") is None and accounts.user(ada.id + 1) is None
    accounts.add_user("bob", "", "admin", T)
    assert [u.name for u in accounts.users()] == ["Ada_L", "bob"] and accounts.count_users() == 2


def test_roles_display_names_and_bans_change_and_a_ban_ends_the_sessions(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    accounts.set_role(ada.id, "moderator")
    accounts.set_display_name(ada.id, "A. L.")
    accounts.open_session(ada.id, "s" * 64, T, DAY)
    accounts.ban(ada.id, "spam", T + MINUTE)
    banned = accounts.user(ada.id)
    assert banned is not None and (banned.role, banned.display_name) == ("moderator", "A. L.")
    assert (banned.banned_at, banned.ban_reason) == (T + MINUTE, "spam")
    assert accounts.session_user("s" * 64, T + 2 * MINUTE, MINUTE) is None
    accounts.unban(ada.id)
    unbanned = accounts.user(ada.id)
    assert unbanned is not None and (unbanned.banned_at, unbanned.ban_reason) == (None, "")


def test_failures_counted_by_two_processes_lock_the_account_at_the_limit(store: Store, other: Store) -> None:
    ada = _ada(store)
    lock = timedelta(minutes=15)
    for i, accounts in enumerate([store.accounts, other.accounts] * 2):
        assert accounts.record_failure(ada.id, T + i * MINUTE, 5, lock) is None
    assert store.accounts.user_by_name("ada_l").failed_logins == 4  # type: ignore[union-attr]
    assert other.accounts.record_failure(ada.id, T + 5 * MINUTE, 5, lock) == T + 5 * MINUTE + lock
    locked = store.accounts.user(ada.id)
    assert locked is not None and (locked.failed_logins, locked.locked_until) == (0, T + 5 * MINUTE + lock)
    # The count starts again after the lock; a right password clears both.
    assert store.accounts.record_failure(ada.id, T + 30 * MINUTE, 5, lock) is None
    store.accounts.record_success(ada.id)
    cleared = other.accounts.user(ada.id)
    assert cleared is not None and (cleared.failed_logins, cleared.locked_until) == (0, None)


def test_failures_at_the_same_moment_from_two_processes_each_count(store: Store, other: Store) -> None:
    ada = _ada(store)

    def fail(i: int) -> object:
        accounts = (store, other)[i % 2].accounts
        return [accounts.record_failure(ada.id, T, 1000, MINUTE) for _ in range(10)]

    _race(8, fail)
    assert store.accounts.user(ada.id).failed_logins == 80  # type: ignore[union-attr]


def test_a_session_lasts_its_lifetime_and_is_seen_at_most_once_a_minute(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    session = token_hash(new_token("bs_"))
    accounts.open_session(ada.id, session, T, DAY)

    def seen() -> datetime:
        with store.engine.connect() as conn:
            return conn.execute(select(user_sessions.c.seen_at)).scalar_one()  # type: ignore[no-any-return]

    assert accounts.session_user(session, T + 30 * timedelta(seconds=1), MINUTE) == ada
    assert seen() == T  # touched less than a minute ago: not written
    assert accounts.session_user(session, T + 2 * MINUTE, MINUTE) == ada
    assert seen() == T + 2 * MINUTE
    assert accounts.session_user(session, T + DAY - MINUTE, MINUTE) == ada  # fixed expiry: no sliding
    assert accounts.session_user(session, T + DAY, MINUTE) is None
    assert accounts.session_user(token_hash("never-issued"), T, MINUTE) is None


def test_sessions_close_one_by_one_all_at_once_and_with_a_new_password(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    for name in "abc":
        accounts.open_session(ada.id, name * 64, T, DAY)
    accounts.close_session("a" * 64)
    assert accounts.session_user("a" * 64, T, MINUTE) is None
    assert accounts.close_sessions(ada.id) == 2
    accounts.open_session(ada.id, "d" * 64, T, DAY)
    accounts.set_password(ada.id, "hash-2")
    assert accounts.session_user("d" * 64, T, MINUTE) is None
    assert accounts.user(ada.id).password_hash == "hash-2"  # type: ignore[union-attr]


def test_a_link_raced_by_many_requests_is_spent_exactly_once(store: Store, other: Store) -> None:
    ada = _ada(store)
    link = token_hash(new_token("bs_"))
    store.accounts.add_token(ada.id, "link", link, "reset", T, expires_at=T + timedelta(hours=1))
    assert store.accounts.token_user(link, "link", T) == ada  # looking at it does not spend it
    winners = _race(8, lambda i: (store, other)[i % 2].accounts.spend_link(link, T + MINUTE))
    assert winners.count(ada) == 1 and winners.count(None) == 7
    assert store.accounts.token_user(link, "link", T + MINUTE) is None
    assert store.accounts.spend_link(link, T + MINUTE) is None


def test_an_expired_link_is_refused_and_swept_with_spent_links_and_old_sessions(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    hour = timedelta(hours=1)
    accounts.add_token(ada.id, "link", "expired".ljust(64, "0"), "reset", T, expires_at=T + hour)
    accounts.add_token(ada.id, "link", "spent".ljust(64, "0"), "reset", T, expires_at=T + 3 * hour)
    accounts.add_token(ada.id, "link", "fresh".ljust(64, "0"), "reset", T, expires_at=T + 3 * hour)
    accounts.add_token(ada.id, "api", "api".ljust(64, "0"), "newsboat", T)
    assert accounts.spend_link("expired".ljust(64, "0"), T + hour) is None
    assert accounts.spend_link("spent".ljust(64, "0"), T) == ada
    accounts.open_session(ada.id, "old".ljust(64, "0"), T, hour)
    accounts.open_session(ada.id, "new".ljust(64, "0"), T, DAY)
    assert accounts.sweep(T + 2 * hour) == 3  # the old session, the expired link, the spent one
    assert [t.label for t in accounts.tokens(ada.id, "link")] == ["reset"]
    assert accounts.spend_link("fresh".ljust(64, "0"), T + 2 * hour) == ada
    assert accounts.token_user("api".ljust(64, "0"), "api", T + 2 * hour) == ada


def test_api_tokens_name_their_owner_note_their_use_and_are_revoked_by_them_only(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    bob = accounts.add_user("bob", "", "reader", T)
    api, app = token_hash("bs_api"), token_hash("bs_app")
    api_id = accounts.add_token(ada.id, "api", api, "newsboat on my laptop", T)
    accounts.add_token(ada.id, "app", app, "phone", T + MINUTE)
    assert accounts.token_user(api, "api", T + MINUTE) == ada
    assert accounts.token_user(api, "app", T) is None  # not the kind asked for
    assert accounts.token_user(app, ("api", "app"), T + MINUTE) == ada
    assert accounts.token_user(api, ("api", "app"), T + MINUTE + TOKEN_TOUCH_EVERY / 2) == ada

    def used() -> datetime | None:
        with store.engine.connect() as conn:
            query = select(user_tokens.c.used_at).where(user_tokens.c.token_hash == api)
            return conn.execute(query).scalar_one()  # type: ignore[no-any-return]

    assert used() == T + MINUTE  # the second use, half a minute later, was not written
    [info] = accounts.tokens(ada.id, "api")
    assert (info.id, info.kind, info.label, info.created_at, info.used_at) == (
        api_id, "api", "newsboat on my laptop", T, T + MINUTE
    )  # fmt: skip
    assert not accounts.revoke_token(bob.id, api_id)
    assert accounts.revoke_token(ada.id, api_id) and not accounts.revoke_token(ada.id, api_id)
    assert accounts.token_user(api, "api", T) is None


def test_removing_a_user_takes_their_sessions_and_tokens(store: Store) -> None:
    accounts = store.accounts
    ada = _ada(store)
    accounts.open_session(ada.id, "s" * 64, T, DAY)
    accounts.add_token(ada.id, "api", "t" * 64, "", T)
    assert accounts.remove_user("ADA_L", T) and not accounts.remove_user("ada_l", T)
    assert (
        accounts.session_user("s" * 64, T, MINUTE) is None and accounts.token_user("t" * 64, "api", T) is None
    )
    assert accounts.count_users() == 0
    assert accounts.add_user("ada_l", "", "reader", T).name == "ada_l"  # the name is free again
