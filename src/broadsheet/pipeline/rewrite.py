"""The optional LLM, in the background: rewrites each article's summary, each story's brief and the answers
readers asked for, from the sentences the extractive steps chose, through enrich.llm (which checks every claim
against what it cites). Off unless the `llm_url` setting names a server.

A rewrite takes seconds to tens of seconds on a CPU, so none runs on a request or in a crawl pass: the
crawler runs this step beside its passes (`Crawler.background`), a round at a time, each round bounded by
`llm_seconds_per_round`; `broadsheet rewrite` runs rounds from the command line. Readers see the extracted
text until a rewrite is stored, and whenever one fails. The order of a round: questions readers are waiting
on, then the briefs of the most active stories, then the newest articles' summaries.

A server that cannot be reached, times out or refuses ends the round (the next one tries again); a reply
whose claims do not hold up is stored as failed, so the same sentences are not sent again.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from broadsheet.clock import utcnow
from broadsheet.config import Settings
from broadsheet.enrich import Answer, Grounded, LLMConfig, Rewrite, Task, rewrite
from broadsheet.store import WRITTEN, EnrichOutput, Store, StoredRewrite, Subject
from broadsheet.text import collapse_whitespace

__all__ = [
    "REWRITE_VERSION",
    "RewriteTally",
    "Rewriter",
    "WrittenAnswer",
    "WrittenBrief",
    "brief_sources",
    "holding",
    "llm_config",
    "normalise_question",
    "source_hash",
    "story_points",
    "summary_points",
    "summary_sources",
    "written_answer",
    "written_brief",
]

log = logging.getLogger(__name__)

REWRITE_VERSION = "rewrite/1"  # the prompt and the checks (enrich.llm): change it when they change
MAX_SUMMARY_SENTENCES = 8
MAX_BRIEF_POINTS = 8
MAX_CLAIMS = 4
MAX_PENDING = 50  # questions waiting for a written answer; past it, readers keep the extracted answer
KEEP_ANSWERS = timedelta(days=30)
BATCH = 8


def llm_config(settings: Settings) -> LLMConfig | None:
    """The LLM server the settings name, or None when the optional LLM is off."""
    if not settings.llm_url:
        return None
    return LLMConfig(
        base_url=settings.llm_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key.get_secret_value(),
        timeout=settings.llm_timeout,
    )


def rewrite_prefix(settings: Settings) -> str:
    """The version of everything this model writes: the prompt's and the model's."""
    return f"{REWRITE_VERSION}:{settings.llm_model}"


def normalise_question(question: str) -> str:
    """A question as it is looked up: the same words in another case or spacing are the same question."""
    return collapse_whitespace(question).strip().rstrip("?").strip().casefold()


def source_hash(texts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


# --- what a rewrite is written from, and what it becomes (pure) ----------------------------------------------


def summary_sources(keypoints: dict[str, Any]) -> list[dict[str, Any]]:
    """The sentences an article's summary is written from: those its key points and extracted summary
    cite ({sentence, text}), in text order, at most MAX_SUMMARY_SENTENCES."""
    found: dict[int, str] = {}
    cited = [c for p in keypoints.get("key_points", ()) for c in p.get("citations", ())]
    for item in [*keypoints.get("summary", ()), *cited]:
        if (
            isinstance(item, dict)
            and isinstance(item.get("sentence"), int)
            and isinstance(item.get("text"), str)
        ):
            found.setdefault(item["sentence"], item["text"])
    first = sorted(found)[:MAX_SUMMARY_SENTENCES]
    return [{"sentence": index, "text": found[index]} for index in first]


def summary_points(claims: Sequence[Grounded], sources: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked claims as key points: each cites the article's sentences (`sentence`, `text`) it was checked
    against."""
    return [{"text": c.text, "citations": [dict(sources[i]) for i in c.cites]} for c in claims]


def brief_sources(brief: dict[str, Any]) -> list[dict[str, Any]]:
    """The points a story's written brief comes from, at most MAX_BRIEF_POINTS: the brief's agreed points
    (each with the sentences of several outlets that carry it), then what only one outlet reports, taken
    from each outlet in turn."""
    agreed = [p for p in brief.get("agreed", ()) if isinstance(p, dict)]
    own = [[p for p in points if isinstance(p, dict)] for points in (brief.get("only") or {}).values()]
    in_turn = [
        points[depth]
        for depth in range(max(map(len, own), default=0))
        for points in own
        if depth < len(points)
    ]
    return (agreed + in_turn)[:MAX_BRIEF_POINTS]


def story_points(claims: Sequence[Grounded], sources: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checked claims as brief points: each cites every outlet sentence of the points it was checked
    against ({article_id, outlet, sentence, text}), once."""
    points = []
    for claim in claims:
        citations: list[dict[str, Any]] = []
        for index in claim.cites:
            source = sources[index]
            for citation in source.get("citations") or [source]:
                if citation not in citations:
                    citations.append(dict(citation))
        points.append({"text": claim.text, "citations": citations})
    return points


def answer_sources(answer: Answer) -> list[dict[str, Any]]:
    """The sentences the extracted answer found, as a written answer cites them."""
    return [
        {"article_id": c.article_id, "outlet": c.outlet, "sentence": c.sentence, "text": c.text}
        for c in answer.passages
    ]


def _texts(sources: Sequence[dict[str, Any]]) -> list[str]:
    return [str(s.get("text", "")) for s in sources]


# --- on a request: what was written, if it still holds ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WrittenAnswer:
    """What the page shows beside an extracted answer: the written one (points citing outlets' sentences)
    when it is ready, or whether one is being written."""

    points: tuple[dict[str, Any], ...] = ()
    model: str = ""
    pending: bool = False


@dataclass(frozen=True, slots=True)
class WrittenBrief:
    """A story's brief as the LLM wrote it: points citing outlets' sentences, from `article_count` articles."""

    points: tuple[dict[str, Any], ...]
    model: str
    article_count: int


def holding(store: Store, points: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """The written points whose every citation is still a sentence of its article's stored text (a point was
    checked against all it cites); points of another shape are dropped."""
    wanted = [p for p in points if isinstance(p, dict) and isinstance(p.get("text"), str)]
    ids = [c.get("article_id") for p in wanted for c in p.get("citations") or () if isinstance(c, dict)]
    texts = store.rewrites.texts([i for i in ids if isinstance(i, int)])

    def holds(citation: Any) -> bool:
        if (
            not isinstance(citation, dict)
            or not isinstance(citation.get("text"), str)
            or not citation["text"]
        ):
            return False
        article_id = citation.get("article_id")
        return isinstance(article_id, int) and citation["text"] in texts.get(article_id, "")

    return tuple(p for p in wanted if p.get("citations") and all(holds(c) for c in p["citations"]))


def written_brief(store: Store, settings: Settings, story_id: int) -> WrittenBrief | None:
    """The story's written brief, when the LLM is on for briefs and what it wrote still holds."""
    if llm_config(settings) is None or "brief" not in settings.llm_rewrite:
        return None
    stored = store.rewrites.get("brief", story_id)
    if stored is None or stored.status != "done":
        return None
    points = holding(store, stored.data.get("points", ()))
    if not points:
        return None
    return WrittenBrief(points, str(stored.data.get("model", "")), int(stored.data.get("article_count", 0)))


def written_answer(
    store: Store, settings: Settings, story_id: int, question: str, answer: Answer, now: datetime
) -> WrittenAnswer:
    """The written answer to `question` from the sentences of `answer`, or a request for one, which the
    background rewriter takes up. Nothing when the LLM is off, answers are not rewritten, or the coverage
    does not say (a model is never asked to answer from nothing)."""
    if llm_config(settings) is None or "answer" not in settings.llm_rewrite or not answer.found:
        return WrittenAnswer()
    key = normalise_question(question)
    sources = answer_sources(answer)
    digest = source_hash(_texts(sources))
    version = rewrite_prefix(settings)
    stored = store.rewrites.get("answer", story_id, key)
    if stored is not None and stored.version == version and stored.source_hash == digest:
        if stored.status == "done":
            return WrittenAnswer(
                holding(store, stored.data.get("points", ())), str(stored.data.get("model", ""))
            )
        return WrittenAnswer(pending=stored.status == "pending")
    queued = store.rewrites.request_answer(
        story_id,
        key,
        version=version,
        source_hash=digest,
        sources=sources,
        asked=question,
        now=now,
        max_pending=MAX_PENDING,
    )
    return WrittenAnswer(pending=queued)


# --- the step ----------------------------------------------------------------------------------------------


@dataclass
class RewriteTally:
    articles: int = 0  # rewrites stored (named for the Step protocol's tally)
    summaries: int = 0
    briefs: int = 0
    answers: int = 0
    fell_back: int = 0  # stored as failed: the claims did not hold up
    seconds: float = 0.0
    busy: str = ""
    failed: list[str] = field(default_factory=list)  # the server's faults, which end a round

    def summary(self) -> str:
        line = (
            f"{self.summaries} summaries, {self.briefs} briefs and {self.answers} answers written by the LLM "
            f"in {self.seconds:.1f} s"
        )
        if self.fell_back:
            line += f"; {self.fell_back} kept the extracted text (claims did not hold up)"
        if self.failed:
            line += f"; stopped: {self.failed[-1]}"
        return line


class _ServerDown(Exception):
    """The LLM server failed, not the model: the round ends and the next one tries again."""


class Rewriter:
    """The rewrite step (a pipeline.steps.Step), run in the background. Needs no lease: a rewrite done twice
    is stored twice, the second replacing the first."""

    name = "rewrite"

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        client: httpx.Client | None = None,
    ) -> None:
        config = llm_config(settings)
        if config is None:
            raise ValueError("the rewrite step needs the llm_url setting")
        self.store = store
        self.settings = settings
        self.config = config
        self.clock = clock
        self.prefix = rewrite_prefix(settings)
        self.tasks = frozenset(settings.llm_rewrite)
        self._client = client

    def run(
        self, progress: Callable[[int, int], None] | None = None, max_batches: int | None = None
    ) -> RewriteTally:
        """One round: what is waiting, in order, until nothing is or `llm_seconds_per_round` has passed
        (`max_batches` does not apply: the time does)."""
        tally = RewriteTally()
        started = time.perf_counter()
        deadline = started + self.settings.llm_seconds_per_round
        client = self._client or httpx.Client()
        try:
            self.store.rewrites.forget_answers(self.clock() - KEEP_ANSWERS)
            for work in (self._answers, self._briefs, self._summaries):
                if not work(client, tally, deadline):
                    break
                if progress is not None:
                    progress(tally.articles, 0)
        except _ServerDown as down:
            tally.failed.append(str(down))
        finally:
            if self._client is None:
                client.close()
            tally.seconds = time.perf_counter() - started
        return tally

    def _write(
        self, client: httpx.Client, task: Task, sources: Sequence[dict[str, Any]], question: str = ""
    ) -> Rewrite:
        result = rewrite(
            self.config, task, _texts(sources), question=question, max_claims=MAX_CLAIMS, client=client
        )
        if result.transient:
            raise _ServerDown(result.reason)
        return result

    def _answers(self, client: httpx.Client, tally: RewriteTally, deadline: float) -> bool:
        """Questions readers asked; False when the round's time ran out."""
        done: set[tuple[int, str]] = set()
        while time.perf_counter() < deadline:
            waiting = [
                r
                for r in self.store.rewrites.pending_answers(BATCH)
                if (r.subject_id, r.question) not in done
            ]
            if not waiting:
                return True
            for row in waiting:
                if time.perf_counter() >= deadline:
                    return False
                done.add((row.subject_id, row.question))
                self._answer(client, row, tally)
        return False

    def _answer(self, client: httpx.Client, row: StoredRewrite, tally: RewriteTally) -> None:
        cited = [s for s in row.sources if isinstance(s, dict)]
        question = str(row.data.get("asked") or row.question)
        if "answer" not in self.tasks or row.version != self.prefix:
            result = Rewrite((), used_llm=False, reason="answers are not rewritten by this model")
        else:
            result = self._write(client, "answer", cited, question)
        self._store(tally, "answer", row.subject_id, result, story_points(result.claims, cited),
                    row.source_hash, question=row.question, sources=row.sources)  # fmt: skip

    def _briefs(self, client: httpx.Client, tally: RewriteTally, deadline: float) -> bool:
        if "brief" not in self.tasks:
            return True
        tried: set[int] = set()
        while time.perf_counter() < deadline:
            stale = [
                s for s in self.store.rewrites.stale_briefs(self.prefix, BATCH + len(tried)) if s not in tried
            ]
            if not stale:
                return True
            for story_id in stale[:BATCH]:
                if time.perf_counter() >= deadline:
                    return False
                tried.add(story_id)
                stored = self.store.briefs.get(story_id)
                if stored is None:
                    continue
                sources = brief_sources(stored.data)
                digest = str(stored.article_count)
                result = (
                    self._write(client, "brief", sources)
                    if len(sources) >= 2
                    else Rewrite(
                        (), used_llm=False, reason="fewer than two points agreed: nothing to rewrite"
                    )
                )
                self._store(tally, "brief", story_id, result, story_points(result.claims, sources), digest,
                            version=f"{self.prefix}|{stored.version}",
                            extra={"article_count": stored.article_count})  # fmt: skip
        return False

    def _summaries(self, client: httpx.Client, tally: RewriteTally, deadline: float) -> bool:
        if "summary" not in self.tasks:
            return True
        tried: set[int] = set()
        while time.perf_counter() < deadline:
            stale = [
                row
                for row in self.store.rewrites.stale_summaries(self.prefix, BATCH + len(tried))
                if row[0] not in tried
            ]
            if not stale:
                return True
            keypoints = self.store.enrichments.data([a for a, _, _ in stale[:BATCH]], "keypoints")
            for article_id, kp_version, content_hash in stale[:BATCH]:
                if time.perf_counter() >= deadline:
                    return False
                tried.add(article_id)
                sources = summary_sources(keypoints.get(article_id, {}))
                result = (
                    self._write(client, "summary", sources)
                    if len(sources) >= 2
                    else Rewrite((), used_llm=False, reason="too few sentences to rewrite")
                )
                data = self._data(result, summary_points(result.claims, sources))
                output = EnrichOutput(article_id, content_hash, self.clock(), done={WRITTEN: data})
                self.store.enrichments.save([output], {WRITTEN: f"{self.prefix}|{kp_version}"}, self.clock())
                self._count(tally, "summary", result)
        return False

    def _data(self, result: Rewrite, points: list[dict[str, Any]]) -> dict[str, Any]:
        if result.used_llm:
            return {"model": self.settings.llm_model, "points": points, "seconds": round(result.seconds, 2)}
        return {"model": self.settings.llm_model, "error": result.reason}

    def _count(self, tally: RewriteTally, task: Task, result: Rewrite) -> None:
        if not result.used_llm:
            tally.fell_back += 1
            return
        tally.articles += 1
        if task == "summary":
            tally.summaries += 1
        elif task == "brief":
            tally.briefs += 1
        else:
            tally.answers += 1

    def _store(
        self,
        tally: RewriteTally,
        task: Task,
        story_id: int,
        result: Rewrite,
        points: list[dict[str, Any]],
        digest: str,
        *,
        version: str | None = None,
        question: str = "",
        sources: Sequence[Any] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        data = {**self._data(result, points), **(extra or {})}
        subject: Subject = "answer" if task == "answer" else "brief"
        self.store.rewrites.save(
            subject,
            story_id,
            version=version or self.prefix,
            source_hash=digest,
            status="done" if result.used_llm else "failed",
            data=data,
            now=self.clock(),
            question=question,
            sources=sources,
        )
        self._count(tally, task, result)
