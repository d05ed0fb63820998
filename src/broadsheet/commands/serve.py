"""`broadsheet serve`: the web reader and JSON API, with the crawl scheduler running beside them."""

from __future__ import annotations

from typing import Annotated

import typer

from broadsheet.commands.common import app, opened, out

__all__ = ["serve"]


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the reader at http://HOST:PORT and, unless crawl_in_server is off, keep crawling on schedule."""
    import uvicorn

    from broadsheet.web import create_app

    with opened() as (settings, store):
        web = create_app(settings, store=store)
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
        out.print(f"broadsheet is serving {settings.home.resolve()} at http://{shown}:{port}/")
        if not settings.crawl_in_server:
            out.print(
                "the crawl scheduler is off (crawl_in_server = false); run `broadsheet crawl` beside it"
            )
        uvicorn.run(web, host=host, port=port, log_level=settings.log_level.lower(), server_header=False)
