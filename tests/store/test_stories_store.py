"""StoryStore on a real SQLite file: recording decisions, merges, related stories, top stories, resetting."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from storefill import T0, Add

from broadsheet.errors import NotFoundError
from broadsheet.models import StoryEvent
from broadsheet.store import Store
from broadsheet.store.stories import StoryUpdate, hotness


def _update(sid: int, headline: int, hours: float, count: int, outlets: int, **more: object) -> StoryUpdate:
    return StoryUpdate(id=sid, headline_id=headline, first_seen=T0, last_seen=T0 + timedelta(hours=hours),
                       article_count=count, outlet_count=outlets, **more)  # type: ignore[arg-type]  # fmt: skip


def test_recorded_stories_read_back_with_members_outlets_and_headline(store: Store, add: Add) -> None:
    a = add(
        "Harbour bridge shut by storm",
        "Storm damage closes the harbour bridge. " * 10,
        outlet="Alder",
        hours=1,
    )
    b = add(
        "Storm closes the bridge",
        "The harbour bridge is closed after the storm. " * 10,
        outlet="Quill",
        hours=2,
    )
    store.stories.record([_update(1, b, 2, 2, 2, centroid=np.ones(4) / 2)], [(a, 1), (b, 1)])
    story = store.stories.get(1, T0 + timedelta(hours=2))
    assert story.title == "Storm closes the bridge" and story.headline_id == b
    assert story.outlets == ("Alder", "Quill")  # first reporter first
    assert [c.id for c in store.stories.members(1)] == [a, b]
    assert store.articles.get(a).story_id == 1
    assert store.stories.pending(10) == []
    with pytest.raises(NotFoundError):
        store.stories.get(2, T0)


def test_a_merge_moves_every_member_and_is_logged(store: Store, add: Add) -> None:
    a = add("Ferry strike called", "Ferry crews vote to strike over pay. " * 10, outlet="Alder", hours=1)
    b = add(
        "Ferries stop as strike begins",
        "No ferries sail as the strike begins. " * 10,
        outlet="Quill",
        hours=30,
    )
    store.stories.record([_update(1, a, 1, 1, 1), _update(2, b, 30, 1, 1)], [(a, 1), (b, 2)])
    merge = StoryEvent(T0 + timedelta(hours=30), "merge", 2, 1, 0.71, "same named things: Marrowby")
    store.stories.record(
        [_update(1, a, 30, 2, 2), _update(2, b, 30, 0, 0, status="merged", merged_into=1)], [], [merge]
    )
    assert [c.id for c in store.stories.members(1)] == [a, b]
    assert store.stories.members(2) == []
    assert store.stories.events(1) == [merge]
    merged = store.stories.get(2, T0)
    assert merged.status == "merged" and merged.merged_into == 1
    assert [s.id for s in store.stories.top(T0 + timedelta(hours=31), limit=10)] == [1]  # never a merged one


def test_related_stories_follow_the_stored_order_and_merges(store: Store, add: Add) -> None:
    ids = [add(f"Story number {i} about {w}", f"Words about {w}. " * 20, outlet=f"O{i}", hours=i)
           for i, w in enumerate(["tides", "trams", "tunnels", "towers"])]  # fmt: skip
    store.stories.record(
        [
            _update(1, ids[0], 1, 1, 1, related=(3, 2, 4)),
            _update(2, ids[1], 2, 1, 1),
            _update(3, ids[2], 3, 1, 1, status="merged", merged_into=4),
            _update(4, ids[3], 4, 1, 1),
        ],
        [(ids[0], 1), (ids[1], 2), (ids[2], 4), (ids[3], 4)],
    )
    # 3 was merged into 4: shown once, as 4, in 3's place.
    assert [s.id for s in store.stories.related(1, T0)] == [4, 2]
    assert store.stories.related(2, T0) == []


def test_top_stories_rank_breadth_by_recency(store: Store, add: Add) -> None:
    ids = [add(f"Event {w}", f"Text about {w}. " * 20, outlet="O", hours=1) for w in ["a", "b", "c"]]
    now = T0 + timedelta(hours=40)
    store.stories.record(
        [
            _update(1, ids[0], 39, 5, 5),  # broad and recent
            _update(2, ids[1], 10, 9, 9),  # broader, but 30 hours quiet
            _update(3, ids[2], 39.5, 1, 1),  # recent, one outlet
        ],
        [(ids[0], 1), (ids[1], 2), (ids[2], 3)],
    )
    top = store.stories.top(now, limit=10)
    assert [s.id for s in top] == [1, 2, 3]
    assert top[0].hotness == pytest.approx(hotness(5, 5, T0 + timedelta(hours=39), now))
    assert [s.id for s in store.stories.top(now, limit=10, window=timedelta(hours=2))] == [1, 3]


def test_reset_dissolves_recent_stories_and_their_merges(store: Store, add: Add) -> None:
    a = add("Old story", "Old words about orchards. " * 20, outlet="A", hours=1)
    b = add("New story", "New words about harbours. " * 20, outlet="B", hours=100)
    c = add("Merged into new", "More words about harbours. " * 20, outlet="C", hours=100)
    store.stories.record(
        [
            _update(1, a, 1, 1, 1),
            _update(2, b, 100, 2, 2),
            _update(3, c, 100, 0, 0, status="merged", merged_into=2),
        ],
        [(a, 1), (b, 2), (c, 2)],
        [StoryEvent(T0, "merge", 3, 2, 0.8, "")],
    )
    left = store.stories.reset(T0 + timedelta(hours=50))
    assert left == 2
    assert {p.id for p in store.stories.pending(10)} == {b, c}
    assert store.stories.get(1, T0).article_count == 1
    with pytest.raises(NotFoundError):
        store.stories.get(3, T0)
    assert store.stories.reset(None) == 3 and store.stories.max_id() == 0


def test_vectors_are_stored_per_model_as_float16(store: Store, add: Add) -> None:
    a = add("Vector story", "Words. " * 30, outlet="A", hours=1)
    v = np.linspace(-1, 1, 384).astype(np.float32)
    store.stories.save_vectors("model-x", [(a, v)])
    assert store.stories.vectors([a], "model-y") == {}
    got = store.stories.vectors([a], "model-x")[a]
    assert got.dtype == np.float32 and np.allclose(got, v, atol=1e-3)


def test_a_big_storys_members_can_be_read_as_its_first_reports_and_its_newest(store: Store, add: Add) -> None:
    ids = [
        add(f"Kestrel Point ferry {i}", f"Ferry update number {i} from Kestrel Point harbour. " * 5, hours=i)
        for i in range(10)
    ]
    store.stories.record([_update(1, ids[0], 9, 10, 1, centroid=np.ones(4) / 2)], [(i, 1) for i in ids])
    assert [c.id for c in store.stories.members(1)] == ids
    assert [c.id for c in store.stories.members(1, 5, earliest=2)] == ids[:2] + ids[-3:]
    assert [c.id for c in store.stories.members(1, 3)] == ids[-3:]
    assert [c.id for c in store.stories.members(1, 20, earliest=2)] == ids  # fewer than the limit: all, once
