"""Stories through the CLI: `import` groups articles into stories with the real model, `export` carries
`story_id`, `recluster` rebuilds the same stories; invented coverage with a known right answer (storyset)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from clirun import CliResult, open_store

from newsroom import article_page, make_stories, rss
from publisher import Publisher
from storyset import EXPECTED, coverage


def _import(cli: Callable[..., CliResult], tmp_path: Path, rows: list[dict[str, object]]) -> CliResult:
    """Import `rows`, and check that every one was stored: new, or a copy of an article stored before."""
    data = tmp_path / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = cli("import", str(data))
    assert result.code == 0, result.err
    copies = sum(1 for r in rows if str(r["url"]).endswith("-wire"))  # the wire copy of bridge-1
    assert (
        f"{len(rows)} lines, {len(rows) - copies} new, {copies} duplicates, 0 updated, 0 already stored, "
        "0 bad lines skipped"
    ) in result.out, result.out
    return result


def _stories(cli: Callable[..., CliResult]) -> dict[str, int | None]:
    result = cli("export")
    assert result.code == 0, result.err
    records = [json.loads(line) for line in result.out.splitlines()]
    return {str(r["url"]).rsplit("/", 1)[1]: r["story_id"] for r in records}


def _groups(stories: dict[str, object]) -> set[frozenset[str]]:
    return {frozenset(k for k in stories if stories[k] == s) for s in set(stories.values())}


def _same_partition(found: dict[str, int | None]) -> None:
    """Every article of the set was exported, in a story, and articles share a story exactly when the gold
    labels say they should."""
    assert set(found) == set(EXPECTED), "exported articles differ from the set"
    assert all(story is not None for story in found.values()), found
    assert _groups(dict(found)) == _groups(dict(EXPECTED)), found


def test_import_groups_coverage_into_stories_and_export_carries_them(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = _import(cli, tmp_path, coverage())
    assert "stories: 9 articles into stories (4 new stories" in result.out
    _same_partition(_stories(cli))


def test_import_leaves_the_briefs_beside_the_crawl_unless_asked(
    cli: Callable[..., CliResult], tmp_path: Path, cli_env: dict[str, str]
) -> None:
    result = _import(cli, tmp_path, coverage())
    # The bridge and the strike are told by several outlets: their briefs wait for the crawl's background.
    assert "briefs: 2 stories wait for a brief, built beside the crawl" in result.out, result.out
    assert "story briefs built" not in result.out
    with open_store(cli_env, tmp_path / "home") as store:
        assert [store.briefs.get(story) for story in {s for s in _stories(cli).values() if s}] == [None] * 4
    again = cli("import", "--briefs", str(tmp_path / "coverage.jsonl"))
    assert again.code == 0, again.err
    assert "briefs: 2 story briefs built" in again.out and "wait for a brief" not in again.out
    with open_store(cli_env, tmp_path / "home") as store:
        built = [store.briefs.get(story) for story in {s for s in _stories(cli).values() if s}]
    assert (
        sum(1 for brief in built if brief is not None and (brief.data["agreed"] or brief.data["only"])) == 2
    )


def test_a_one_shot_crawl_says_how_many_briefs_wait_and_builds_them_when_asked(
    cli: Callable[..., CliResult], tmp_path: Path, publisher: Publisher
) -> None:
    _import(cli, tmp_path, coverage())  # two stories several outlets tell: their briefs wait
    stories = make_stories(2)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url))
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    assert cli("source", "add", publisher.url("/feed.xml")).code == 0
    plain = cli("crawl", "--once", "--all")
    assert plain.code == 0, plain.err
    assert "briefs: 2 stories wait for a brief" in plain.out, plain.out
    asked = cli("crawl", "--once", "--all", "--briefs")
    assert asked.code == 0, asked.err
    assert "briefs: 2 story briefs built" in asked.out and "wait for a brief" not in asked.out
    assert "wait for a brief" not in cli("crawl", "--once", "--all").out  # nothing waits any more


def test_recluster_rebuilds_the_same_stories(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    _import(cli, tmp_path, coverage())
    before = _stories(cli)
    result = cli("recluster")
    assert result.code == 0, result.err
    after = _stories(cli)
    _same_partition(after)
    # The same input order gives the same decisions; ids are new (old stories were dissolved).
    assert _groups(dict(after)) == _groups(dict(before))
    since = cli("recluster", "--since", "2026-11-04")
    assert since.code == 0, since.err
    _same_partition(_stories(cli))


def test_articles_arriving_in_two_imports_join_the_stories_of_the_first(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    rows = coverage()
    _import(cli, tmp_path, rows[:5])
    (tmp_path / "coverage.jsonl").unlink()
    _import(cli, tmp_path, rows[5:])  # a new process: the open window is rebuilt from the database
    _same_partition(_stories(cli))


def test_recluster_with_stories_off_says_how_to_turn_them_on(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_STORIES", "false")
    _import(cli, tmp_path, coverage()[:2])
    assert all(story is None for story in _stories(cli).values())
    result = cli("recluster")
    assert result.code == 1 and "stories are turned off" in result.err


def test_a_bad_since_date_is_refused_with_the_formats_it_takes(cli: Callable[..., CliResult]) -> None:
    result = cli("recluster", "--since", "last tuesday")
    assert result.code != 0 and "%Y-%m-%d" in result.err


def test_a_crawl_groups_what_it_stored_and_a_failing_stories_step_loses_nothing(
    cli: Callable[..., CliResult], publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    stories = make_stories(4)
    for story in stories:
        publisher.add(f"/news/{story.slug}", article_page(story, publisher.base_url))
    publisher.add("/feed.xml", rss(stories, publisher.base_url), content_type="application/rss+xml")
    assert cli("source", "add", publisher.url("/feed.xml")).code == 0
    monkeypatch.setenv("BROADSHEET_EMBEDDING_MODEL", "no-such-model")
    broken = cli("crawl", "--once")
    assert broken.code == 0, broken.err
    assert "4 new articles" in broken.out
    assert "stories: not updated this time (unknown embedding model 'no-such-model'" in broken.out
    assert all(story is None for story in _stories(cli).values())
    monkeypatch.delenv("BROADSHEET_EMBEDDING_MODEL")
    fixed = cli("crawl", "--once", "--all")  # nothing new to fetch; the waiting articles are grouped now
    assert fixed.code == 0 and "stories: 0 articles" not in fixed.out
    assert all(story is not None for story in _stories(cli).values())


def test_while_another_process_groups_stories_import_leaves_them_and_recluster_refuses(
    cli: Callable[..., CliResult], tmp_path: Path, cli_env: dict[str, str]
) -> None:
    assert cli("init").code == 0
    with open_store(cli_env, tmp_path / "home") as store:
        held = store.leases.acquire(
            "stories", "the server on host-a", timedelta(minutes=5), datetime.now(UTC)
        )
        assert held.acquired
        try:
            result = _import(cli, tmp_path, coverage())
            assert "stories: left for the server on host-a until" in result.out
            assert set(_stories(cli).values()) == {None}  # stored, waiting for the holder's next pass
            refused = cli("recluster")
            assert refused.code == 1
            assert "the server on host-a" in refused.err and "run recluster again" in refused.err
            assert set(_stories(cli).values()) == {None}  # nothing was dissolved
        finally:
            store.leases.release("stories", "the server on host-a", datetime.now(UTC))
    assert cli("recluster").code == 0
    _same_partition(_stories(cli))
