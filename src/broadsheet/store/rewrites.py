"""SQL for the optional LLM's rewrites (schema.rewrites): what is waiting to be written, and what was.

Two subjects live here: a story's `brief` (written from the brief's agreed points) and a reader's `answer` to
a question about a story (from the sentences the extractive answer found, stored with the request). An
article's written summary is an enrichment row instead (step "written", store/enrichments.py): it is read
with the article's other enrichments and goes with them when the article's text changes. Whether a row is
current is decided by its `version` and `source_hash` against what it would be written from now; nothing is
deleted when its source changes, so the page shows the extracted text until the rewrite is redone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine, String, and_, cast, delete, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from broadsheet.store.schema import articles, enrichments, rewrites, stories, story_briefs

__all__ = ["WRITTEN", "RewriteStore", "StoredRewrite", "Subject"]

Subject = Literal["brief", "answer"]
WRITTEN = "written"  # the enrichment step that holds an article's written summary


@dataclass(frozen=True, slots=True)
class StoredRewrite:
    subject: Subject
    subject_id: int
    question: str
    status: str  # pending | done | failed
    version: str
    source_hash: str
    sources: list[Any]
    data: dict[str, Any]
    requested_at: datetime
    done_at: datetime | None


def _row(row: Any) -> StoredRewrite:
    return StoredRewrite(
        row.subject,
        row.subject_id,
        row.question,
        row.status,
        row.version,
        row.source_hash,
        json.loads(row.sources),
        json.loads(row.data),
        row.requested_at,
        row.done_at,
    )


def _upsert(engine: Engine, values: dict[str, Any], on_conflict: dict[str, Any]) -> None:
    keys = ["subject", "subject_id", "question"]
    dialect = engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(rewrites).values(**values)
    statement = statement.on_conflict_do_update(index_elements=keys, set_=on_conflict)
    with engine.begin() as conn:
        conn.execute(statement)


class RewriteStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, subject: Subject, subject_id: int, question: str = "") -> StoredRewrite | None:
        query = select(rewrites).where(
            rewrites.c.subject == subject,
            rewrites.c.subject_id == subject_id,
            rewrites.c.question == question,
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _row(row) if row is not None else None

    def save(
        self,
        subject: Subject,
        subject_id: int,
        *,
        version: str,
        source_hash: str,
        status: str,
        data: dict[str, Any],
        now: datetime,
        question: str = "",
        sources: Sequence[Any] = (),
    ) -> None:
        """Store a finished rewrite ('done') or why there is none ('failed'), replacing what was there."""
        values = {
            "subject": subject,
            "subject_id": subject_id,
            "question": question,
            "status": status,
            "version": version,
            "source_hash": source_hash,
            "sources": json.dumps(list(sources), ensure_ascii=False),
            "data": json.dumps(data, ensure_ascii=False),
            "requested_at": now,
            "done_at": now,
        }
        changed = {k: v for k, v in values.items() if k not in ("subject", "subject_id", "question")}
        _upsert(self.engine, values, changed)

    def request_answer(
        self,
        story_id: int,
        question: str,
        *,
        version: str,
        source_hash: str,
        sources: Sequence[Any],
        asked: str,
        now: datetime,
        max_pending: int,
    ) -> bool:
        """Ask for the answer to `question` (normalised; `asked` as the reader wrote it) to be written from
        `sources`. False when the queue
        already holds `max_pending` answers: the reader keeps the extracted answer. A request already
        waiting, or already answered from the same sources, is left as it is (True)."""
        with self.engine.connect() as conn:
            waiting = conn.execute(
                select(func.count()).select_from(rewrites).where(rewrites.c.status == "pending")
            ).scalar_one()
        if waiting >= max_pending:
            return False
        values = {
            "subject": "answer",
            "subject_id": story_id,
            "question": question,
            "status": "pending",
            "version": version,
            "source_hash": source_hash,
            "sources": json.dumps(list(sources), ensure_ascii=False),
            "data": json.dumps({"asked": asked}, ensure_ascii=False),
            "requested_at": now,
            "done_at": None,
        }
        changed = {k: v for k, v in values.items() if k not in ("subject", "subject_id", "question")}
        _upsert(self.engine, values, changed)
        return True

    def pending_answers(self, limit: int) -> list[StoredRewrite]:
        """Questions waiting for a written answer, the longest-waiting first."""
        query = (
            select(rewrites)
            .where(rewrites.c.status == "pending")
            .order_by(rewrites.c.requested_at, rewrites.c.subject_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_row(row) for row in conn.execute(query)]

    def stale_summaries(self, prefix: str, limit: int) -> list[tuple[int, str, str]]:
        """(article id, keypoints version, content hash) of articles whose key points are current and whose written
        summary (the enrichment step "written") is missing, or was written by another model, prompt or key
        points version, or from other text: the newest first. One that failed for the same sources is not
        tried again."""
        keypoints = enrichments.alias("keypoints")
        written = enrichments.alias("written")
        version = literal(prefix, String) + literal("|", String) + keypoints.c.version
        query = (
            select(articles.c.id, keypoints.c.version, articles.c.content_hash)
            .select_from(
                articles.join(
                    keypoints, and_(keypoints.c.article_id == articles.c.id, keypoints.c.step == "keypoints")
                ).outerjoin(written, and_(written.c.article_id == articles.c.id, written.c.step == WRITTEN))
            )
            .where(
                keypoints.c.content_hash == articles.c.content_hash,
                or_(
                    written.c.article_id.is_(None),
                    written.c.version != version,
                    written.c.content_hash != articles.c.content_hash,
                ),
            )
            .order_by(articles.c.sort_time.desc(), articles.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.id, row.version, row.content_hash) for row in conn.execute(query)]

    def stale_briefs(self, prefix: str, limit: int) -> list[int]:
        """Stories whose brief was built since its written brief (or has none): the most recently active
        first."""
        done = rewrites.alias("done")
        version = literal(prefix, String) + literal("|", String) + story_briefs.c.version
        query = (
            select(story_briefs.c.story_id)
            .select_from(
                story_briefs.join(stories, stories.c.id == story_briefs.c.story_id).outerjoin(
                    done,
                    and_(
                        done.c.subject == "brief",
                        done.c.subject_id == story_briefs.c.story_id,
                        done.c.question == "",
                    ),
                )
            )
            .where(
                stories.c.status != "merged",
                or_(
                    done.c.subject_id.is_(None),
                    done.c.version != version,
                    done.c.source_hash != cast(story_briefs.c.article_count, String),
                ),
            )
            .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [row.story_id for row in conn.execute(query)]

    def texts(self, article_ids: Sequence[int]) -> dict[int, str]:
        """The stored text of each article: what a written claim's citations are checked against."""
        if not article_ids:
            return {}
        query = select(articles.c.id, articles.c.text).where(articles.c.id.in_(sorted(set(article_ids))))
        with self.engine.connect() as conn:
            return {row.id: row.text for row in conn.execute(query)}

    def forget_answers(self, before: datetime) -> int:
        """Delete written answers (and failed ones) older than `before`; returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(rewrites).where(
                    rewrites.c.subject == "answer",
                    rewrites.c.status != "pending",
                    rewrites.c.requested_at < before,
                )
            )
        return int(result.rowcount or 0)

    def requeue_failed(self) -> int:
        """Make every failed rewrite stale, so the next round tries it again (after a model change that
        kept its name, say); returns how many."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(rewrites).where(rewrites.c.status == "failed").values(source_hash="")
            )
        return int(result.rowcount or 0)
