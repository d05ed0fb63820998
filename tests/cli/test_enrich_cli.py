"""`broadsheet enrich` and the export's AI fields through the CLI, with the real models, on invented coverage."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from clirun import CliResult

from storyset import coverage


def _import(cli: Callable[..., CliResult], tmp_path: Path) -> CliResult:
    data = tmp_path / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    result = cli("import", str(data))
    assert result.code == 0, result.err
    return result


def test_import_enriches_and_export_carries_every_field(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = _import(cli, tmp_path)
    assert (
        "enrich: 9 articles enriched (language 9, keypoints 9, entities 9, topic 9, kind 9, tags 9)"
        in result.out
    )
    exported = cli("export")
    assert exported.code == 0, exported.err
    records = [json.loads(line) for line in exported.out.splitlines()]
    assert len(records) == 9
    for record in records:
        for field in ("lang", "topic", "kind", "entities", "tags", "summary", "key_points"):
            assert record[field], (field, record["url"])
        for point in record["key_points"]:
            for cited in point["citations"]:
                assert cited["text"] in record["text"]
                assert isinstance(cited["sentence"], int)


def test_enrich_does_what_is_missing_and_redoes_what_it_is_told(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    _import(cli, tmp_path)
    nothing = cli("enrich")
    assert nothing.code == 0, nothing.err
    assert "enrich: 0 articles enriched" in nothing.out
    again = cli("enrich", "--only", "keypoints", "--only", "tags")
    assert again.code == 0, again.err
    assert "enrich: 9 articles enriched (keypoints 9, tags 9)" in again.out
    since = cli("enrich", "--since", "2026-11-04")
    assert since.code == 0, since.err
    assert "enrich: 0 articles enriched" not in since.out


def test_an_unknown_step_is_refused_with_the_steps_named(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    result = cli("enrich", "--only", "sentiment")
    assert result.code != 0
    assert "unknown enrichment step 'sentiment'" in result.err
    assert "language, keypoints, entities, topic, kind, tags" in result.err
