"""`broadsheet source import`: the same job as the admin page's upload, capped at max_opml_outlines and saying
what it left out; a file that is not OPML is an error in words."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import CliResult


def _opml(path: Path, count: int) -> Path:
    outlines = "".join(
        f'<outline type="rss" text="Feed {i}" xmlUrl="https://feed{i}.example/rss"/>' for i in range(count)
    )
    path.write_text(f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>')
    return path


def test_import_takes_at_most_max_opml_outlines_and_says_what_it_left_out(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_MAX_OPML_OUTLINES", "1200")
    result = cli("source", "import", str(_opml(tmp_path / "many.opml", 1500)))
    assert result.code == 0, result.err
    assert "imported 1200 feeds" in result.out and "0 already subscribed" in result.out
    assert (
        "300 feeds were left out: the file lists 1,500 feeds and one import takes at most 1,200" in result.err
    )
    listed = cli("source", "list", "--json")
    assert listed.out.count('"url": "https://feed') == 1200


def test_import_of_a_file_that_is_not_opml_fails_in_words(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    path = tmp_path / "feed.opml"
    path.write_text("<rss version='2.0'><channel/></rss>")
    result = cli("source", "import", str(path))
    assert result.code == 1 and "the file is XML but not OPML" in result.err


def test_a_feed_listed_twice_is_one_feed_and_counts_once_towards_the_cap(
    cli: Callable[..., CliResult], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADSHEET_MAX_OPML_OUTLINES", "3")
    twice = '<outline type="rss" text="Tides" xmlUrl="https://tides.example/rss"/>'
    others = "".join(f'<outline type="rss" text="F{i}" xmlUrl="https://f{i}.example/rss"/>' for i in range(2))
    path = tmp_path / "twice.opml"
    path.write_text(
        f'<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="News">{twice}</outline>'
        f'<outline text="Coast">{twice}</outline>{others}</body></opml>'
    )
    result = cli("source", "import", str(path))
    assert result.code == 0, result.err
    assert "imported 3 feeds" in result.out and "left out" not in result.err
    [tides] = [s for s in json.loads(cli("source", "list", "--json").out) if "tides" in s["url"]]
    assert tides["folder"] == "News"  # the first listing's folder
