"""`broadsheet rewrite`: rounds of the optional LLM's rewrites (pipeline/rewrite.py) from the command line,
for a server that only serves, a cron job, or a first pass over a home that had no LLM."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from broadsheet.commands.common import app, err, opened, out
from broadsheet.errors import ConfigError, LLMServerError

__all__ = ["rewrite"]


@app.command()
def rewrite(
    rounds: Annotated[
        int,
        typer.Option(
            "--rounds", min=1, max=100_000, help="Stop after this many rounds (of llm_seconds_per_round)."
        ),
    ] = 1,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Try again what the model's claims failed on before.")
    ] = False,
) -> None:
    """Rewrite summaries, story briefs and asked-for answers with the optional LLM (settings llm_url and
    llm_model), from their cited sentences only; stops early when nothing is left to do."""
    from broadsheet.pipeline.rewrite import Rewriter

    with opened() as (settings, store):
        if not settings.llm_url:
            raise ConfigError(
                "the optional LLM is off: set llm_url (an OpenAI-compatible server, e.g. "
                "http://127.0.0.1:8080/v1) and llm_model in broadsheet.toml or as BROADSHEET_LLM_URL and "
                "BROADSHEET_LLM_MODEL"
            )
        if retry_failed:
            err.print(f"{store.rewrites.requeue_failed()} failed story rewrites will be tried again")
        step = Rewriter(store, settings)
        started = time.perf_counter()
        for number in range(1, rounds + 1):
            tally = step.run()
            out.print(f"rewrite round {number}: {tally.summary()}")
            if tally.failed:
                raise LLMServerError(f"{tally.failed[-1]}; what was written so far is kept")
            if tally.articles + tally.fell_back == 0:
                break
    out.print(f"rewrite: {time.perf_counter() - started:.1f} s in all")
