"""The enrichment step: works off stored articles whose enrichment is missing or stale, in batches, running
each enrichment (one module under enrich/) in a fixed order and storing a batch's results in one transaction.

Order: language first (what runs next depends on it), then key points and summary, entities, topic (from the
article's vector, stored for the stories step that runs next), kind, and tags last (they merge the publisher's
tags with the top entities and keyphrases). Each step's result is stored with its version (model and settings)
and the content it was made from, so a changed model, setting or article is redone, and `broadsheet enrich
--only STEP` redoes one step. A step that fails on an article stores the error for that article and the run
goes on: one bad article never holds up the rest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, partial
from importlib.metadata import version as package_version
from typing import Any, TypeVar

import numpy as np

from broadsheet.clock import utcnow
from broadsheet.config import ENRICH_STEPS, Settings
from broadsheet.enrich import (
    KEYPOINTS_VERSION,
    Embedder,
    Entity,
    EntityRecogniser,
    TopicClassifier,
    article_kind,
    article_tags,
    detect_language,
    digest,
    embedding_text,
    keyphrases,
    load_embedder,
    load_identifier,
    load_recogniser,
    load_topic_classifier,
    split_sentences,
)
from broadsheet.errors import ConfigError
from broadsheet.store import EnrichInput, EnrichOutput, Store
from broadsheet.text import primary_language

__all__ = ["EnrichModels", "EnrichTally", "Enricher", "configured_embedder"]

log = logging.getLogger(__name__)
BATCH = 128  # articles per transaction: entities (on two threads) and topics run batched
TOP_ENTITIES = 4  # of an article's entities, how many may become tags
LANGUAGE_VERSION = "1"
KIND_VERSION = "1"
TAGS_VERSION = "1"
FULL_SCAN_SECONDS = 600.0  # how often a run looks again at articles below those it knows are up to date

Pending = list[tuple[EnrichInput, frozenset[str]]]
T = TypeVar("T")
# An invented article the models are first called with when they load.
WARM_UP = (
    "Warm-up: Ada Lovelace visits London",
    "Ada Lovelace met Charles Babbage in London on Monday.",
    "en",
)


@dataclass
class EnrichTally:
    articles: int = 0
    done: Counter[str] = field(default_factory=Counter)  # step -> articles it ran on
    failed: Counter[str] = field(default_factory=Counter)  # step -> articles it failed on
    seconds: dict[str, float] = field(default_factory=dict)  # step -> seconds spent
    errors: list[str] = field(default_factory=list)  # the first few failures, for the report
    busy: str = ""  # never set: enrichment needs no lease (see Enricher)

    def summary(self) -> str:
        steps = ", ".join(f"{step} {self.done[step]}" for step in ENRICH_STEPS if step in self.done)
        line = f"{self.articles} articles enriched ({steps}) in {sum(self.seconds.values()):.1f} s"
        if self.failed:
            line += "; failed: " + ", ".join(f"{step} on {n}" for step, n in self.failed.items())
        return line


def configured_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (`embedding_model`, `embedding_threads`, `models_dir`)."""
    threads = settings.embedding_threads or None
    models = settings.models_dir or settings.home / "models"
    return load_embedder(settings.embedding_model, models, threads)


class EnrichModels:
    """The models enrichment uses, each loaded on first use and once per process. The stories step takes
    its embedder from here too, so a process holds one copy."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loaded: set[str] = set()  # the steps whose models `load` has loaded
        self._embedder: Embedder | None = None
        # The crawl's steps and the briefs beside them (threads of their own) may ask at the same time.
        self._embedder_lock = threading.Lock()

    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = configured_embedder(self.settings)
            return self._embedder

    @cached_property
    def recogniser(self) -> EntityRecogniser:
        return load_recogniser()

    @cached_property
    def topics(self) -> TopicClassifier:
        return load_topic_classifier(self.embedder.name)

    def load(self, steps: Collection[str]) -> None:
        """Loads the models `steps` need that are not loaded yet, side by side, and gives each a first small
        call (which costs extra: allocations, lazy set-up), so that enrichment starts at its warm speed."""
        jobs: dict[str, Callable[[], object]] = {}
        if "language" in steps:
            jobs["language"] = load_identifier
        if {"entities", "tags"} & set(steps) and "entities" not in self.settings.enrich_skip:
            jobs["entities"] = lambda: self.recogniser.entities([WARM_UP])
        if "topic" in steps:
            jobs["topic"] = lambda: self.topics.classify(self.embedder.embed([WARM_UP[0]]), [WARM_UP[1]])
        todo = [job for name, job in jobs.items() if name not in self._loaded]
        if todo:
            with ThreadPoolExecutor(len(todo), thread_name_prefix="load") as pool:
                for loaded in [pool.submit(job) for job in todo]:
                    loaded.result()
        self._loaded.update(jobs)


class Enricher:
    """The enrichment step (a pipeline.steps.Step).

    Needs no lease: two processes enriching the same article compute the same result and the later write
    wins, so the worst case is work done twice, never wrong data."""

    name = "enrich"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        models: EnrichModels | None = None,
        *,
        batch_size: int = BATCH,
        only: Collection[str] = (),
        since: datetime | None = None,
        redo: bool = False,
    ) -> None:
        unknown = [step for step in only if step not in ENRICH_STEPS]
        if unknown:
            raise ConfigError(
                f"unknown enrichment step {unknown[0]!r}; the steps are {', '.join(ENRICH_STEPS)}"
            )
        self.store = store
        self.settings = settings
        self.models = models or EnrichModels(settings)
        self.batch_size = batch_size
        wanted = [s for s in ENRICH_STEPS if s not in settings.enrich_skip]
        self.steps = tuple(s for s in wanted if not only or s in only)
        self.since = since
        self.redo = redo
        self._clean_below = 0  # every article up to this id was up to date at the last look
        self._next_full_scan = 0.0  # monotonic time of the next scan from the first article

    def versions(self) -> dict[str, str]:
        """step -> the version its stored results must carry to count as up to date (the models those
        steps need are loaded here)."""
        steps = set(self.steps)
        self.models.load(steps)
        found: dict[str, str] = {}
        if "language" in steps:
            found["language"] = f"py3langid-{package_version('py3langid')}/{LANGUAGE_VERSION}"
        if "keypoints" in steps:
            found["keypoints"] = KEYPOINTS_VERSION
        entities = ""
        if steps & {"entities", "tags"}:  # tags take in the entities: their version follows the model's
            entities = self.models.recogniser.name if "entities" not in self.settings.enrich_skip else "none"
        if "entities" in steps:
            found["entities"] = entities
        if "topic" in steps:
            found["topic"] = self.models.topics.name
        if "kind" in steps:
            found["kind"] = KIND_VERSION
        if "tags" in steps:
            found["tags"] = f"{TAGS_VERSION}+{entities}"
        return found

    def run(
        self, progress: Callable[[int, int], None] | None = None, max_batches: int | None = None
    ) -> EnrichTally:
        """Enrich what is waiting (at most `max_batches` batches, or all), oldest id first."""
        tally = EnrichTally()
        if not self.steps:
            return tally
        versions = self.versions()
        # Articles up to _clean_below were all up to date when last looked at; only a full scan, at most every
        # FULL_SCAN_SECONDS, looks below it again (for articles whose content changed since), so a pass over a
        # large archive reads only what is new.
        full = self.redo or time.monotonic() >= self._next_full_scan
        top = self.store.articles.max_id()
        after = 0 if full else self._clean_below
        batches = 0
        finished = False
        while True:
            if max_batches is not None and batches >= max_batches:
                break
            batch = self.store.enrichments.pending(
                versions,
                after=after,
                limit=self.batch_size,
                since=self.since,
                redo=self.steps if self.redo else (),
            )
            if not batch:
                finished = True
                break
            batches += 1
            outputs = self._enrich(batch, tally)
            self.store.enrichments.save(outputs, versions, utcnow())
            after = batch[-1][0].id
            tally.articles += len(batch)
            if progress is not None:
                progress(tally.articles, 0)
        if finished and not self.redo and self.since is None:
            self._clean_below = max(self._clean_below, top)
            if full:
                self._next_full_scan = time.monotonic() + FULL_SCAN_SECONDS
        return tally

    # --- one batch ------------------------------------------------------------------------------------------

    def _enrich(self, batch: Pending, tally: EnrichTally) -> list[EnrichOutput]:
        """One batch, the steps in ENRICH_STEPS order. The embedding (ONNX) and the recogniser (whose matrix
        products run outside the GIL) work in the background while this thread runs the pure-Python steps;
        each step's seconds are this thread's, waits included, so their sum is the batch's wall-clock time."""
        outputs = {a.id: EnrichOutput(a.id, a.content_hash, a.sort_time) for a, _ in batch}
        langs = {a.id: primary_language(a.lang) for a, _ in batch}
        todo = {step: [a for a, steps in batch if step in steps] for step in ENRICH_STEPS}
        clock = _StepClock(tally)
        with ThreadPoolExecutor(2, thread_name_prefix="enrich") as background:
            with clock("topic"):
                vectors = self._start_vectors(todo["topic"], background)
            with clock("language"):
                language = partial(self._language, outputs=outputs, langs=langs)
                self._each("language", todo["language"], outputs, tally, language)
            with clock("entities"):
                found = self._start_entities(todo["entities"], langs, background)
            with clock("keypoints"):
                self._each("keypoints", todo["keypoints"], outputs, tally, _keypoints)
            with clock("kind"):
                self._each("kind", todo["kind"], outputs, tally, partial(self._kind, outputs=outputs))
            with clock("tags"):
                phrases = self._phrases(todo["tags"], langs)
            with clock("entities"):
                entities = partial(self._entities, outputs=outputs, langs=langs)
                self._batched("entities", todo["entities"], outputs, tally, entities, found)
            with clock("topic"):
                topics = partial(self._topics, outputs=outputs)
                self._batched("topic", todo["topic"], outputs, tally, topics, vectors)
            with clock("tags"):
                names = self._entity_names(todo["tags"], outputs)
                tags = partial(self._tags, outputs=outputs, phrases=phrases, entities=names)
                self._each("tags", todo["tags"], outputs, tally, tags)
        return list(outputs.values())

    def _start_vectors(
        self, items: Sequence[EnrichInput], background: ThreadPoolExecutor
    ) -> Future[dict[int, np.ndarray]] | None:
        """The vectors of the articles that have none stored, embedded in the background (the store is read
        here: it belongs to this thread)."""
        if not items:
            return None
        embedder = self.models.embedder
        stored = self.store.stories.vectors([a.id for a in items], embedder.name)
        missing = [a for a in items if a.id not in stored]
        texts = [embedding_text(a.title, a.text or a.description) for a in missing]

        def embedded() -> dict[int, np.ndarray]:
            vectors = embedder.embed(texts) if texts else np.zeros((0, embedder.dim), dtype=np.float32)
            return {a.id: vectors[i] for i, a in enumerate(missing)}

        return background.submit(embedded)

    def _start_entities(
        self, items: Sequence[EnrichInput], langs: dict[int, str], background: ThreadPoolExecutor
    ) -> Future[list[list[Entity]]] | None:
        if not items:
            return None
        recogniser = self.models.recogniser
        return background.submit(recogniser.entities, [(a.title, a.text, langs[a.id]) for a in items])

    def _phrases(
        self, items: Sequence[EnrichInput], langs: dict[int, str]
    ) -> dict[int, list[str] | Exception]:
        """Each article's keyphrases, or the error finding them (the tags step records it)."""
        found: dict[int, list[str] | Exception] = {}
        for a in items:
            try:
                found[a.id] = keyphrases(a.title, a.text, langs[a.id])
            except Exception as exc:  # stored as the article's tags error by _tags
                found[a.id] = exc
        return found

    def _each(
        self,
        step: str,
        todo: Sequence[EnrichInput],
        outputs: dict[int, EnrichOutput],
        tally: EnrichTally,
        work: Callable[[EnrichInput], dict[str, Any]],
    ) -> None:
        for article in todo:
            try:
                outputs[article.id].done[step] = work(article)
                tally.done[step] += 1
            except Exception as exc:  # one article's failure is stored and reported; the rest go on
                self._failed(step, article, exc, outputs, tally)

    def _batched(
        self,
        step: str,
        todo: Sequence[EnrichInput],
        outputs: dict[int, EnrichOutput],
        tally: EnrichTally,
        work: Callable[[Sequence[EnrichInput], T | None], None],
        started: Future[T] | None = None,
    ) -> None:
        """Run `work` on the whole batch, with what was `started` for it in the background; if that fails,
        on each article alone, so only the culprit fails."""
        if not todo:
            return
        try:
            work(todo, started.result() if started is not None else None)
            tally.done[step] += len(todo)
            return
        except Exception:
            if len(todo) == 1:
                raise
            log.warning("the %s step failed on a batch; retrying its articles one by one", step)
        for article in todo:
            try:
                work([article], None)
                tally.done[step] += 1
            except Exception as exc:
                self._failed(step, article, exc, outputs, tally)

    def _failed(
        self,
        step: str,
        article: EnrichInput,
        exc: Exception,
        outputs: dict[int, EnrichOutput],
        tally: EnrichTally,
    ) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        log.warning("the %s enrichment failed on article %d: %s", step, article.id, reason)
        outputs[article.id].done[step] = {"error": reason[:500]}
        tally.failed[step] += 1
        if len(tally.errors) < 5:
            tally.errors.append(f"{step} on article {article.id}: {reason}")

    # --- the steps ------------------------------------------------------------------------------------------

    def _language(
        self, a: EnrichInput, *, outputs: dict[int, EnrichOutput], langs: dict[int, str]
    ) -> dict[str, Any]:
        """The detected language wins over the declared one (page templates often declare the site's default
        language on every page); an article too short or too mixed to tell (a table of results, a one-line
        headline) keeps what its page declared, or failing that takes the site's language."""
        detected = detect_language(a.title, a.text or a.description)
        chosen = detected or primary_language(a.lang) or primary_language(self.settings.site_language)
        outputs[a.id].lang = chosen
        langs[a.id] = chosen
        return {"detected": detected, "declared": a.lang}

    def _entities(
        self,
        items: Sequence[EnrichInput],
        found: list[list[Entity]] | None,
        *,
        outputs: dict[int, EnrichOutput],
        langs: dict[int, str],
    ) -> None:
        if found is None:
            found = self.models.recogniser.entities([(a.title, a.text, langs[a.id]) for a in items])
        for a, entities in zip(items, found, strict=True):
            out = outputs[a.id]
            out.entities = [(e.name, e.type, e.mentions) for e in entities]
            data = [{"name": e.name, "type": e.type, "mentions": e.mentions} for e in entities]
            out.done["entities"] = {"entities": data}

    def _topics(
        self,
        items: Sequence[EnrichInput],
        computed: dict[int, np.ndarray] | None,
        *,
        outputs: dict[int, EnrichOutput],
    ) -> None:
        vectors = self._vectors(items, computed or {})
        texts = [f"{a.title}\n{a.text or a.description}" for a in items]  # it reads the words it needs
        for a, (topic, confidence) in zip(items, self.models.topics.classify(vectors, texts), strict=True):
            out = outputs[a.id]
            out.topic = topic
            out.done["topic"] = {"topic": topic, "confidence": round(float(confidence), 4)}

    def _vectors(self, items: Sequence[EnrichInput], computed: dict[int, np.ndarray]) -> np.ndarray:
        """The articles' title-and-lead vectors: those `computed` ahead (`_start_vectors`), else stored ones,
        else computed now; the new ones are stored, and the stories step, which runs next, reads them instead
        of embedding the articles again."""
        embedder = self.models.embedder
        found = self.store.stories.vectors([a.id for a in items if a.id not in computed], embedder.name)
        missing = [a for a in items if a.id not in computed and a.id not in found]
        if missing:
            now = embedder.embed([embedding_text(a.title, a.text or a.description) for a in missing])
            computed = {**computed, **{a.id: now[i] for i, a in enumerate(missing)}}
        self.store.stories.save_vectors(
            embedder.name, [(a.id, computed[a.id]) for a in items if a.id in computed]
        )
        found.update(computed)
        return np.stack([np.asarray(found[a.id], dtype=np.float32) for a in items])

    def _kind(self, a: EnrichInput, *, outputs: dict[int, EnrichOutput]) -> dict[str, Any]:
        kind = article_kind(
            url=a.url,
            title=a.title,
            genre=a.genre,
            section=a.section,
            tags=a.tags,
            author=a.author,
            text=a.text,
        )
        outputs[a.id].kind = kind
        return {"kind": kind}

    def _entity_names(
        self, todo: Sequence[EnrichInput], outputs: dict[int, EnrichOutput]
    ) -> dict[int, list[str]]:
        """The top entities of each article, made in this batch or stored by an earlier run."""
        names = {a.id: [e[0] for e in (outputs[a.id].entities or [])] for a in todo if outputs[a.id].entities}
        stored = self.store.enrichments.data([a.id for a in todo if a.id not in names], "entities")
        for article_id, data in stored.items():
            names[article_id] = [e["name"] for e in data.get("entities", []) if isinstance(e, dict)]
        return {k: v[:TOP_ENTITIES] for k, v in names.items()}

    def _tags(
        self,
        a: EnrichInput,
        *,
        outputs: dict[int, EnrichOutput],
        phrases: dict[int, list[str] | Exception],
        entities: dict[int, list[str]],
    ) -> dict[str, Any]:
        found = phrases[a.id]
        if isinstance(found, Exception):
            raise found
        tags = article_tags(publisher=a.tags, entities=entities.get(a.id, []), keyphrases=found)
        outputs[a.id].tags = tags
        return {"tags": tags, "keyphrases": found}


class _StepClock:
    """Adds the seconds spent in a `with clock(step):` block to the tally's seconds of that step."""

    def __init__(self, tally: EnrichTally) -> None:
        self.tally = tally

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            self.tally.seconds[step] = self.tally.seconds.get(step, 0.0) + seconds


def _keypoints(a: EnrichInput) -> dict[str, Any]:
    """Key points and summary, each citing the sentence of the stored text it is (extractive)."""
    sentences = split_sentences(a.text)
    result = digest(a.title, sentences)
    by_index = {s.index: s.text for s in sentences}
    cite = [{"sentence": p.sentence, "text": p.text} for p in result.key_points]
    return {
        "key_points": [{"text": c["text"], "citations": [c]} for c in cite],
        "summary": [{"sentence": i, "text": by_index[i]} for i in result.summary],
    }
