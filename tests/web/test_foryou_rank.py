"""The For You order and its reasons (web/foryou.py), on invented stories: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broadsheet.models import StoryCard
from broadsheet.web.foryou import Interest, rank, reasons_for

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def story(story_id: int, *, articles: int = 3, hours_ago: float = 1.0) -> StoryCard:
    return StoryCard(
        id=story_id, title=f"Story {story_id}", headline_id=story_id * 10, image="",
        first_seen=NOW - timedelta(hours=hours_ago + 2), last_seen=NOW - timedelta(hours=hours_ago),
        article_count=articles, outlet_count=2, status="open", merged_into=None, hotness=1.0,
    )  # fmt: skip


def test_followed_things_outrank_heat_and_the_rest_fills_the_page_said_so() -> None:
    hot = [story(i) for i in range(1, 7)]  # hottest first
    interests = {
        5: Interest(outlets=("Quillon Daily",)),
        6: Interest(followed=True),
        3: Interest(tags=("harbour",), entities=("Ada Lovelace",)),
    }
    picks = rank(hot, interests, limit=5)
    assert [p.story.id for p in picks] == [6, 3, 5, 1, 2]
    assert [p.personal for p in picks] == [True, True, True, False, False]
    assert picks[0].reasons == ("You follow this story.",)
    assert picks[1].reasons == ("Tagged #harbour, which you follow.", "About Ada Lovelace, which you follow.")
    assert picks[3].reasons == ("Among the top stories now.",)
    assert [p.story.id for p in rank(hot, interests, limit=5, fill=False)] == [6, 3, 5]


def test_muted_stories_go_and_read_ones_sink() -> None:
    hot = [story(1), story(2, articles=2), story(3)]
    interests = {
        1: Interest(outlets=("Alder Gazette",), muted=True),
        2: Interest(outlets=("Alder Gazette",), read_articles=2),
        3: Interest(tags=("frost",)),
    }
    picks = rank(hot, interests, limit=10)
    assert [p.story.id for p in picks] == [3, 2]


def test_reasons_name_at_most_two_of_each_and_read_neighbours() -> None:
    interest = Interest(outlets=("A", "B", "C"), near_read="Bridge closes")
    assert reasons_for(interest) == (
        "From A and B, which you follow.",
        "Related to a story you read: “Bridge closes”.",
    )
