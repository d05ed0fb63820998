"""The one place the pipeline is put together: every entry point (the CLI, the server, workers) builds its
ingester, crawler and steps here, from the settings.

Owns which steps run and in what order; not what any step does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.errors import ConfigError
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.pool import StartMethod
from broadsheet.pipeline.report import CrawlProgress
from broadsheet.pipeline.steps import Step
from broadsheet.store import Store

if TYPE_CHECKING:  # the crawler pulls in fetching and extraction, the stories step a model
    from broadsheet.pipeline.crawl import Crawler
    from broadsheet.pipeline.enrich import Enricher, EnrichModels
    from broadsheet.pipeline.stories import StoryBuilder

__all__ = [
    "build_background",
    "build_briefs",
    "build_crawler",
    "build_enricher",
    "build_ingester",
    "build_steps",
    "story_builder",
]


def build_ingester(settings: Settings, store: Store, clock: Callable[[], datetime] = utcnow) -> Ingester:
    """Dedupe and store, one article at a time: where crawled and imported articles enter."""
    return Ingester(store, settings, clock)


def build_steps(
    settings: Settings, store: Store, models: EnrichModels | None = None, *, briefs: bool = False
) -> list[Step]:
    """The steps a crawl pass or an import runs over the stored articles, in order: enrichment, then stories
    (which read the vectors enrichment stored). With `briefs`, then the briefs of the stories that grew,
    which otherwise are built beside the crawl (`build_background`): what `import --briefs` and
    `crawl --once --briefs` ask for. Models load on a step's first run, not here, and the steps share one
    embedder (`models`' when given)."""
    from broadsheet.pipeline.enrich import EnrichModels

    steps: list[Step] = []
    models = models or EnrichModels(settings)
    if settings.enrich:
        steps.append(build_enricher(settings, store, models=models))
    if settings.stories:
        steps.append(story_builder(settings, store, models))
    if briefs:
        steps += build_briefs(settings, store, models)
    return steps


def build_briefs(settings: Settings, store: Store, models: EnrichModels | None = None) -> list[Step]:
    """The briefs step when stories and their briefs are on (`stories`, `story_briefs`), else nothing."""
    if not (settings.stories and settings.story_briefs):
        return []
    from broadsheet.pipeline.briefs import BriefBuilder
    from broadsheet.pipeline.enrich import EnrichModels

    shared = models or EnrichModels(settings)
    return [BriefBuilder(store, lambda: shared.embedder)]


def build_background(settings: Settings, store: Store, models: EnrichModels | None = None) -> list[Step]:
    """The slow steps, which run beside the crawl rather than in its passes, so that a pass (and an import)
    never waits for them: the story briefs, which embed every sentence of a multi-outlet story's articles
    (more than half of an import's work when they ran in it), and the optional LLM's rewrites
    (pipeline/rewrite.py) when `llm_url` is set, which then rewrite the briefs built."""
    steps = build_briefs(settings, store, models)
    if settings.llm_url:
        from broadsheet.pipeline.rewrite import Rewriter

        steps.append(Rewriter(store, settings))
    return steps


def build_enricher(settings: Settings, store: Store, **options: Any) -> Enricher:
    """The enrichment step; `options` are Enricher's (only, since, redo, batch_size)."""
    from broadsheet.pipeline.enrich import Enricher

    return Enricher(store, settings, **options)


def story_builder(settings: Settings, store: Store, models: EnrichModels | None = None) -> StoryBuilder:
    """The stories step, sharing `models`' embedder when given; raises ConfigError when the `stories`
    setting is off."""
    if not settings.stories:
        raise ConfigError("stories are turned off (setting `stories`); turn them on to group or regroup them")
    from broadsheet.pipeline.stories import StoryBuilder

    if models is None:
        return StoryBuilder(store, settings)
    shared = models
    return StoryBuilder(store, settings, load_embedder=lambda: shared.embedder)


def build_crawler(
    settings: Settings,
    store: Store,
    *,
    progress: CrawlProgress | None = None,
    start_method: StartMethod = "fork",
    clock: Callable[[], datetime] = utcnow,
) -> Crawler:
    """The crawler with its ingester and steps. A process with threads of its own (the web server) passes
    start_method="forkserver", so extraction workers start from a clean process."""
    from broadsheet.pipeline.crawl import Crawler
    from broadsheet.pipeline.enrich import EnrichModels

    models = EnrichModels(settings)  # one embedder for the passes' steps and the briefs beside them
    return Crawler(
        settings,
        store,
        build_ingester(settings, store, clock),
        steps=build_steps(settings, store, models),
        background=build_background(settings, store, models),
        progress=progress,
        clock=clock,
        start_method=start_method,
    )
