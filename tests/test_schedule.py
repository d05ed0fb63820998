from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadsheet.config import Settings
from broadsheet.pipeline.schedule import next_poll

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, min_poll_interval=300, default_poll_interval=1800, max_poll_interval=86400)


def test_busy_feed_is_polled_more_often_down_to_the_minimum(tmp_path: Path) -> None:
    interval, due = next_poll(settings(tmp_path), now=NOW, interval=1800, new_articles=5, failed=False)
    assert (interval, due) == (900, NOW + timedelta(seconds=900))
    assert next_poll(settings(tmp_path), now=NOW, interval=400, new_articles=1, failed=False)[0] == 300


def test_quiet_feed_is_polled_less_often_up_to_the_maximum(tmp_path: Path) -> None:
    assert next_poll(settings(tmp_path), now=NOW, interval=1800, new_articles=0, failed=False)[0] == 2700
    assert next_poll(settings(tmp_path), now=NOW, interval=80000, new_articles=0, failed=False)[0] == 86400


def test_failures_back_off_exponentially_and_keep_the_interval(tmp_path: Path) -> None:
    first = next_poll(settings(tmp_path), now=NOW, interval=900, new_articles=0, failed=True, error_count=0)
    third = next_poll(settings(tmp_path), now=NOW, interval=900, new_articles=0, failed=True, error_count=2)
    assert first == (900, NOW + timedelta(seconds=1800))
    assert third == (900, NOW + timedelta(seconds=7200))


def test_retry_after_is_always_honoured(tmp_path: Path) -> None:
    _, due = next_poll(
        settings(tmp_path), now=NOW, interval=900, new_articles=0, failed=True, retry_after=20000
    )
    assert due == NOW + timedelta(seconds=20000)
