"""`broadsheet import`, `export` and `stats`: articles in and out as JSON Lines, and a summary of the home."""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from broadsheet.commands.common import (
    BRIEFS_HELP,
    app,
    err,
    finish_briefs,
    opened,
    out,
    print_json,
    progress_bar,
    run_reported,
)
from broadsheet.config import ENRICH_STEPS, Settings
from broadsheet.dates import iso_utc
from broadsheet.errors import BroadsheetError
from broadsheet.store import Store, compact_index, database_bytes

__all__ = ["enrich", "export", "import_", "recluster", "stats"]

STEPS_TIMEOUT = 6 * 3600.0  # seconds `import` waits for a worker to run the steps over what it stored


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="JSON Lines: url, title, text, published, outlet [, lang, author, image, html] per line."
        ),
    ],
    briefs: Annotated[bool, typer.Option("--briefs", help=BRIEFS_HELP)] = False,
) -> None:
    """Import articles from a JSON Lines file, oldest first, through the same dedupe as crawled articles, then
    enrich them and group them into stories. The stories' briefs are built beside the crawl (by `broadsheet
    serve`, `broadsheet crawl` or the workers), or before this returns with --briefs."""
    from broadsheet.pipeline.assemble import build_ingester
    from broadsheet.pipeline.jsonl import import_jsonl

    if not path.is_file():
        raise BroadsheetError(f"{path} is not a file; give the path of a .jsonl file")
    with opened() as (settings, store):
        ingester = build_ingester(settings, store)
        with progress_bar("importing") as progress:
            report = import_jsonl(path, ingester, progress)
    for problem in report.errors[:50]:
        err.print(f"skipped {path}:{problem}")
    if len(report.errors) > 50:
        err.print(f"... and {len(report.errors) - 50} more bad lines")
    tally = ingester.tally
    out.print(
        f"imported {path}: {report.lines} lines, {tally.new} new, {tally.duplicates} duplicates, "
        f"{tally.updated} updated, {tally.unchanged} already stored, {len(report.errors)} bad lines skipped"
    )
    if report.lines and len(report.errors) == report.lines:
        raise typer.Exit(1)
    _tidy_search_index()
    _run_steps(briefs)


def _tidy_search_index() -> None:
    """After a bulk load, merge the search index into one segment (store.search.compact_index). The articles
    are stored and searchable either way, so a failure here is a warning, not the import's failure."""
    with opened() as (settings, store):
        try:
            compact_index(store, above=settings.search_max_segments)
        except Exception as exc:  # e.g. the database stayed locked by a crawler writing beside it
            err.print(f"warning: could not compact the search index ({exc}); searches work, only slower, "
                      "and the crawler compacts it later")  # fmt: skip


def _run_steps(briefs: bool) -> None:
    """The steps over stored articles (enrichment, stories), each over everything the import left waiting;
    then the briefs when asked, or a word on how many wait for them."""
    from broadsheet.pipeline.assemble import build_steps

    with opened() as (settings, store):
        if settings.on_postgresql:
            from broadsheet.workers import workers_alive

            if workers_alive(settings, store.engine):
                _steps_through_workers(settings, store)
                finish_briefs(settings, store, build=briefs)
                return
        for step in build_steps(settings, store, briefs=briefs):
            run_reported(step)
        if not briefs:
            finish_briefs(settings, store, build=False)


def _steps_through_workers(settings: Settings, store: Store) -> None:
    """On PostgreSQL with workers alive: the steps over what the import stored, run by a worker."""
    from broadsheet.workers.drive import steps_through_queue

    started = time.perf_counter()
    failed = asyncio.run(steps_through_queue(settings, store, timeout=STEPS_TIMEOUT))
    took = time.perf_counter() - started
    if failed:
        err.print(
            "the steps failed on a worker: `broadsheet queue` shows the job; its articles wait for the next run"
        )
    else:
        out.print(f"steps (enrichment, stories): done by a worker; {took:.1f} s in all")


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
    from broadsheet.pipeline.assemble import story_builder

    with opened() as (settings, store):
        started = time.perf_counter()
        with progress_bar("grouping into stories"):
            tally = story_builder(settings, store).recluster(since.replace(tzinfo=UTC) if since else None)
    out.print(f"stories: {tally.summary()}; {time.perf_counter() - started:.1f} s in all")


@app.command()
def enrich(
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
            help="Redo the articles from this date (UTC) on.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help=f"Redo only this step (repeatable): {', '.join(ENRICH_STEPS)}.",
        ),
    ] = None,
) -> None:
    """Enrich stored articles: language, key points and summary, entities, topic, kind, tags.

    Without options, does what is missing or out of date (new articles, a changed model or setting). With
    --since or --only, redoes those steps on those articles whatever they hold."""
    from broadsheet.pipeline.assemble import build_enricher

    with opened() as (settings, store):
        enricher = build_enricher(
            settings,
            store,
            only=only or (),
            since=since.replace(tzinfo=UTC) if since else None,
            redo=bool(since or only),
        )
        started = time.perf_counter()
        with progress_bar("enriching") as progress:
            tally = enricher.run(progress)
    out.print(f"enrich: {tally.summary()}; {time.perf_counter() - started:.1f} s in all")
    for error in tally.errors:
        err.print(f"  failed: {error}")


@app.command()
def export(
    format: Annotated[Literal["jsonl"], typer.Option("--format", help="Output format.")] = "jsonl",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """Write every stored article as JSON Lines (one object per line)."""
    from broadsheet.pipeline.jsonl import export_jsonl

    with opened() as (_settings, store):
        if output is None:
            count = export_jsonl(store.articles.iter_all(), sys.stdout, store.enrichments.views)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("w", encoding="utf-8") as handle:
                count = export_jsonl(store.articles.iter_all(), handle, store.enrichments.views)
            partial.replace(output)  # never leave a half-written export under the real name
            err.print(f"exported {count} articles to {output}")


@app.command()
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Counts: sources and their health, articles, duplicates, outlets, dates, database size."""
    with opened() as (settings, store):
        sources = store.sources.all()
        total = store.articles.count()
        copies = store.articles.count(duplicates=True)
        outlets = store.articles.top_outlets(10)
        first, last = store.articles.date_range()
        size = database_bytes(store.engine)
    failing = [s for s in sources if s.last_status == "error"]
    warned = [s for s in sources if s.last_status != "error" and s.last_warning]
    if as_json:
        print_json(
            {
                "home": str(settings.home.resolve()),
                "sources": len(sources),
                "failing_sources": len(failing),
                "sources_with_warnings": len(warned),
                "articles": total,
                "originals": total - copies,
                "duplicates": copies,
                "published_from": iso_utc(first),
                "published_to": iso_utc(last),
                "top_outlets": [{"outlet": name, "articles": n} for name, n in outlets],
                "database_bytes": size,
            }
        )
        return
    out.print(f"home: {settings.home.resolve()}")
    out.print(f"sources: {len(sources)} ({len(failing)} failing, {len(warned)} with warnings)")
    out.print(f"articles: {total} ({total - copies} originals, {copies} duplicates)")
    if first and last:
        out.print(f"published: {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC")
    if outlets:
        out.print("top outlets: " + ", ".join(f"{name or '(unknown)'} {n}" for name, n in outlets))
    if size is not None:
        out.print(f"database: {size / 1e6:.1f} MB")
