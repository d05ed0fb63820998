"""`broadsheet source add | list | remove | import | export`."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from broadsheet.clock import utcnow
from broadsheet.commands.common import ago, err, opened, out, print_json, source_app
from broadsheet.dates import iso_utc
from broadsheet.errors import SourceError
from broadsheet.models import Outline, Source, SourceKind
from broadsheet.sources import write_opml

if TYPE_CHECKING:
    from broadsheet.pipeline.subscribe import Resolved

__all__ = ["add", "export", "import_opml", "list_sources", "remove", "starter"]


@source_app.command("add")
def add(
    url: Annotated[
        str, typer.Argument(help="A feed (RSS/Atom/JSON Feed), a sitemap, or a site's home page.")
    ],
    folder: Annotated[str, typer.Option(help="Folder (category) to file it under, e.g. 'News/World'.")] = "",
) -> None:
    """Subscribe to a feed, a sitemap, or the feed a site's page links to."""
    from broadsheet.fetch import Fetcher
    from broadsheet.pipeline.subscribe import resolve_source, subscribe

    with opened() as (settings, store):

        async def resolve() -> Resolved:
            async with Fetcher(settings) as fetcher:
                return await resolve_source(url.strip(), fetcher)

        resolved = asyncio.run(resolve())
        source = subscribe(store, resolved, settings, folder=folder, now=utcnow())
    what = {SourceKind.FEED: "feed", SourceKind.SITEMAP: "sitemap", SourceKind.PAGE: "single page"}[
        source.kind
    ]
    out.print(f"added source {source.id}: {source.title or '(untitled)'}")
    out.print(f"  {what} ({resolved.format}) at {source.url}, {resolved.entries} entries now")
    if resolved.warning:
        out.print(f"  warning: {resolved.warning}")
    for other in resolved.alternatives:
        out.print(f"  the site also offers: {other}")
    out.print("  fetch it now with: broadsheet crawl --once")


@source_app.command("list")
def list_sources(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Every source with its health: last status, error or warning, article count, next fetch."""
    with opened() as (_settings, store):
        sources = store.sources.all()
    if as_json:
        print_json([source_record(s) for s in sources])
        return
    if not sources:
        out.print("no sources yet; add one with: broadsheet source add URL")
        return
    table = Table("id", "title", "kind", "status", "articles", "last fetch", "next fetch", "folder")
    now = utcnow()
    for s in sources:
        status = s.last_status if s.last_http_status is None else f"{s.last_status} ({s.last_http_status})"
        table.add_row(
            str(s.id), s.title or s.url, s.kind.value, status, str(s.article_count),
            ago(s.last_fetch_at, now), ago(s.next_fetch_at, now), s.folder,
        )  # fmt: skip
    out.print(table)
    for s in sources:
        if s.last_error:
            out.print(f"source {s.id} ({s.url}) failed {s.error_count}x: {s.last_error}")
        elif s.last_warning:
            out.print(f"source {s.id} ({s.url}) warning: {s.last_warning}")


def source_record(s: Source) -> dict[str, object]:
    """A source as `source list --json` writes it: the table's fields, whole, with times in ISO 8601."""
    return {
        "id": s.id,
        "url": s.url,
        "title": s.title,
        "kind": s.kind.value,
        "format": s.format,
        "folder": s.folder,
        "status": s.last_status,
        "http_status": s.last_http_status,
        "error": s.last_error,
        "warning": s.last_warning,
        "error_count": s.error_count,
        "articles": s.article_count,
        "last_fetch_at": iso_utc(s.last_fetch_at),
        "last_success_at": iso_utc(s.last_success_at),
        "last_new_at": iso_utc(s.last_new_at),
        "next_fetch_at": iso_utc(s.next_fetch_at),
        "site_url": s.site_url,
    }


@source_app.command("remove")
def remove(source_id: Annotated[int, typer.Argument(help="The id shown by `source list`.")]) -> None:
    """Unsubscribe. Articles already stored stay readable."""
    with opened() as (_settings, store):
        source = store.sources.remove(source_id)
    out.print(f"removed source {source.id}: {source.title or source.url} (its articles are kept)")


@source_app.command("import")
def import_opml(
    path: Annotated[Path, typer.Argument(help="An OPML file, as exported by feed readers.")],
) -> None:
    """Subscribe to every feed of an OPML file, keeping its folders. Feeds are checked on the first crawl."""
    from broadsheet.pipeline.opml_import import import_opml as run

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    with opened() as (settings, store):
        job = run(store, path.name, data, settings)
    if job.status == "failed":
        raise SourceError(job.error or f"the import of {path} failed")
    out.print(f"imported {job.added} feeds from {path} ({job.skipped} already subscribed)")
    if job.left_out:
        err.print(f"warning: {job.left_out} feeds were left out: {job.note}")


@source_app.command("starter")
def starter(
    pack: Annotated[
        str, typer.Argument(help="The pack to add (e.g. world-news); none: list the packs.")
    ] = "",
) -> None:
    """List the starter packs (public feeds by subject, in several languages), or subscribe to one."""
    from broadsheet.sources import starter_packs

    packs = starter_packs()
    if not pack:
        for p in packs:
            out.print(f"{p.slug}: {p.name}, {len(p.feeds)} feeds ({', '.join(p.languages)})")
        out.print("add one with: broadsheet source starter NAME")
        return
    chosen = next((p for p in packs if p.slug == pack), None)
    if chosen is None:
        raise SourceError(
            f"there is no starter pack {pack!r}: choose one of {', '.join(p.slug for p in packs)}"
        )
    with opened() as (settings, store):
        added, skipped = store.sources.add_many(
            chosen.feeds, now=utcnow(), interval_seconds=settings.default_poll_interval
        )
    out.print(f"added {added} feeds of {chosen.name} ({skipped} already subscribed); fetch them with: "
              "broadsheet crawl --once")  # fmt: skip


@source_app.command("export")
def export() -> None:
    """Print every source as OPML 2.0, with folders."""
    with opened() as (_settings, store):
        outlines = [
            Outline(url=s.url, title=s.title, site_url=s.site_url, folder=s.folder)
            for s in store.sources.all()
        ]
    typer.echo(write_opml(outlines), nl=False)
