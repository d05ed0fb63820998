"""`broadsheet import`, `export` and `stats`: articles in and out as JSON Lines, and a summary of the home."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import Progress

from broadsheet.commands.common import app, err, opened, out, story_builder
from broadsheet.errors import BroadsheetError
from broadsheet.store import compact_index

__all__ = ["export", "import_", "recluster", "stats"]


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="JSON Lines: url, title, text, published, outlet [, lang, author, image, html] per line."
        ),
    ],
) -> None:
    """Import articles from a JSON Lines file, oldest first, through the same dedupe as crawled articles."""
    from broadsheet.importer import import_jsonl
    from broadsheet.pipeline import Pipeline

    if not path.is_file():
        raise BroadsheetError(f"{path} is not a file; give the path of a .jsonl file")
    with opened() as (settings, store):
        pipeline = Pipeline(store, settings)
        if out.is_terminal:
            with Progress(console=out, transient=True) as bar:
                task = bar.add_task("importing", total=None)
                report = import_jsonl(path, pipeline, lambda done, total: bar.update(task, completed=done,
                                                                                       total=total))  # fmt: skip
        else:
            report = import_jsonl(path, pipeline)
    for problem in report.errors[:50]:
        err.print(f"skipped {path}:{problem}")
    if len(report.errors) > 50:
        err.print(f"... and {len(report.errors) - 50} more bad lines")
    tally = pipeline.tally
    out.print(
        f"imported {path}: {report.lines} lines, {tally.new} new, {tally.duplicates} duplicates, "
        f"{tally.updated} updated, {tally.unchanged} already stored, {len(report.errors)} bad lines skipped"
    )
    if report.lines and len(report.errors) == report.lines:
        raise typer.Exit(1)
    _tidy_search_index()
    _group_into_stories()


def _tidy_search_index() -> None:
    """After a bulk load, merge the search index into one segment (store.search.compact_index). The articles
    are stored and searchable either way, so a failure here is a warning, not the import's failure."""
    with opened() as (_settings, store):
        try:
            compact_index(store)
        except Exception as exc:  # e.g. the database stayed locked by a crawler writing beside it
            err.print(f"warning: could not compact the search index ({exc}); searches work, only slower, "
                      "and the crawler compacts it later")  # fmt: skip


def _group_into_stories(since: datetime | None = None, *, rebuild: bool = False) -> None:
    with opened() as (settings, store):
        builder = story_builder(settings, store)
        if builder is None:
            if rebuild:
                raise BroadsheetError("stories are turned off (setting `stories`); turn them on to recluster")
            return
        started = time.perf_counter()
        if out.is_terminal:
            with Progress(console=out, transient=True) as bar:
                task = bar.add_task("grouping into stories", total=None)
                tally = (
                    builder.recluster(since)
                    if rebuild
                    else builder.run(lambda done, _: bar.update(task, completed=done))
                )
        else:
            tally = builder.recluster(since) if rebuild else builder.run()
    seconds = time.perf_counter() - started
    out.print(f"stories: {tally.summary()}; {seconds:.1f} s in all")


@app.command()
def recluster(
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
            help="Rebuild only the stories with articles from this date (UTC) on; default: all.",
        ),
    ] = None,
) -> None:
    """Rebuild stories from the stored articles (after changing clustering settings, or a newer model)."""
    _group_into_stories(since.replace(tzinfo=UTC) if since else None, rebuild=True)


@app.command()
def export(
    format: Annotated[Literal["jsonl"], typer.Option("--format", help="Output format.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write every stored article as JSON Lines (one object per line)."""
    from broadsheet.importer import export_jsonl

    with opened() as (_settings, store):
        if output is None:
            count = export_jsonl(store.articles.iter_all(), sys.stdout)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("w", encoding="utf-8") as handle:
                count = export_jsonl(store.articles.iter_all(), handle)
            partial.replace(output)  # never leave a half-written export under the real name
            err.print(f"exported {count} articles to {output}")


@app.command()
def stats() -> None:
    """Counts: sources and their health, articles, duplicates, outlets, dates, database size."""
    with opened() as (settings, store):
        sources = store.sources.all()
        total = store.articles.count()
        copies = store.articles.count(duplicates=True)
        outlets = store.articles.top_outlets(10)
        first, last = store.articles.date_range()
    failing = [s for s in sources if s.last_status == "error"]
    out.print(f"home: {settings.home.resolve()}")
    out.print(f"sources: {len(sources)} ({len(failing)} failing)")
    out.print(f"articles: {total} ({total - copies} originals, {copies} duplicates)")
    if first and last:
        out.print(f"published: {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC")
    if outlets:
        out.print("top outlets: " + ", ".join(f"{name or '(unknown)'} {n}" for name, n in outlets))
    db = settings.home / "broadsheet.db"
    if not settings.database_url and db.exists():
        out.print(f"database: {db.stat().st_size / 1e6:.1f} MB")
