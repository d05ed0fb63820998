"""`broadsheet import` and `export`: JSON Lines in and out, bad lines reported, dedupe applied."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import CliResult, open_store

from broadsheet.store import index_segments, search
from newsroom import make_stories

Cli = Callable[..., CliResult]
# The module, not the function the package exports under the same name.


def line(story_index: int, **override: object) -> str:
    story = make_stories(6)[story_index]
    record: dict[str, object] = {
        "url": f"https://gazette.example/{story.slug}",
        "title": story.title,
        "text": story.text,
        "published": story.published.isoformat(),
        "outlet": "The Alder Gazette",
        "author": story.author,
        "lang": "en",
    }
    record.update(override)
    return json.dumps(record)


def test_import_reports_bad_lines_and_stores_the_rest(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        "\n".join(
            [
                line(0),
                "{not json",
                line(1, published="yesterday-ish"),
                json.dumps(["a", "list"]),
                line(2, url="ftp://gazette.example/x"),
                "",
                line(3),
            ]
        )
        + "\n"
    )
    result = cli("import", str(source))
    assert result.code == 0, result.err
    assert "2 new" in result.out and "4 bad lines skipped" in result.out
    assert "in.jsonl:line 2: not valid JSON" in result.err.replace("\n", "")
    assert "line 3: published" in result.err
    assert "line 4: expected a JSON object" in result.err
    assert "line 5: url" in result.err


def test_import_goes_in_publish_order_and_export_has_every_field(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([line(4), line(1), line(2)]) + "\n")
    assert cli("import", str(source)).code == 0
    out = tmp_path / "out.jsonl"
    assert cli("export", "--format", "jsonl", "--output", str(out)).code == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    stories = make_stories(6)
    assert [r["title"] for r in rows] == [stories[1].title, stories[2].title, stories[4].title]
    required = {"id", "url", "canonical_url", "title", "text", "published", "outlet", "author", "image", "lang",
                "source_id", "duplicate_of"}  # fmt: skip
    assert required <= set(rows[0])
    assert rows[0]["published"] == stories[1].published.isoformat().replace("+00:00", "Z")
    assert rows[0]["source_id"] is None and rows[0]["lang"] == "en"


def test_reimporting_stores_nothing_twice_and_copies_are_marked(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    copy = line(0, url="https://herald.example/copied", outlet="The Herald")
    source.write_text("\n".join([line(0), copy]) + "\n")
    first = cli("import", str(source))
    assert "1 new" in first.out and "1 duplicates" in first.out
    second = cli("import", str(source))
    assert "0 new" in second.out and "2 already stored" in second.out
    assert "articles: 2 (1 originals, 1 duplicates)" in cli("stats").out
    out = tmp_path / "out.jsonl"
    cli("export", "--format", "jsonl", "--output", str(out))
    original, duplicate = (json.loads(x) for x in out.read_text().splitlines())
    assert duplicate["duplicate_of"] == original["id"]
    assert original["also_published_at"] == ["https://herald.example/copied"]


def test_the_same_article_at_another_address_of_its_site_is_exported_under_urls_and_reimported(
    cli: Cli, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join([line(0), line(0, url="https://gazette.example/print/same")]) + "\n")
    assert "1 new" in cli("import", str(source)).out
    out = tmp_path / "out.jsonl"
    cli("export", "--output", str(out))
    (row,) = (json.loads(x) for x in out.read_text().splitlines())
    assert "https://gazette.example/print/same" in row["urls"] and row["url"] in row["urls"]
    # an export imported elsewhere keeps every address, so a later fetch of either is known
    again = tmp_path / "again"
    assert cli("--home", str(again), "import", str(out)).code == 0
    assert cli("--home", str(again), "export", "--output", str(tmp_path / "again.jsonl")).code == 0
    (moved,) = (json.loads(x) for x in (tmp_path / "again.jsonl").read_text().splitlines())
    assert set(moved["urls"]) == set(row["urls"])


def test_imported_html_is_sanitised(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        line(0, html='<p onclick="x()">Hi <script>alert(1)</script><a href="javascript:y()">z</a></p>') + "\n"
    )
    cli("import", str(source))
    out = tmp_path / "out.jsonl"
    cli("export", "--format", "jsonl", "--output", str(out))
    html = json.loads(out.read_text())["html"]
    assert "Hi" in html and "script" not in html and "onclick" not in html and "javascript:" not in html


def test_import_of_a_missing_file_says_so(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", str(tmp_path / "nope.jsonl"))
    assert result.code == 1 and "is not a file" in result.err


def test_import_leaves_the_search_index_in_one_segment(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]
) -> None:
    if "BROADSHEET_DATABASE_URL" in cli_env:
        pytest.skip("SQLite's FTS5 index only: PostgreSQL's GIN index has no segments to merge")
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(line(i) for i in range(3)) + "\n")
    second.write_text("\n".join(line(i) for i in range(3, 6)) + "\n")

    monkeypatch.setenv("BROADSHEET_SEARCH_MAX_SEGMENTS", "100")
    assert cli("import", str(first)).code == 0
    with open_store(cli_env, tmp_path / "home") as store:
        assert index_segments(store) > 1  # one per stored article: what compaction is for

        monkeypatch.setenv("BROADSHEET_SEARCH_MAX_SEGMENTS", "1")
        assert cli("import", str(second)).code == 0
        assert index_segments(store) == 1
        title = make_stories(6)[4].title
        assert search(store, title).hits[0].card.title == title
