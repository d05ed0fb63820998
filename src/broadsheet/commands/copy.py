"""`broadsheet copy --to URL`: a SQLite home moved into an empty PostgreSQL database (store/copy.py), and the
check that every row arrived."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from broadsheet.commands.common import app, err, out, progress_bar, settings
from broadsheet.errors import StoreError
from broadsheet.store import (
    DEFAULT_COPY_BATCH,
    LEFT_OUT,
    TableCheck,
    copy_database,
    copy_source,
    copy_target,
    shown_url,
)

__all__ = ["copy"]

DIGEST_SHOWN = 16  # hex digits of each checksum printed: enough to tell two apart at a glance


@app.command("copy")
def copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The PostgreSQL database to copy into, empty: postgresql+psycopg://USER:PASSWORD@HOST/DATABASE.",
            show_default=False,
        ),
    ],
    resume: Annotated[
        bool, typer.Option("--resume", help="Finish a copy into this database that was interrupted.")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, hidden=True)] = DEFAULT_COPY_BATCH,
) -> None:
    """Copy this home's SQLite database into an empty PostgreSQL database, then check every table row for row.

    Stop the crawler and the server of this home first. A copy that was interrupted (Ctrl-C, a crash) is
    finished by the same command with --resume. Afterwards set database_url to the new database."""
    current = settings()
    source = copy_source(current.database)
    try:
        target = copy_target(to)
        try:
            out.print(f"copying {shown_url(current.database)} to {shown_url(to)}")
            for what, why in LEFT_OUT.items():
                out.print(f"  not copied: {what} ({why})")
            with progress_bar("copying") as progress:
                checks = copy_database(
                    source,
                    target,
                    resume=resume,
                    batch_size=batch_size,
                    progress=progress,
                    on_table=lambda name, rows: out.print(
                        f"{name}: {rows} row{'' if rows == 1 else 's'} copied"
                    ),
                )
        finally:
            target.dispose()
    except KeyboardInterrupt:
        err.print(f"the copy stopped: `broadsheet copy --to {shown_url(to)} --resume` finishes it")
        raise
    finally:
        source.dispose()
    out.print(_checks_table(checks))
    differing = [check.name for check in checks if not check.matches]
    if differing:
        raise StoreError(
            f"the copy differs from the home in {', '.join(differing)}: was the home written to during the copy? "
            "Stop every crawler and server of this home, then copy again into a new, empty database"
        )
    out.print(f"copied and checked {sum(c.source_rows for c in checks)} rows in {len(checks)} tables")
    out.print(
        "next: set database_url (in broadsheet.toml, or BROADSHEET_DATABASE_URL) to this database's URL, "
        "then start broadsheet again"
    )


def _checks_table(checks: list[TableCheck]) -> Table:
    table = Table("table", "rows in SQLite", "in PostgreSQL", "checksum", "", title="check")
    for check in checks:
        same = check.source_digest == check.target_digest
        table.add_row(
            check.name,
            str(check.source_rows),
            str(check.target_rows),
            check.source_digest[:DIGEST_SHOWN]
            if same
            else f"{check.source_digest[:DIGEST_SHOWN]} / {check.target_digest[:DIGEST_SHOWN]}",
            "same" if check.matches else "DIFFERS",
        )
    return table
