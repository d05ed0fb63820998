"""Steps over stored articles: the interface every such step offers the pipeline, and how one is run.

A step (stories today; summaries, entities and topics next) works off the articles stored since it last ran,
in batches, after each crawl pass and after an import. It owns its own work and its own record of what is
done; this module owns only the contract and the rule that a failing step loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from broadsheet.errors import BroadsheetError
from broadsheet.pipeline.report import StepTally

__all__ = ["BACKGROUND_BATCHES", "Progress", "Step", "run_step"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total or 0 when unknown)
# Batches in one round of a step beside the crawl (the briefs: 16 stories, seconds of work), so that stopping
# waits for little; the rounds follow each other while there is work. The LLM's rewrites ignore it and are
# bounded by their own time (llm_seconds_per_round).
BACKGROUND_BATCHES = 1


class Step(Protocol):
    @property
    def name(self) -> str:
        """A word for summaries and logs ("stories")."""
        ...

    def run(self, progress: Progress | None = None, max_batches: int | None = None) -> StepTally:
        """Work off what is waiting (at most `max_batches` batches, or all). While another process does this
        step, do nothing and say who in the tally's `busy`."""
        ...


def run_step(step: Step, max_batches: int | None) -> tuple[StepTally | None, str]:
    """(tally, '') when the step ran, (None, why) when it failed: the articles it did not reach are stored
    and wait for its next run, so a failure is reported, never raised."""
    try:
        return step.run(None, max_batches), ""
    except BroadsheetError as exc:
        log.warning("the %s step failed: %s", step.name, exc)
        return None, str(exc)
    except Exception as exc:  # whatever went wrong, the crawl goes on; the reason is reported and logged
        log.exception("the %s step failed", step.name)
        return None, f"{type(exc).__name__}: {exc}"
