"""What every command shares: the Typer apps, the consoles, the --home option and opening the store."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress as RichProgress

from broadsheet import __version__
from broadsheet.config import Settings, load_settings
from broadsheet.pipeline.steps import Progress, Step
from broadsheet.store import Store, shown_url

__all__ = [
    "BRIEFS_HELP",
    "ago",
    "app",
    "err",
    "finish_briefs",
    "opened",
    "out",
    "print_json",
    "progress_bar",
    "run_reported",
    "source_app",
]

BRIEFS_HELP = (
    "Also build the briefs of the stories that grew before returning. By default they are built beside the "
    "crawl, by `broadsheet serve`, `broadsheet crawl` or the workers, so the articles and stories are ready "
    "sooner."
)

app = typer.Typer(
    help="broadsheet: a self-hosted news aggregator. Sources -> fetch -> extract -> dedupe -> store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
source_app = typer.Typer(help="Add, list, remove, import and export sources.", no_args_is_help=True)
app.add_typer(source_app, name="source")

# Piped output is read by scripts and `grep`: wide enough that tables don't wrap cells mid-word.
# markup=False: what is printed comes from feeds, publishers and readers ("[Updated]" titles, a display name
# like "[/x]"), and Rich would take square brackets in it for its own style codes, or fail on them.
out = Console(highlight=False, soft_wrap=True, markup=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)


class _State:
    home: Path | None = None


_state = _State()


def settings() -> Settings:
    return load_settings(_state.home)


@contextmanager
def opened() -> Iterator[tuple[Settings, Store]]:
    """Settings and a migrated store for the home in force; closed afterwards."""
    current = settings()
    logging.basicConfig(level=current.log_level, format="%(levelname)s %(name)s: %(message)s")
    store = Store.open(current.database, threads=current.server_threads)
    try:
        yield current, store
    finally:
        store.close()


@contextmanager
def progress_bar(label: str) -> Iterator[Progress | None]:
    """A transient progress bar on a terminal, reporting (done, total); nothing when piped."""
    if not out.is_terminal:
        yield None
        return
    with RichProgress(console=out, transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total or None)


def run_reported(step: Step) -> None:
    """Run `step` over everything waiting, with a progress bar, and print its tally and time."""
    started = time.perf_counter()
    with progress_bar(step.name) as progress:
        tally = step.run(progress)
    out.print(f"{step.name}: {tally.summary()}; {time.perf_counter() - started:.1f} s in all")


def finish_briefs(settings: Settings, store: Store, *, build: bool) -> None:
    """After a one-shot command's steps: build the story briefs now (`build`), or say how many wait for
    whatever builds them beside the crawl. Nothing when briefs are off."""
    from broadsheet.pipeline.assemble import build_briefs

    steps = build_briefs(settings, store)
    if not steps:
        return
    if build:
        for step in steps:
            run_reported(step)
        return
    from broadsheet.pipeline.briefs import briefs_waiting

    waiting = briefs_waiting(store)
    if waiting:
        out.print(
            f"briefs: {waiting} {'story waits' if waiting == 1 else 'stories wait'} for a brief, built beside "
            "the crawl (`broadsheet serve`, `broadsheet crawl` or the workers); --briefs builds them now"
        )


def print_json(value: object) -> None:
    """JSON for scripts, on standard output as it is (no colours, no wrapping)."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """ "5 min ago", "in 3 h", "never": short relative times for tables."""
    if moment is None:
        return "never"
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            break
    else:
        amount = f"{seconds} s"
    return f"in {amount}" if future else f"{amount} ago"


def _version(value: bool) -> None:
    if value:
        out.print(f"broadsheet {__version__}")
        raise typer.Exit()


@app.callback()
def _main_options(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home", help="Home directory (database, caches). Env: BROADSHEET_HOME.", show_default=False
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    _state.home = home


@app.command()
def init() -> None:
    """Create the home directory and the database (safe to run again)."""
    with opened() as (current, _store):
        out.print(f"broadsheet home: {current.home.resolve()}")
        out.print(f"database: {shown_url(current.database)}")
        out.print("next: broadsheet source add URL   (a feed, a sitemap or a site's home page)")
