"""What a crawl pass did, source by source and step by step, and the words that summarise it.

Owns the report's shape and its text; not printing (the CLI prints it, the server logs it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["CrawlProgress", "CrawlReport", "SourceReport", "StepTally"]


class StepTally(Protocol):
    """What one run of a step over stored articles did (see pipeline.steps)."""

    @property
    def articles(self) -> int: ...
    @property
    def busy(self) -> str: ...
    def summary(self) -> str: ...


class CrawlProgress(Protocol):
    def sources_total(self, count: int) -> None: ...
    def entries_found(self, count: int) -> None: ...
    def entry_done(self) -> None: ...
    def source_done(self, report: SourceReport) -> None: ...


@dataclass
class SourceReport:
    source_id: int
    url: str
    title: str
    status: str = "ok"  # ok | not_modified | error
    http_status: int | None = None  # of the source's own document, once it answered
    error: str = ""
    warning: str = ""  # the feed had errors, and what could be read of it was
    entries: int = 0
    new: int = 0
    duplicates: int = 0
    updated: int = 0
    fallbacks: int = 0  # entries stored from the feed's own content because the page failed


@dataclass
class CrawlReport:
    sources: list[SourceReport] = field(default_factory=list)
    steps: dict[str, StepTally] = field(default_factory=dict)  # by step name, the steps that ran
    step_errors: dict[str, str] = field(default_factory=dict)  # why a step failed; its articles wait

    @property
    def failed(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == "error"]

    @property
    def ok(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status != "error"]

    def total(self, name: str) -> int:
        return sum(getattr(s, name) for s in self.sources)

    def summary_lines(self) -> list[str]:
        ok, failed = self.ok, self.failed
        unchanged = sum(1 for s in ok if s.status == "not_modified")
        lines = [
            f"crawled {len(self.sources)} sources: {len(ok)} ok ({unchanged} unchanged), {len(failed)} failed; "
            f"{self.total('new')} new articles, {self.total('duplicates')} duplicates, "
            f"{self.total('updated')} updated, {self.total('fallbacks')} from feed content"
        ]
        lines += [f"  failed: source {s.source_id} {s.title or s.url}: {s.error}" for s in failed]
        lines += [f"  warning: source {s.source_id} {s.title or s.url}: {s.warning}" for s in ok if s.warning]
        for name, tally in self.steps.items():
            if tally.articles or tally.busy:
                lines.append(f"{name}: {tally.summary()}")
        for name, error in self.step_errors.items():
            lines.append(f"{name}: not updated this time ({error}); the next pass tries again")
        return lines
