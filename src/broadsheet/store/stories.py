"""Stories in the database: what the clusterer decided (write side) and what the reader shows (read side).

The clusterer itself (cluster/) is pure; `pipeline/stories.py` runs it over stored articles and
hands its decisions to `StoryStore.record`, one transaction per batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard, StoryCard, StoryEvent
from broadsheet.store.cards import CARD_COLUMNS, card
from broadsheet.store.schema import articles, stories, story_events, vectors

__all__ = [
    "HALF_LIFE_HOURS",
    "STORY_COLUMNS",
    "Guard",
    "PendingArticle",
    "StoryStore",
    "StoryUpdate",
    "hotness",
    "refresh_topics",
    "related_rows",
    "story_card",
]

HALF_LIFE_HOURS = 12.0  # a story's hotness halves every this many hours without new coverage
# Of each article's text, what the clusterer reads (body terms and names): about 1 300 words, the whole of most
# news articles. 4 000 cut a tenth of ECB+'s texts short, and precision with them (0.852 against 0.879 there).
TEXT_CHARS = 8000
FIRST_OUTLETS = 5  # outlets named on a story card: the first to report
TOP_WINDOW = timedelta(hours=48)  # top stories are chosen among those with coverage this recent


def hotness(outlet_count: int, article_count: int, last_seen: datetime, now: datetime) -> float:
    """Coverage breadth x recency: each outlet counts 1, further articles a quarter each, and the sum halves
    every HALF_LIFE_HOURS since the story's latest article."""
    breadth = outlet_count + 0.25 * max(article_count - outlet_count, 0)
    hours = max((now - last_seen).total_seconds() / 3600, 0.0)
    return breadth * math.pow(0.5, hours / HALF_LIFE_HOURS)


def encode_vector(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def decode_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


@dataclass(frozen=True, slots=True)
class PendingArticle:
    """An article waiting for its story, with what the clusterer reads."""

    id: int
    title: str
    text: str  # the first TEXT_CHARS characters
    outlet_slug: str
    sort_time: datetime
    duplicate_of: int | None
    lang: str = ""  # the article's language code ("en", "pt-BR"); "" when unknown


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """A story's row as the clusterer last left it."""

    id: int
    headline_id: int
    first_seen: datetime
    last_seen: datetime
    article_count: int
    outlet_count: int
    status: str = "open"  # open | closed | merged
    merged_into: int | None = None
    centroid: np.ndarray | None = None
    related: tuple[int, ...] | None = ()  # closest other stories, closest first; None keeps the stored list


# What the clusterer reads of an article (PendingArticle's fields, in order).
_PENDING_COLUMNS = (
    articles.c.id,
    articles.c.title,
    func.substr(articles.c.text, 1, TEXT_CHARS).label("text"),
    articles.c.outlet_slug,
    articles.c.sort_time,
    articles.c.duplicate_of,
    articles.c.lang,
)

STORY_COLUMNS = (
    stories.c.id,
    stories.c.title,
    stories.c.headline_id,
    stories.c.image,
    stories.c.first_seen,
    stories.c.last_seen,
    stories.c.article_count,
    stories.c.outlet_count,
    stories.c.status,
    stories.c.merged_into,
    stories.c.topic,
)


def story_card(row: Any, now: datetime, outlets: Sequence[str] = ()) -> StoryCard:
    return StoryCard(
        id=row.id,
        title=row.title,
        headline_id=row.headline_id,
        image=row.image,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        article_count=row.article_count,
        outlet_count=row.outlet_count,
        status=row.status,
        merged_into=row.merged_into,
        hotness=hotness(row.outlet_count, row.article_count, row.last_seen, now),
        outlets=tuple(outlets),
        topic=row.topic,
    )


def refresh_topics(conn: Connection, story_ids: Iterable[int]) -> None:
    """Each story takes its members' majority topic (copies count: a story carried by many sites weighs
    more); a tie goes to the topic of the newest member, so a story that turns from sport to politics
    follows. Members without a topic yet do not vote."""
    for story_id in sorted(set(story_ids)):
        top = conn.execute(
            select(articles.c.topic)
            .where(articles.c.story_id == story_id, articles.c.topic != "")
            .group_by(articles.c.topic)
            .order_by(func.count().desc(), func.max(articles.c.sort_time).desc(), articles.c.topic)
            .limit(1)
        ).scalar()
        conn.execute(update(stories).where(stories.c.id == story_id).values(topic=top or ""))


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# Runs first inside a write's transaction and raises to undo it (the stories step checks its lease there).
Guard = Callable[[Connection], None]

_STORIES_BY_ID = select(*STORY_COLUMNS).where(stories.c.id.in_(bindparam("ids", expanding=True)))


def related_rows(conn: Connection, story_id: int, related: str | None, limit: int) -> list[Any]:
    """Rows (STORY_COLUMNS) of the stories in a story's stored `related` list (JSON ids, closest first), at
    most `limit`: a story merged since stands for the story it joined; never the story itself, never twice."""
    wanted = [int(i) for i in json.loads(related or "[]")]
    if not wanted:
        return []
    rows = {r.id: r for r in conn.execute(_STORIES_BY_ID, {"ids": wanted})}
    # Follow merges once (their targets are usually among the rows already).
    targets = [r.merged_into for r in rows.values() if r.status == "merged" and r.merged_into not in rows]
    if targets:
        rows.update({r.id: r for r in conn.execute(_STORIES_BY_ID, {"ids": targets})})
    chosen: list[Any] = []
    for sid in wanted:
        row = rows.get(sid)
        if row is not None and row.status == "merged":
            row = rows.get(row.merged_into)
        if row is not None and row.id != story_id and row.status != "merged" and row not in chosen:
            chosen.append(row)
    return chosen[:limit]


class StoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- write side -------------------------------------------------------------------------------------------

    def pending(self, limit: int) -> list[PendingArticle]:
        """Articles not yet in a story, in the order they are clustered: by sort_time, then id."""
        query = (
            select(*_PENDING_COLUMNS)
            .where(articles.c.story_id.is_(None))
            .order_by(articles.c.sort_time, articles.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [PendingArticle(*row) for row in conn.execute(query)]

    def story_of(self, article_ids: Iterable[int]) -> dict[int, int]:
        """article id -> story id, for those of `article_ids` that have one."""
        query = select(articles.c.id, articles.c.story_id).where(
            articles.c.id.in_(bindparam("ids", expanding=True)), articles.c.story_id.is_not(None)
        )
        with self.engine.connect() as conn:
            return {row.id: row.story_id for row in conn.execute(query, {"ids": list(article_ids)})}

    def vectors(self, article_ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
        query = select(vectors.c.article_id, vectors.c.vector).where(
            vectors.c.article_id.in_(bindparam("ids", expanding=True)), vectors.c.model == model
        )
        with self.engine.connect() as conn:
            return {
                r.article_id: decode_vector(r.vector) for r in conn.execute(query, {"ids": list(article_ids)})
            }

    def save_vectors(self, model: str, items: Sequence[tuple[int, np.ndarray]]) -> None:
        if not items:
            return
        rows = [{"article_id": i, "model": model, "vector": encode_vector(v)} for i, v in items]
        with self.engine.begin() as conn:
            conn.execute(
                delete(vectors).where(
                    vectors.c.article_id.in_([i for i, _ in items]), vectors.c.model == model
                )
            )
            conn.execute(insert(vectors), rows)

    def max_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(stories.c.id), 0))).scalar_one())

    def open_members(self, since: datetime) -> list[tuple[PendingArticle, int]]:
        """Members of the stories still open whose latest coverage is at or after `since`, each with its
        story id, in clustering order: what rebuilds the clusterer's window after a restart."""
        open_ids = select(stories.c.id).where(stories.c.status == "open", stories.c.last_seen >= since)
        query = (
            select(*_PENDING_COLUMNS, articles.c.story_id)
            .where(articles.c.story_id.in_(open_ids))
            .order_by(articles.c.sort_time, articles.c.id)
        )
        with self.engine.connect() as conn:
            return [(PendingArticle(*row[:-1]), row.story_id) for row in conn.execute(query)]

    def record(
        self,
        updates: Sequence[StoryUpdate],
        members: Sequence[tuple[int, int]],
        events: Sequence[StoryEvent] = (),
        guard: Guard | None = None,
    ) -> None:
        """Store one batch of decisions atomically: story rows (inserted or replaced), (article id, story id)
        memberships, and merges (whose members all move to the story they merged into). `guard` runs first in
        the same transaction; whatever it raises undoes the batch."""
        with self.engine.begin() as conn:
            if guard is not None:
                guard(conn)
            known = set()
            if updates:
                ids = [u.id for u in updates]
                known = {r.id for r in conn.execute(select(stories.c.id).where(stories.c.id.in_(ids)))}
            for u in updates:
                values = {
                    "headline_id": u.headline_id,
                    "first_seen": u.first_seen,
                    "last_seen": u.last_seen,
                    "article_count": u.article_count,
                    "outlet_count": u.outlet_count,
                    "status": u.status,
                    "merged_into": None,  # set below, once every story of the batch exists
                    "centroid": None if u.centroid is None else encode_vector(u.centroid),
                }
                if u.related is not None:
                    values["related"] = json.dumps(list(u.related))
                if u.id in known:
                    conn.execute(update(stories).where(stories.c.id == u.id).values(**values))
                else:
                    conn.execute(insert(stories).values(id=u.id, **values))
            for u in updates:
                if u.merged_into is not None:
                    conn.execute(
                        update(stories).where(stories.c.id == u.id).values(merged_into=u.merged_into)
                    )
            if members:
                conn.execute(
                    update(articles)
                    .where(articles.c.id == bindparam("aid"))
                    .values(story_id=bindparam("sid")),
                    [{"aid": a, "sid": s} for a, s in members],
                )
            for event in events:
                conn.execute(
                    update(articles)
                    .where(articles.c.story_id == event.story_id)
                    .values(story_id=event.into_id)
                )
                conn.execute(
                    insert(story_events).values(
                        at=event.at,
                        kind=event.kind,
                        story_id=event.story_id,
                        into_id=event.into_id,
                        score=event.score,
                        detail=event.detail,
                    )
                )
            refresh_topics(conn, [u.id for u in updates])
            # The title and image a story shows come from its headline article (the image from the most
            # central member that has one, so a story is never shown bare when some coverage had a picture).
            for u in updates:
                headline = conn.execute(
                    select(articles.c.title, articles.c.image).where(articles.c.id == u.headline_id)
                ).first()
                image = headline.image if headline else ""
                if not image:
                    found = conn.execute(
                        select(articles.c.image)
                        .where(articles.c.story_id == u.id, articles.c.image != "")
                        .order_by(articles.c.sort_time, articles.c.id)
                        .limit(1)
                    ).first()
                    image = found.image if found else ""
                conn.execute(
                    update(stories)
                    .where(stories.c.id == u.id)
                    .values(title=headline.title if headline else "", image=image)
                )

    def attach(self, members: Sequence[tuple[int, int]], guard: Guard | None = None) -> None:
        """Add articles to stories that are no longer in the clusterer's window (copies of their articles
        arriving late), bringing the stories' counts and last_seen up to date. `guard` as for record()."""
        with self.engine.begin() as conn:
            if guard is not None:
                guard(conn)
            for article_id, story_id in members:
                conn.execute(update(articles).where(articles.c.id == article_id).values(story_id=story_id))
            for story_id in sorted({s for _, s in members}):
                counts = conn.execute(
                    select(
                        func.count().label("n"),
                        func.count(func.distinct(articles.c.outlet_slug)).label("outlets"),
                        func.max(articles.c.sort_time).label("last"),
                    ).where(articles.c.story_id == story_id)
                ).one()
                last = conn.execute(select(stories.c.last_seen).where(stories.c.id == story_id)).scalar_one()
                conn.execute(
                    update(stories)
                    .where(stories.c.id == story_id)
                    .values(
                        article_count=counts.n, outlet_count=counts.outlets, last_seen=max(last, counts.last)
                    )
                )

    def reset(self, since: datetime | None) -> int:
        """Undo clustering from `since` on (everything when None), for `recluster`: every story with coverage
        at or after `since` is dissolved, all its members included, and its merges forgotten. Returns how
        many articles are left to cluster again."""
        with self.engine.begin() as conn:
            if since is None:  # everything: no id lists, however many stories there are
                conn.execute(update(articles).values(story_id=None))
                conn.execute(delete(story_events))
                conn.execute(delete(stories))
            else:
                ids = [r.id for r in conn.execute(select(stories.c.id).where(stories.c.last_seen >= since))]
                # Stories merged into a doomed one go with it.
                frontier = ids
                while frontier:
                    frontier = [
                        r.id
                        for chunk in _chunks(frontier)
                        for r in conn.execute(select(stories.c.id).where(stories.c.merged_into.in_(chunk)))
                    ]
                    ids = ids + frontier
                for part in _chunks(ids):
                    conn.execute(update(articles).where(articles.c.story_id.in_(part)).values(story_id=None))
                    conn.execute(delete(story_events).where(story_events.c.into_id.in_(part)))
                    conn.execute(delete(stories).where(stories.c.id.in_(part)))
                conn.execute(update(articles).where(articles.c.sort_time >= since).values(story_id=None))
            return int(conn.execute(select(func.count()).where(articles.c.story_id.is_(None))).scalar_one())

    # --- read side --------------------------------------------------------------------------------------------

    def get(self, story_id: int, now: datetime) -> StoryCard:
        with self.engine.connect() as conn:
            row = conn.execute(select(*STORY_COLUMNS).where(stories.c.id == story_id)).first()
            if row is None:
                raise NotFoundError(f"no story with id {story_id}")
            outlets = self._outlets(conn, [story_id]).get(story_id, [])
        return story_card(row, now, outlets)

    def follow_merges(self, story_id: int, now: datetime) -> StoryCard:
        """The story, or the one it was merged into (and so on); a cycle or a dead end is NotFoundError."""
        story = self.get(story_id, now)
        for _ in range(20):
            if story.status != "merged" or story.merged_into is None:
                return story
            story = self.get(story.merged_into, now)
        raise NotFoundError(f"story {story_id} was merged too many times to follow")

    def top(
        self, now: datetime, limit: int, window: timedelta = TOP_WINDOW, min_outlets: int = 1
    ) -> list[StoryCard]:
        """The hottest stories covered by at least `min_outlets` outlets in the last `window` (merged ones
        never), hottest first."""
        query = select(*STORY_COLUMNS).where(
            stories.c.last_seen >= now - window,
            stories.c.status != "merged",
            stories.c.outlet_count >= min_outlets,
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
            rows.sort(key=lambda r: (-hotness(r.outlet_count, r.article_count, r.last_seen, now), -r.id))
            rows = rows[:limit]
            outlets = self._outlets(conn, [r.id for r in rows])
        return [story_card(r, now, outlets.get(r.id, [])) for r in rows]

    def top_by_topic(
        self, now: datetime, per_topic: int, window: timedelta = TOP_WINDOW, min_outlets: int = 1
    ) -> dict[str, list[StoryCard]]:
        """The hottest stories of each topic (as `top`, from one read), topics with none left out."""
        query = select(*STORY_COLUMNS).where(
            stories.c.last_seen >= now - window,
            stories.c.status != "merged",
            stories.c.outlet_count >= min_outlets,
            stories.c.topic != "",
        )
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
            rows.sort(key=lambda r: (-hotness(r.outlet_count, r.article_count, r.last_seen, now), -r.id))
            chosen: dict[str, list[Any]] = {}
            for r in rows:
                if len(group := chosen.setdefault(r.topic, [])) < per_topic:
                    group.append(r)
            outlets = self._outlets(conn, [r.id for group in chosen.values() for r in group])
        return {t: [story_card(r, now, outlets.get(r.id, [])) for r in group] for t, group in chosen.items()}

    def cards(self, story_ids: Sequence[int], now: datetime) -> list[StoryCard]:
        """Cards of these stories, in the order given (merged ones answer as the story they joined, once)."""
        if not story_ids:
            return []
        with self.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(*STORY_COLUMNS).where(stories.c.id.in_(story_ids)))}
            into = {i: r.merged_into for i, r in rows.items() if r.merged_into is not None}
            if into:
                more = select(*STORY_COLUMNS).where(stories.c.id.in_(set(into.values())))
                rows.update({r.id: r for r in conn.execute(more)})
            order = list(dict.fromkeys(into.get(i, i) for i in story_ids if i in rows))
            order = [i for i in order if i in rows]
            outlets = self._outlets(conn, order)
        return [story_card(rows[i], now, outlets.get(i, [])) for i in order]

    def members(
        self, story_id: int, limit: int | None = None, *, earliest: int = 0, lang: str | None = None
    ) -> list[ArticleCard]:
        """The story's articles (those in language `lang` when given), copies included, oldest first: all of
        them, or at most `limit`: the `earliest` first ones and the newest (each read down the story's index,
        whatever its size)."""
        mine = select(*CARD_COLUMNS).where(articles.c.story_id == story_id)
        if lang is not None:
            mine = mine.where(articles.c.lang == lang)
        oldest_first = mine.order_by(articles.c.sort_time, articles.c.id)
        with self.engine.connect() as conn:
            if limit is None:
                return [card(row) for row in conn.execute(oldest_first)]
            first = [card(row) for row in conn.execute(oldest_first.limit(min(earliest, limit)))]
            newest = mine.order_by(articles.c.sort_time.desc(), articles.c.id.desc()).limit(
                limit - len(first)
            )
            latest = [card(row) for row in conn.execute(newest)]
        seen = {c.id for c in first}
        return first + [c for c in reversed(latest) if c.id not in seen]

    def languages(self, story_id: int) -> dict[str, int]:
        """How many of the story's articles (copies included) are in each language code, most first; those of
        unknown language ("") left out."""
        query = (
            select(articles.c.lang, func.count().label("n"))
            .where(articles.c.story_id == story_id, articles.c.lang != "")
            .group_by(articles.c.lang)
            .order_by(func.count().desc(), articles.c.lang)
        )
        with self.engine.connect() as conn:
            return {row.lang: int(row.n) for row in conn.execute(query)}

    def events(self, story_id: int) -> list[StoryEvent]:
        query = (
            select(story_events)
            .where(story_events.c.into_id == story_id)
            .order_by(story_events.c.at, story_events.c.id)
        )
        with self.engine.connect() as conn:
            return [
                StoryEvent(r.at, r.kind, r.story_id, r.into_id, r.score, r.detail)
                for r in conn.execute(query)
            ]

    def related(self, story_id: int, now: datetime, limit: int = 6) -> list[StoryCard]:
        """The stories closest to this one (as the clusterer found them when it last changed), closest first;
        a related story merged since is shown as the story it joined."""
        with self.engine.connect() as conn:
            found = conn.execute(select(stories.c.related).where(stories.c.id == story_id)).first()
            if found is None:
                raise NotFoundError(f"no story with id {story_id}")
            chosen = related_rows(conn, story_id, found.related, limit)
            outlets = self._outlets(conn, [r.id for r in chosen])
        return [story_card(r, now, outlets.get(r.id, [])) for r in chosen]

    def related_ids(self, story_ids: Sequence[int]) -> dict[int, list[int]]:
        """Each story's stored related list (ids, closest first; merged ones not followed): one statement."""
        query = select(stories.c.id, stories.c.related).where(stories.c.id.in_(list(story_ids)))
        with self.engine.connect() as conn:
            return {row.id: [int(i) for i in json.loads(row.related or "[]")] for row in conn.execute(query)}

    def _outlets(self, conn: Any, story_ids: Sequence[int]) -> dict[int, list[str]]:
        """Each story's first reporters, first first (at most FIRST_OUTLETS): read from the story's earliest
        articles down its (story_id, sort_time) index, so the cost does not grow with the story."""
        found: dict[int, list[str]] = {}
        for sid in story_ids:
            names: dict[str, str] = {}
            query = (
                select(articles.c.outlet_slug, articles.c.outlet)
                .where(articles.c.story_id == sid)
                .order_by(articles.c.sort_time, articles.c.id)
                .limit(FIRST_OUTLETS * 20)
            )
            for row in conn.execute(query):
                names.setdefault(row.outlet_slug, row.outlet)
                if len(names) == FIRST_OUTLETS:
                    break
            found[sid] = list(names.values())
        return found
