"""SQL for enrichment: what each step made of each article (`enrichments`), the entities (`article_entities`),
the merged tags, the article's language, topic and kind, and the stories' topics that follow from them.

A step's row remembers the version of the step and the content hash it was made from; a row that no longer
matches either is stale and is redone. Reading back (`ai_view`) keeps only what can still be traced: a point
or summary sentence whose text is not in the article's stored text is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, delete, exists, func, insert, or_, select, update

from broadsheet.models import AIView, Cited, EntityRef, Point
from broadsheet.slugs import slugify
from broadsheet.store.articles import tag_rows
from broadsheet.store.prepared import Prepared
from broadsheet.store.schema import article_entities, article_tags, articles, enrichments
from broadsheet.store.stories import refresh_topics

__all__ = ["EnrichInput", "EnrichOutput", "EnrichmentStore", "ai_view", "ai_views"]


@dataclass(frozen=True, slots=True)
class EnrichInput:
    """What the enrichment steps read of a stored article."""

    id: int
    url: str
    title: str
    text: str
    description: str
    author: str
    lang: str
    section: str
    genre: str
    tags: tuple[str, ...]  # the publisher's
    content_hash: str
    sort_time: datetime
    duplicate_of: int | None


@dataclass(slots=True)
class EnrichOutput:
    """What a run made of one article. `done` maps each step that ran to its JSON data (stored with the
    step's version, given to `save`); the other fields are set by the steps that own them and left None when
    that step did not run."""

    article_id: int
    content_hash: str
    sort_time: datetime
    done: dict[str, dict[str, Any]] = field(default_factory=dict)
    lang: str | None = None
    topic: str | None = None
    kind: str | None = None
    entities: list[tuple[str, str, int]] | None = None  # (name, type, mentions)
    tags: list[str] | None = None  # merged: publisher's, entities, keyphrases


_INPUT = (
    articles.c.id,
    articles.c.url,
    articles.c.title,
    articles.c.text,
    articles.c.description,
    articles.c.author,
    articles.c.lang,
    articles.c.section,
    articles.c.genre,
    articles.c.tags,
    articles.c.content_hash,
    articles.c.sort_time,
    articles.c.duplicate_of,
)


def _input(row: Any) -> EnrichInput:
    return EnrichInput(
        row.id,
        row.url,
        row.title,
        row.text,
        row.description,
        row.author,
        row.lang,
        row.section,
        row.genre,
        tuple(json.loads(row.tags or "[]")),
        row.content_hash,
        row.sort_time,
        row.duplicate_of,
    )


def _fresh(step: str, version: str) -> Any:
    """True where the article has an up-to-date row for `step`."""
    return exists().where(
        enrichments.c.article_id == articles.c.id,
        enrichments.c.step == step,
        enrichments.c.version == version,
        enrichments.c.content_hash == articles.c.content_hash,
    )


class EnrichmentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def pending(
        self,
        versions: Mapping[str, str],
        *,
        after: int,
        limit: int,
        since: datetime | None = None,
        redo: Collection[str] = (),
    ) -> list[tuple[EnrichInput, frozenset[str]]]:
        """The next `limit` articles (by id, after `after`) that some step of `versions` (step -> version)
        has not done for their current content, each with the steps it needs. Steps in `redo` are done again
        whatever their rows say; `since` keeps to articles sorted at or after that time."""
        query = select(*_INPUT).where(articles.c.id > after)
        if since is not None:
            query = query.where(articles.c.sort_time >= since)
        if not redo:
            query = query.where(or_(*(~_fresh(step, version) for step, version in versions.items())))
        query = query.order_by(articles.c.id).limit(limit)
        with self.engine.connect() as conn:
            batch = [_input(row) for row in conn.execute(query)]
            if not batch:
                return []
            rows = conn.execute(
                select(enrichments.c.article_id, enrichments.c.step, enrichments.c.version).where(
                    enrichments.c.article_id.in_(bindparam("ids", expanding=True)),
                    enrichments.c.content_hash
                    == select(articles.c.content_hash)
                    .where(articles.c.id == enrichments.c.article_id)
                    .scalar_subquery(),
                ),
                {"ids": [a.id for a in batch]},
            )
            fresh: dict[int, set[str]] = {}
            for row in rows:
                if versions.get(row.step) == row.version:
                    fresh.setdefault(row.article_id, set()).add(row.step)
        wanted = frozenset(versions)
        forced = frozenset(redo) & wanted
        out = []
        for article in batch:
            steps = (wanted - fresh.get(article.id, set())) | forced
            if steps:
                out.append((article, steps))
        return out

    def save(self, outputs: Sequence[EnrichOutput], versions: Mapping[str, str], now: datetime) -> None:
        """Store one batch's results in one transaction, each step's with its version (step -> version); the
        stories of the articles whose topic changed take their members' majority again."""
        if not outputs:
            return
        with self.engine.begin() as conn:
            rows = [
                {
                    "article_id": o.article_id,
                    "step": step,
                    "version": versions[step],
                    "content_hash": o.content_hash,
                    "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                    "done_at": now,
                }
                for o in outputs
                for step, data in o.done.items()
            ]
            if rows:
                conn.execute(
                    delete(enrichments).where(
                        and_(
                            enrichments.c.article_id == bindparam("a"),
                            enrichments.c.step == bindparam("s"),
                        )
                    ),
                    [{"a": r["article_id"], "s": r["step"]} for r in rows],
                )
                conn.execute(insert(enrichments), rows)
            for o in outputs:
                self._columns(conn, o)
                if o.entities is not None:
                    self._entities(conn, o)
                if o.tags is not None:
                    conn.execute(delete(article_tags).where(article_tags.c.article_id == o.article_id))
                    if tags := tag_rows(o.article_id, o.tags, o.sort_time):
                        conn.execute(insert(article_tags), tags)
            topical = [o.article_id for o in outputs if o.topic is not None]
            if topical:
                stories = conn.execute(
                    select(articles.c.story_id)
                    .where(articles.c.id.in_(topical), articles.c.story_id.is_not(None))
                    .distinct()
                )
                refresh_topics(conn, [r.story_id for r in stories])

    def _columns(self, conn: Connection, o: EnrichOutput) -> None:
        values = {k: v for k, v in (("lang", o.lang), ("topic", o.topic), ("kind", o.kind)) if v is not None}
        if values:
            conn.execute(update(articles).where(articles.c.id == o.article_id).values(**values))

    def _entities(self, conn: Connection, o: EnrichOutput) -> None:
        conn.execute(delete(article_entities).where(article_entities.c.article_id == o.article_id))
        rows: dict[str, dict[str, Any]] = {}
        for name, type_, mentions in o.entities or ():
            slug = slugify(name)
            if slug in rows:  # two names that slug alike are one entity page
                rows[slug]["mentions"] += mentions
                continue
            rows[slug] = {
                "slug": slug,
                "article_id": o.article_id,
                "name": name,
                "type": type_,
                "mentions": mentions,
                "sort_time": o.sort_time,
            }
        if rows:
            conn.execute(insert(article_entities), list(rows.values()))

    def data(self, article_ids: Sequence[int], step: str) -> dict[int, dict[str, Any]]:
        """The stored JSON of `step` for each of `article_ids` that has it (up to date or not)."""
        if not article_ids:
            return {}
        query = select(enrichments.c.article_id, enrichments.c.data).where(
            enrichments.c.article_id.in_(bindparam("ids", expanding=True)), enrichments.c.step == step
        )
        with self.engine.connect() as conn:
            return {r.article_id: json.loads(r.data) for r in conn.execute(query, {"ids": list(article_ids)})}

    def views(self, texts: Mapping[int, str]) -> dict[int, AIView]:
        """`view` for many articles (article id -> its stored text)."""
        with self.engine.connect() as conn:
            return ai_views(conn, texts)

    def view(self, article_id: int, text: str) -> AIView:
        with self.engine.connect() as conn:
            return ai_view(conn, article_id, text)

    def steps_done(self) -> dict[str, int]:
        """step -> how many articles have a row for it (stale ones included): for `stats`."""
        query = select(enrichments.c.step, func.count()).group_by(enrichments.c.step)
        with self.engine.connect() as conn:
            return {row[0]: int(row[1]) for row in conn.execute(query)}


_VIEW = select(enrichments.c.article_id, enrichments.c.step, enrichments.c.data).where(
    enrichments.c.article_id.in_(bindparam("ids", expanding=True))
)


# The article page's read: a short walk down the primary key, prepared once (see store/prepared.py).
_ONE = Prepared(
    select(enrichments.c.step, enrichments.c.data).where(enrichments.c.article_id == bindparam("id"))
)


def ai_view(conn: Connection, article_id: int, text: str) -> AIView:
    """What enrichment made of the article `article_id` whose stored text is `text`."""
    steps = {row.step: json.loads(row.data) for row in _ONE.rows(conn, {"id": article_id})}
    return _view(steps, text) if steps else AIView()


def ai_views(conn: Connection, texts: Mapping[int, str]) -> dict[int, AIView]:
    """ai_view for many articles at once: article id -> its view (articles with nothing yet are left out)."""
    if not texts:
        return {}
    found: dict[int, dict[str, Any]] = {}
    for row in conn.execute(_VIEW, {"ids": list(texts)}):
        found.setdefault(row.article_id, {})[row.step] = json.loads(row.data)
    return {aid: _view(steps, texts[aid]) for aid, steps in found.items()}


def _cited(items: Iterable[Any], text: str) -> tuple[Cited, ...]:
    """The citations that still hold: well-formed, and their sentence is in the stored text."""
    out = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("sentence"), int)):
            continue
        cited = item.get("text")
        if isinstance(cited, str) and cited and cited in text:
            out.append(Cited(item["sentence"], cited))
    return tuple(out)


def _view(steps: Mapping[str, dict[str, Any]], text: str) -> AIView:
    keypoints = steps.get("keypoints", {})
    points = []
    for p in keypoints.get("key_points", ()):
        citations = _cited(p.get("citations", ()), text) if isinstance(p, dict) else ()
        if citations and isinstance(p.get("text"), str):
            points.append(Point(p["text"], citations))
    entities = tuple(
        EntityRef(e["name"], e["type"], int(e["mentions"]), slugify(e["name"]))
        for e in steps.get("entities", {}).get("entities", ())
        if isinstance(e, dict) and isinstance(e.get("name"), str) and e["name"].strip()
    )
    tags = tuple(t for t in steps.get("tags", {}).get("tags", ()) if isinstance(t, str) and t.strip())
    written = steps.get("written", {})
    return AIView(
        key_points=tuple(points),
        summary=_cited(keypoints.get("summary", ()), text),
        entities=entities,
        tags=tags,
        steps=tuple(sorted(steps)),
        written=_written(written.get("points", ()), text),
        written_by=str(written.get("model", "")),
    )


def _written(items: Iterable[Any], text: str) -> tuple[Point, ...]:
    """The written claims whose every citation still holds: a claim was checked against all it cites."""
    out = []
    for p in items:
        if not isinstance(p, dict) or not isinstance(p.get("text"), str):
            continue
        given = p.get("citations", ())
        citations = _cited(given, text) if isinstance(given, list) else ()
        if citations and len(citations) == len(given):
            out.append(Point(p["text"], citations))
    return tuple(out)
