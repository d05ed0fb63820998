"""`broadsheet serve`: the web reader and JSON API, with the crawl scheduler running beside them.

One process by default (the scheduler runs inside it). With `--workers N`, N server processes share the port
(web/workers.py) and the scheduler runs as one `broadsheet crawl` child process, so only one crawler ever
writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from broadsheet.commands.common import app, opened, out

__all__ = ["serve"]

STARTUP_FAILURE = 3  # uvicorn's exit status when the app fails to start (its lifespan raised)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core suits most).")
    ] = 1,
) -> None:
    """Serve the reader at http://HOST:PORT and, unless crawl_in_server is off, keep crawling on schedule."""
    from broadsheet.web import create_app
    from broadsheet.web.app import settle_heap
    from broadsheet.web.security import load_secret
    from broadsheet.web.server import run, server_config
    from broadsheet.web.workers import balanced_sockets_supported, run_shared_socket, run_workers

    with opened() as (settings, store):
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        out.print(f"broadsheet is serving {settings.home.resolve()} at http://{shown}:{port}/")
        if not settings.scheduler_in_server:
            out.print(
                "the crawl scheduler is off on PostgreSQL: `broadsheet worker` processes crawl (any number, "
                "on any machine; crawl_in_server = true runs it here instead)"
                if settings.crawl_in_server is None
                else "the crawl scheduler is off (crawl_in_server = false); run `broadsheet crawl` beside it"
            )
        log_level = settings.log_level.lower()
        if workers == 1:
            web = create_app(settings, store=store)
            settle_heap()
            if not run(server_config(web, settings, host=host, port=port, log_level=log_level)):
                raise typer.Exit(STARTUP_FAILURE)
            return
        load_secret(settings.home)  # created once here, not raced by the workers
        home = str(settings.home.resolve())
    # Workers build their app from the environment; the home is passed down explicitly.
    os.environ["BROADSHEET_HOME"] = home
    crawler = None
    if settings.scheduler_in_server:
        crawler = subprocess.Popen([sys.executable, "-m", "broadsheet", "--home", home, "crawl"])
    factory = "broadsheet.web.app:app_from_environment"
    try:
        if balanced_sockets_supported():
            run_workers(factory, host, port, workers, log_level)
        else:
            run_shared_socket(server_config(factory, settings, factory=True, host=host, port=port,
                                            workers=workers, log_level=log_level))  # fmt: skip
    finally:
        if crawler is not None:
            crawler.terminate()
            crawler.wait(30)
