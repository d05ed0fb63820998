"""The story clusterer on invented multi-outlet news, embedded by the real model."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest
from newsdesk import STORIES, T0, Embed, MakeItems, Report

from broadsheet.cluster import (
    ClusterConfig,
    ClusterItem,
    StoryClusterer,
    b_cubed,
    cluster_stream,
)

BY_KEY = {r.key: r for r in STORIES}


def reports(*keys: str) -> list[Report]:
    return [BY_KEY[k] for k in keys]


def same_day(chosen: list[Report]) -> list[Report]:
    """The reports a minute apart, in the given order: only their text can keep them apart."""
    return [replace(r, hours=1 + i / 60) for i, r in enumerate(chosen)]


def stories_of(items: list[ClusterItem], config: ClusterConfig | None = None) -> dict[str, int]:
    result = cluster_stream(items, config)
    return {STORIES[i].key: story for i, story in result.labels.items()}


def test_whole_newsdesk_stream_matches_the_true_stories(make_items: MakeItems) -> None:
    items = make_items(STORIES)
    result = cluster_stream(items)
    predicted = [result.labels[item.id] for item in items]
    assert b_cubed(predicted, [r.story for r in STORIES]).f1 == 1.0


def test_one_event_told_by_three_outlets_is_one_story(make_items: MakeItems) -> None:
    labels = stories_of(make_items(reports("veltmark-1", "holloway-1", "veltmark-2", "veltmark-3")))
    assert labels["veltmark-1"] == labels["veltmark-2"] == labels["veltmark-3"]
    assert labels["holloway-1"] != labels["veltmark-1"]


def test_two_earthquakes_in_different_places_and_days_stay_apart(make_items: MakeItems) -> None:
    labels = stories_of(make_items(reports("veltmark-1", "veltmark-2", "sorrin-1", "sorrin-2", "sorrin-3")))
    assert labels["veltmark-1"] == labels["veltmark-2"]
    assert labels["sorrin-1"] == labels["sorrin-2"] == labels["sorrin-3"]
    assert labels["sorrin-1"] != labels["veltmark-1"]


def test_two_earthquakes_on_the_same_day_are_told_apart_by_their_text(make_items: MakeItems) -> None:
    keys = ("veltmark-1", "sorrin-1", "veltmark-2", "sorrin-2", "veltmark-3", "sorrin-3")
    labels = stories_of(make_items(same_day(reports(*keys))))
    assert len({labels[k] for k in keys if k.startswith("veltmark")}) == 1
    assert len({labels[k] for k in keys if k.startswith("sorrin")}) == 1
    assert labels["veltmark-1"] != labels["sorrin-1"]


def test_headlines_alone_are_clustered_too(embed: Embed) -> None:
    keys = ("veltmark-1", "holloway-1", "veltmark-2", "orchard", "holloway-2", "veltmark-3", "holloway-3")
    headlines = [replace(r, key=f"{r.key}/headline", text=r.title) for r in same_day(reports(*keys))]
    vectors = embed(headlines)
    items = [
        ClusterItem(i, r.published, r.title, vectors[i], r.text, r.outlet) for i, r in enumerate(headlines)
    ]
    result = cluster_stream(items)
    labels = [result.labels[i] for i in range(len(items))]
    assert b_cubed(labels, [k.split("-")[0] for k in keys]).f1 == 1.0


def test_a_headline_alone_joins_only_a_story_with_news_in_the_last_hours(
    embed: Embed, make_items: MakeItems
) -> None:
    days = reports("holloway-1", "holloway-2", "holloway-3")  # one event, a day or more apart
    assert len(set(stories_of(make_items(days)).values())) == 1  # with their text: one story

    def headlines_of(chosen: list[Report]) -> dict[str, int]:
        headlines = [replace(r, key=f"{r.key}/headline", text=r.title) for r in chosen]
        vectors = embed(headlines)
        items = [
            ClusterItem(i, r.published, r.title, vectors[i], r.text, r.outlet)
            for i, r in enumerate(headlines)
        ]
        result = cluster_stream(items)
        return {r.key: result.labels[i] for i, r in enumerate(chosen)}

    # Headlines alone are weak evidence: a day apart they are not joined, within the hour they are.
    assert len(set(headlines_of(days).values())) == 3
    assert len(set(headlines_of(same_day(days)).values())) == 1


def test_a_copy_carried_later_does_not_make_a_quiet_story_fresh_for_headlines(embed: Embed) -> None:
    first, second = (replace(r, text=r.title) for r in reports("holloway-1", "holloway-2"))
    # Two days of no new reporting (headlines fade by half every 12 hours; the story stays open for 3 days).
    first, second = replace(first, hours=1), replace(second, hours=49)
    vectors = embed([first, second])
    clusterer = StoryClusterer()
    story = clusterer.add(ClusterItem(1, first.published, first.title, vectors[0], first.text, first.outlet))
    copy = ClusterItem(2, second.published - timedelta(minutes=1), first.title, None, first.text, "wire",
                       duplicate_of=1)  # fmt: skip
    assert clusterer.add(copy).story_id == story.story_id  # a copy always joins its original's story
    later = clusterer.add(
        ClusterItem(3, second.published, second.title, vectors[1], second.text, second.outlet)
    )
    assert later.new  # the copy said nothing new: the story has been quiet for two days


def test_an_event_that_goes_on_for_days_stays_one_story(make_items: MakeItems) -> None:
    labels = stories_of(make_items(reports("holloway-1", "orchard", "holloway-2", "holloway-3")))
    assert labels["holloway-1"] == labels["holloway-2"] == labels["holloway-3"]


def test_a_story_quiet_past_the_gap_closes_and_a_later_article_starts_another(make_items: MakeItems) -> None:
    first, later = make_items(reports("amberly-1", "amberly-2"))
    clusterer = StoryClusterer(ClusterConfig(gap=timedelta(days=3)))
    opened = clusterer.add(first)
    assert clusterer.close_quiet(first.published + timedelta(days=2)) == []
    assert clusterer.close_quiet(first.published + timedelta(days=3, minutes=1)) == [opened.story_id]
    assert clusterer.snapshot(opened.story_id).status == "closed"
    assert clusterer.open_ids() == []
    again = clusterer.add(later)
    assert again.new and again.story_id != opened.story_id


def test_a_longer_gap_keeps_a_quiet_story_open(make_items: MakeItems) -> None:
    (first,) = make_items(reports("amberly-1"))
    clusterer = StoryClusterer(ClusterConfig(gap=timedelta(days=30)))
    opened = clusterer.add(first)
    assert clusterer.close_quiet(first.published + timedelta(days=5)) == []
    assert clusterer.open_ids() == [opened.story_id]


def test_a_copy_joins_its_originals_story_and_adds_its_outlet(make_items: MakeItems) -> None:
    items = make_items(reports("veltmark-1", "holloway-1", "veltmark-wire"))
    clusterer = StoryClusterer()
    original = clusterer.add(items[0])
    clusterer.add(items[1])
    copy = clusterer.add(items[2])
    assert copy.story_id == original.story_id and not copy.new
    snapshot = clusterer.snapshot(original.story_id)
    assert snapshot.article_count == 2 and snapshot.outlet_count == 2
    assert snapshot.headline_id == items[0].id  # the copy never stands for the story


def test_a_copy_never_starts_a_story_even_when_its_text_would(make_items: MakeItems) -> None:
    original, copy = make_items(reports("veltmark-1", "veltmark-wire"))
    clusterer = StoryClusterer(ClusterConfig(threshold=1.5, headline_threshold=1.5))  # nothing could join
    first = clusterer.add(original)
    assert clusterer.add(copy).story_id == first.story_id


def test_same_order_gives_the_same_stories_and_ids(make_items: MakeItems) -> None:
    items = make_items(STORIES)
    first, second = cluster_stream(items), cluster_stream(list(items))
    assert first.assignments == second.assignments
    assert first.labels == second.labels


def test_stream_is_taken_in_publish_order_whatever_order_it_comes_in(make_items: MakeItems) -> None:
    items = make_items(STORIES)
    shuffled = items[:]
    random.Random(5).shuffle(shuffled)
    assert cluster_stream(shuffled).labels == cluster_stream(items).labels


def test_headline_article_is_the_most_central_member(make_items: MakeItems, embed: Embed) -> None:
    chosen = reports("veltmark-1", "veltmark-2", "veltmark-3")
    items = make_items(chosen)
    clusterer = StoryClusterer()
    story = [clusterer.add(item) for item in items][-1].story_id
    vectors = embed(chosen)
    similarity = vectors @ vectors.T
    central = int(np.argmax(similarity.sum(axis=1) - 1))  # mean similarity to the others, in effect
    assert clusterer.snapshot(story).headline_id == items[central].id


def test_merge_of_stories_found_to_be_one_event_is_logged(make_items: MakeItems) -> None:
    # Strict joining starts a second story for the second report; the third joins the first story, which
    # then scores above the (lowered) merge threshold with the second and absorbs it.
    items = make_items(reports("veltmark-1", "veltmark-2", "veltmark-3"))
    clusterer = StoryClusterer(ClusterConfig(threshold=0.55, merge_threshold=0.5))
    first, second, third = (clusterer.add(item) for item in items)
    assert first.new and second.new and second.story_id != first.story_id
    assert len(third.merges) == 1
    merge = third.merges[0]
    assert (merge.merged, merge.into, merge.moved) == (second.story_id, first.story_id, (items[1].id,))
    assert merge.score >= 0.5 and "one event" in merge.reason
    assert third.story_id == first.story_id
    assert clusterer.snapshot(second.story_id).status == "merged"
    assert clusterer.snapshot(second.story_id).merged_into == first.story_id
    assert clusterer.snapshot(first.story_id).article_count == 3


def test_two_events_caught_in_one_story_are_split_apart(make_items: MakeItems) -> None:
    keys = ("veltmark-1", "sorrin-1", "veltmark-2", "sorrin-2", "veltmark-3", "sorrin-3")
    items = make_items(same_day(reports(*keys)))
    result = cluster_stream(items, ClusterConfig(threshold=0.0))  # everything joins at first
    assert result.splits == 1
    split = next(s for a in result.assignments for s in a.splits)
    assert sorted(split.moved) == sorted(
        item.id for item, k in zip(items, keys, strict=True) if "sorrin" in k
    )
    assert split.score < ClusterConfig().split_threshold
    labels = [result.labels[item.id] for item in items]
    assert b_cubed(labels, [k.split("-")[0] for k in keys]).f1 == 1.0


def test_restored_window_makes_the_same_decisions_as_an_unbroken_run(make_items: MakeItems) -> None:
    items = make_items(STORIES)
    unbroken = StoryClusterer()
    expected = [unbroken.add(item) for item in items]

    before = StoryClusterer()
    for item in items[:7]:
        before.add(item)
    restarted = StoryClusterer(first_id=max(a.story_id for a in expected[:7]) + 1)
    for item in items[:7]:
        story = before.story_of(item.id)
        assert story is not None
        restarted.restore(item, story)
    assert [restarted.add(item) for item in items[7:]] == expected[7:]


def test_publish_times_must_be_timezone_aware(make_items: MakeItems) -> None:
    (item,) = make_items(reports("orchard"))
    with pytest.raises(ValueError, match="timezone-aware"):
        StoryClusterer().add(replace(item, published=datetime(2031, 3, 3, 6, 0)))


def test_an_article_without_embedding_must_be_a_copy_of_an_open_story(make_items: MakeItems) -> None:
    (item,) = make_items(reports("orchard"))
    with pytest.raises(ValueError, match="no embedding"):
        StoryClusterer().add(replace(item, embedding=None, duplicate_of=12345))


def test_unknown_story_has_no_snapshot() -> None:
    with pytest.raises(KeyError, match="story 99"):
        StoryClusterer().snapshot(99)


@pytest.mark.parametrize(
    "change",
    [
        {"gap": timedelta(0)},
        {"half_life": timedelta(hours=-1)},
        {"embedding_weight": -0.1},
        {"candidates": 0},
        {"split_sizes": (4, 64)},
    ],
)
def test_config_refuses_values_that_make_no_sense(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        replace(ClusterConfig(), **change)


def test_story_times_are_those_of_its_articles(make_items: MakeItems) -> None:
    items = make_items(reports("holloway-1", "holloway-2", "holloway-3"))
    clusterer = StoryClusterer()
    story = [clusterer.add(item) for item in items][-1].story_id
    snapshot = clusterer.snapshot(story)
    assert snapshot.first_seen == T0 + timedelta(hours=2)
    assert snapshot.last_seen == T0 + timedelta(hours=50)
    assert snapshot.member_ids == tuple(item.id for item in items)
    assert "tobiah wrenfield" in dict(snapshot.names)
