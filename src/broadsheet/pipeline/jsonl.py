"""`broadsheet import` and `export`: articles in and out as JSON Lines.

Import validates every line first (bad lines are reported with their number and skipped), then feeds the
good ones through the same pipeline as crawled articles, oldest first, reading them back by file offset so
memory stays flat however large the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from broadsheet.dates import iso_utc
from broadsheet.errors import ImportLineError
from broadsheet.extract import sanitize_html
from broadsheet.models import AIView, Article
from broadsheet.pipeline.ingest import Ingester, IngestResult

__all__ = ["ImportReport", "ImportedArticle", "export_jsonl", "import_jsonl", "parse_line"]


class ImportedArticle(BaseModel):
    """One line of an import file. Unknown keys are ignored (so exports and data sets import as they are)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: str = Field(min_length=1)
    title: str = Field(min_length=1)
    text: str
    published: datetime
    outlet: str = Field(min_length=1)
    lang: str = ""
    author: str = ""
    image: str = ""
    html: str = ""
    tags: list[str] = Field(default_factory=list, max_length=50)
    urls: list[str] = Field(default_factory=list, max_length=100)  # other addresses of the same article

    @field_validator("url", "image")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        return [cls._http_url(url) for url in value if url.strip()]

    @field_validator("published")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def to_article(self) -> Article:
        return Article(
            url=self.url,
            canonical_url=self.url,
            title=self.title,
            text=self.text,
            html=sanitize_html(self.html, self.url) if self.html else "",
            published=self.published,
            outlet=self.outlet,
            author=self.author,
            image=self.image,
            lang=self.lang,
            tags=tuple(dict.fromkeys(t.strip() for t in self.tags if t.strip())),
        )


def parse_line(raw: bytes, line_no: int) -> ImportedArticle:
    """Validate one line; raises ImportLineError naming the line and the problem."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ImportLineError(f"not valid JSON ({exc})", line_no) from exc
    if not isinstance(data, dict):
        raise ImportLineError("expected a JSON object with url, title, text, published, outlet", line_no)
    try:
        return ImportedArticle.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}" for e in exc.errors())
        raise ImportLineError(problems, line_no) from exc


@dataclass
class ImportReport:
    lines: int = 0
    errors: list[ImportLineError] = field(default_factory=list)
    results: list[IngestResult] = field(default_factory=list)


def _scan(handle: IO[bytes], report: ImportReport) -> list[tuple[datetime, int, int]]:
    """(published, line number, offset) of every valid line."""
    order: list[tuple[datetime, int, int]] = []
    offset = 0
    for line_no, raw in enumerate(handle, start=1):
        start, offset = offset, offset + len(raw)
        if not raw.strip():
            continue
        report.lines += 1
        try:
            order.append((parse_line(raw, line_no).published, line_no, start))
        except ImportLineError as exc:
            report.errors.append(exc)
    order.sort()
    return order


def import_jsonl(
    path: Path, pipeline: Ingester, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """Import every valid line of `path` in publish order. Each article is committed on its own, so an
    interrupted import can be run again: what was stored is recognised by URL and not stored twice."""
    report = ImportReport()
    with path.open("rb") as handle:
        order = _scan(handle, report)
        for done, (_published, line_no, offset) in enumerate(order, start=1):
            handle.seek(offset)
            item = parse_line(handle.readline(), line_no)
            report.results.append(pipeline.ingest(item.to_article(), item.urls))
            if progress:
                progress(done, len(order))
    return report


def article_record(article: Article, ai: AIView | None = None) -> dict[str, Any]:
    """One exported line: the article as stored, and what enrichment made of it (empty until enriched)."""
    ai = ai or AIView()
    return {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "html": article.html,
        "published": iso_utc(article.published),
        "updated": iso_utc(article.updated),
        "outlet": article.outlet,
        "author": article.author,
        "image": article.image,
        "image_alt": article.image_alt,
        "lang": article.lang,
        "description": article.description,
        "tags": list(ai.tags or article.tags),
        "publisher_tags": list(article.tags),
        "section": article.section,
        "topic": article.topic,
        "kind": article.kind,
        "entities": [{"name": e.name, "type": e.type, "mentions": e.mentions} for e in ai.entities],
        "summary": ai.summary_text,
        "summary_sentences": [{"sentence": c.sentence, "text": c.text} for c in ai.summary],
        "key_points": [
            {"text": p.text, "citations": [{"sentence": c.sentence, "text": c.text} for c in p.citations]}
            for p in ai.key_points
        ],
        "written_summary": {
            "model": ai.written_by,
            "points": [
                {"text": p.text, "citations": [{"sentence": c.sentence, "text": c.text} for c in p.citations]}
                for p in ai.written
            ],
        }
        if ai.written
        else None,
        "source_id": article.source_id,
        "duplicate_of": article.duplicate_of,
        "story_id": article.story_id,
        "also_published_at": list(article.also_published_at),
        "urls": list(article.urls),
        "content_hash": article.content_hash,
        "extraction_note": article.extraction_note,
    }


Views = Callable[[Mapping[int, str]], Mapping[int, AIView]]


def export_jsonl(articles: Iterator[Article], out: IO[str], views: Views | None = None) -> int:
    """Write each article as one line; `views` (article id -> text, to what enrichment made of each) is
    asked a batch at a time."""
    count = 0
    for batch in _batches(articles, 500):
        found = views({a.id: a.text for a in batch if a.id is not None}) if views else {}
        for article in batch:
            record = article_record(article, found.get(article.id or 0))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def _batches(items: Iterator[Article], size: int) -> Iterator[list[Article]]:
    batch: list[Article] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
