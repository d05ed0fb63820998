"""SQL for story briefs and the sentence vectors they and "ask about this story" are made from.

A brief is stored with the member count it was built from: a story that has grown since is rebuilt by the
briefs step (pipeline/briefs.py), and until then the stored one is shown, saying how many articles it covers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, Select, and_, bindparam, delete, func, insert, or_, select

from broadsheet.store.schema import articles, sentence_vectors, stories, story_briefs

__all__ = ["BriefStore", "MemberText", "StoredBrief"]


@dataclass(frozen=True, slots=True)
class MemberText:
    """What a brief or an answer reads of one member article."""

    id: int
    outlet: str
    published: datetime | None
    title: str
    text: str
    content_hash: str


@dataclass(frozen=True, slots=True)
class StoredBrief:
    story_id: int
    article_count: int  # of the story when the brief was built
    built_at: datetime
    data: dict[str, Any]
    version: str = ""


def _encode(vectors: np.ndarray) -> bytes:
    rows, dim = vectors.shape if vectors.size else (0, 0)
    return np.asarray([rows, dim], dtype="<u4").tobytes() + np.asarray(vectors, dtype="<f2").tobytes()


def _decode(blob: bytes) -> np.ndarray:
    rows, dim = np.frombuffer(blob[:8], dtype="<u4")
    return np.frombuffer(blob[8:], dtype="<f2").reshape(int(rows), int(dim)).astype(np.float32)


class BriefStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def stale(self, version: str, limit: int, min_outlets: int = 2) -> list[int]:
        """Stories covered by at least `min_outlets` outlets whose brief is missing, older than the story
        (fewer members) or of another version: the most recently active first."""
        query = (
            _stale(select(stories.c.id), version, min_outlets)
            .order_by(stories.c.last_seen.desc(), stories.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [row.id for row in conn.execute(query)]

    def stale_count(self, version: str, min_outlets: int = 2) -> int:
        """How many stories `stale` would give, all of them."""
        with self.engine.connect() as conn:
            return int(conn.execute(_stale(select(func.count()), version, min_outlets)).scalar_one())

    def members(self, story_id: int, limit: int) -> tuple[int, list[MemberText]]:
        """(the story's article count, up to `limit` of its original articles: the earliest first, then the
        newest). Copies are left out: their sentences are their original's."""
        with self.engine.connect() as conn:
            count = conn.execute(select(stories.c.article_count).where(stories.c.id == story_id)).scalar()
            columns = (
                articles.c.id,
                articles.c.outlet,
                articles.c.published,
                articles.c.title,
                articles.c.text,
                articles.c.content_hash,
            )
            mine = select(*columns).where(articles.c.story_id == story_id, articles.c.duplicate_of.is_(None))
            first = list(
                conn.execute(mine.order_by(articles.c.sort_time, articles.c.id).limit(limit // 2 or 1))
            )
            newest = conn.execute(
                mine.order_by(articles.c.sort_time.desc(), articles.c.id.desc()).limit(limit)
            )
            seen = {r.id for r in first}
            rows = first + [r for r in newest if r.id not in seen][: limit - len(first)]
        return int(count or 0), [MemberText(*row) for row in rows]

    def sentence_vectors(self, members: Sequence[MemberText], model: str) -> dict[int, np.ndarray]:
        """Stored sentence vectors of `members` made by `model` from their current text."""
        if not members:
            return {}
        hashes = {m.id: m.content_hash for m in members}
        query = select(sentence_vectors).where(
            sentence_vectors.c.article_id.in_(bindparam("ids", expanding=True)),
            sentence_vectors.c.model == model,
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query, {"ids": list(hashes)})
            return {r.article_id: _decode(r.vectors) for r in rows if hashes[r.article_id] == r.content_hash}

    def save_sentence_vectors(self, model: str, items: Sequence[tuple[MemberText, np.ndarray]]) -> None:
        if not items:
            return
        rows = [
            {"article_id": m.id, "model": model, "content_hash": m.content_hash, "vectors": _encode(v)}
            for m, v in items
        ]
        with self.engine.begin() as conn:
            conn.execute(
                delete(sentence_vectors).where(sentence_vectors.c.article_id.in_([m.id for m, _ in items]))
            )
            conn.execute(insert(sentence_vectors), rows)

    def save(
        self, story_id: int, article_count: int, version: str, data: dict[str, Any], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(story_briefs).where(story_briefs.c.story_id == story_id))
            conn.execute(
                insert(story_briefs).values(
                    story_id=story_id,
                    article_count=article_count,
                    version=version,
                    built_at=now,
                    data=json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                )
            )

    def get(self, story_id: int) -> StoredBrief | None:
        query = select(story_briefs).where(and_(story_briefs.c.story_id == story_id))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return StoredBrief(row.story_id, row.article_count, row.built_at, json.loads(row.data), row.version)


def _stale(query: Select[Any], version: str, min_outlets: int) -> Select[Any]:
    """`query` over the stories whose brief is missing, out of date or of another version (see `stale`)."""
    return query.select_from(stories.outerjoin(story_briefs, story_briefs.c.story_id == stories.c.id)).where(
        stories.c.status != "merged",
        stories.c.outlet_count >= min_outlets,
        or_(
            story_briefs.c.story_id.is_(None),
            story_briefs.c.article_count != stories.c.article_count,
            story_briefs.c.version != version,
        ),
    )
