"""WebSub's tables on SQLite and PostgreSQL: one subscription per source whose token names the current request,
verification and denial only for that token, pushes kept (at most MAX_WAITING_PUSHES) until taken once, and
all of it going with its source."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broadsheet.errors import NotFoundError
from broadsheet.models import SourceKind
from broadsheet.store import MAX_WAITING_PUSHES, Store

T = datetime(2026, 12, 2, 9, tzinfo=UTC)
HUB, TOPIC = "https://hub.example/", "https://news.example/feed"


def _source(store: Store) -> int:
    return store.sources.add(TOPIC, SourceKind.FEED, now=T, interval_seconds=900).id


def test_a_subscription_is_verified_for_its_own_token_and_topic_only(store: Store) -> None:
    source = _source(store)
    store.websub.requested(source, HUB, TOPIC, "t1", "s1", 3600, T)
    assert not store.websub.verified(source, "t0", TOPIC, 3600, T)  # another request's token
    assert not store.websub.verified(source, "t1", "https://elsewhere.example/", 3600, T)
    assert store.websub.verified(source, "t1", TOPIC, 3600, T)
    found = store.websub.get(source)
    assert found is not None and found.state == "active" and found.expires_at == T + timedelta(hours=1)
    assert found.active(T + timedelta(minutes=59)) and not found.active(T + timedelta(hours=2))
    # A new request replaces it: the old token is worth nothing now, the counts stay.
    store.websub.failed(source, "timeout", T)
    store.websub.requested(source, HUB, TOPIC, "t2", "s2", 3600, T)
    assert not store.websub.verified(source, "t1", TOPIC, 3600, T)
    assert not store.websub.denied(source, "t1", "no")
    assert store.websub.denied(source, "t2", "topic not allowed")
    denied = store.websub.get(source)
    assert denied is not None and denied.state == "denied" and denied.failures == 2
    assert "topic not allowed" in denied.last_error
    with pytest.raises(NotFoundError):
        store.websub.requested(999, HUB, TOPIC, "t", "s", 60, T)


def test_pushes_wait_for_the_crawler_at_most_so_many_and_go_with_their_source(store: Store) -> None:
    source = _source(store)
    assert not store.websub.add_push(source, "t1", b"<feed/>", "application/atom+xml", T)  # no subscription
    store.websub.requested(source, HUB, TOPIC, "t1", "s1", 3600, T)
    store.websub.verified(source, "t1", TOPIC, 3600, T)
    for n in range(MAX_WAITING_PUSHES + 3):
        assert store.websub.add_push(source, "t1", f"<feed n='{n}'/>".encode(), "application/atom+xml", T)
    assert not store.websub.add_push(source, "old", b"<feed/>", "", T)
    taken = store.websub.take_pushes(source)
    assert [p.body for p in taken] == [f"<feed n='{n}'/>".encode() for n in range(3, MAX_WAITING_PUSHES + 3)]
    assert store.websub.take_pushes(source) == [] and store.websub.waiting() == 0
    found = store.websub.get(source)
    assert found is not None and found.pushes == MAX_WAITING_PUSHES + 3 and found.last_push_at == T
    store.websub.add_push(source, "t1", b"<feed/>", "", T)
    store.sources.remove(source)
    assert store.websub.get(source) is None and store.websub.waiting() == 0
