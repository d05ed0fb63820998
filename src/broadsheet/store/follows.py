"""SQL for what readers follow and mute, their bookmarks and reading history, and the For You signals read from them.

Owns the `follows`, `bookmarks` and `reads` tables. Ranking the For You page, and deciding what a reader may
follow, belong to the layers above; every time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, Table, and_, bindparam, delete, func, select, tuple_, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from broadsheet.errors import NotFoundError
from broadsheet.models import ArticleCard
from broadsheet.store.cards import CARD_COLUMNS, card
from broadsheet.store.db import dialect_insert
from broadsheet.store.reads import MAX_PAGE
from broadsheet.store.schema import article_entities, article_tags, articles, bookmarks, follows, reads

__all__ = ["KINDS", "BookmarkedCard", "Follow", "FollowStore", "StorySignals"]

KINDS = ("outlet", "tag", "entity", "story")


@dataclass(frozen=True, slots=True)
class Follow:
    kind: str  # one of KINDS
    key: str  # the outlet's, tag's or entity's slug; a story's id as text
    name: str  # how to show it, as it was when followed
    mute: bool  # muted (hidden from For You), not followed
    created_at: datetime  # when it was followed, or muted: the latest change from one to the other


@dataclass(frozen=True, slots=True)
class BookmarkedCard(ArticleCard):
    """An article's card in the reader's bookmarks: a card like any other, with when it was bookmarked."""

    bookmarked_at: datetime = field(kw_only=True)

    @property
    def position(self) -> tuple[datetime, int]:
        """What `bookmarks(before=...)` takes to go on after this one."""
        return self.bookmarked_at, self.id


_CARD_FIELDS = tuple(f.name for f in fields(ArticleCard))


@dataclass(frozen=True, slots=True)
class StorySignals:
    """What one candidate story of the For You page has to do with a reader. The names are the follows' own
    (`Follow.name`, or the key where that is empty), each once, in alphabetical order."""

    outlets: tuple[str, ...] = ()  # followed outlets that published a member
    tags: tuple[str, ...] = ()  # followed tags some member carries
    entities: tuple[str, ...] = ()  # followed entities some member mentions
    # The reader muted the story; or did not follow it, and every member (copies too) is from a muted outlet
    # or carries a muted tag or entity. Follows never outweigh a mute on the same article.
    muted: bool = False
    followed_story: bool = False
    read_articles: int = 0  # members the reader opened


# --- the For You statements (see `for_you_signals`) ------------------------------------------------------------

_FOLLOW_COLUMNS = (follows.c.kind, follows.c.key, follows.c.name, follows.c.mute)
# The reader's follows that can touch the candidates: of outlets, tags and entities, and of these stories.
_RELEVANT_FOLLOWS = union_all(
    select(*_FOLLOW_COLUMNS).where(follows.c.user_id == bindparam("u"), follows.c.kind.in_(KINDS[:3])),
    select(*_FOLLOW_COLUMNS).where(
        follows.c.user_id == bindparam("u"),
        follows.c.kind == "story",
        follows.c.key.in_(bindparam("story_keys", expanding=True)),
    ),
)


def _carried(table: Table, kind: str) -> Any:
    """The member's slugs in `table` that are among the reader's (bind `kind`), space-separated (a slug has
    no space). A subquery correlated with the member, so that on either back end it is a lookup by the member's
    id: never a walk down every article of a popular tag to find the few among the candidates."""
    return (
        select(func.aggregate_strings(table.c.slug, " "))
        .where(table.c.article_id == articles.c.id, table.c.slug.in_(bindparam(kind, expanding=True)))
        .scalar_subquery()
        .label(kind)
    )


def _members(tags: bool, entities: bool) -> Select[Any]:
    """One row per member of the candidate stories: its outlet, whether the reader read it, and (where asked)
    the followed or muted tags and entities it carries."""
    columns = [articles.c.story_id, articles.c.id, articles.c.outlet_slug, reads.c.article_id.label("read")]
    if tags:
        columns.append(_carried(article_tags, "tag"))
    if entities:
        columns.append(_carried(article_entities, "entity"))
    read = and_(reads.c.user_id == bindparam("u"), reads.c.article_id == articles.c.id)
    return (
        select(*columns)
        .select_from(articles.outerjoin(reads, read))
        .where(articles.c.story_id.in_(bindparam("stories", expanding=True)))
    )


# By (whether the reader follows or mutes tags, entities).
_MEMBERS = {
    (tags, entities): _members(tags, entities) for tags in (False, True) for entities in (False, True)
}


_Mine = dict[str, dict[str, tuple[str, bool]]]  # the reader's follows: kind -> key -> (name, mute)


@dataclass(slots=True)
class _Tally:
    """One candidate story's members, as they are counted."""

    members: int = 0
    read: int = 0
    muted: int = 0
    names: dict[str, set[str]] = field(default_factory=dict)  # kind -> names of the followed it carries

    def add(self, row: Any, mine: _Mine) -> None:
        """A member (a row of `_MEMBERS`): muted when any of its outlet, tags and entities is."""
        self.members += 1
        self.read += row.read is not None
        carried = [("outlet", row.outlet_slug)]
        for kind in ("tag", "entity"):
            carried += [(kind, slug) for slug in (getattr(row, kind, None) or "").split()]
        muted = False
        for kind, key in carried:
            follow = mine[kind].get(key)
            if follow is None:
                continue
            name, mute = follow
            if mute:
                muted = True
            else:
                self.names.setdefault(kind, set()).add(name)
        self.muted += muted

    def signals(self, story: tuple[str, bool] | None) -> StorySignals:
        """What the tally says, with the reader's follow or mute of the story itself (if any)."""
        followed_story = story is not None and not story[1]
        all_muted = self.members > 0 and self.muted == self.members
        return StorySignals(
            outlets=_names(self.names.get("outlet")),
            tags=_names(self.names.get("tag")),
            entities=_names(self.names.get("entity")),
            muted=(story is not None and story[1]) or (all_muted and not followed_story),
            followed_story=followed_story,
            read_articles=self.read,
        )


def _record_read(insert: Any) -> Any:
    row = insert(reads)
    return row.on_conflict_do_update(
        index_elements=[reads.c.user_id, reads.c.article_id],
        set_={"story_id": row.excluded.story_id, "read_at": row.excluded.read_at},
        where=reads.c.read_at <= row.excluded.read_at,  # the latest time stays, whatever order views land in
    )


# Built once per back end: it runs on every signed-in article view.
_RECORD_READ = {"sqlite": _record_read(sqlite.insert), "postgresql": _record_read(postgresql.insert)}


def _bookmarked(plain: ArticleCard, bookmarked_at: datetime) -> BookmarkedCard:
    return BookmarkedCard(
        **{name: getattr(plain, name) for name in _CARD_FIELDS}, bookmarked_at=bookmarked_at
    )


def _names(found: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(sorted(found or (), key=lambda name: (name.casefold(), name)))


class FollowStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- follows and mutes ---------------------------------------------------------------------------------

    def follow(
        self, user_id: int, kind: str, key: str, name: str, now: datetime, *, mute: bool = False
    ) -> None:
        """Follow the outlet, tag or entity whose slug is `key`, or the story whose id it is (with `mute`: mute
        it), shown as `name`. One row per (reader, kind, key): following what was muted unmutes it, muting what
        was followed stops following it, and the row then takes the new name and time; doing again what is done
        already changes nothing. ValueError for a kind not in KINDS or an empty key; NotFoundError when the
        reader's account is gone."""
        if kind not in KINDS:
            raise ValueError(f"no follow kind {kind!r}: choose one of {', '.join(KINDS)}")
        if not key:
            raise ValueError(f"no {kind} to follow: its key is empty")
        row = dialect_insert(self.engine, follows).values(
            user_id=user_id, kind=kind, key=key, name=name, mute=mute, created_at=now
        )
        upsert = row.on_conflict_do_update(
            index_elements=[follows.c.user_id, follows.c.kind, follows.c.key],
            set_={
                "name": row.excluded.name,
                "mute": row.excluded.mute,
                "created_at": row.excluded.created_at,
            },
            where=follows.c.mute != row.excluded.mute,
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(upsert)
        except IntegrityError as exc:  # the one foreign key: the reader
            raise NotFoundError(f"there is no reader {user_id}: the account may have been removed") from exc

    def unfollow(self, user_id: int, kind: str, key: str) -> bool:
        """Stop following, or muting, it; False when the reader did neither."""
        remove = delete(follows).where(
            follows.c.user_id == user_id, follows.c.kind == kind, follows.c.key == key
        )
        with self.engine.begin() as conn:
            return conn.execute(remove).rowcount == 1

    def follows(self, user_id: int) -> list[Follow]:
        """Everything the reader follows or mutes: by kind in KINDS' order, then by name (case ignored)."""
        query = select(*_FOLLOW_COLUMNS, follows.c.created_at).where(follows.c.user_id == user_id)
        with self.engine.connect() as conn:
            found = [Follow(r.kind, r.key, r.name, bool(r.mute), r.created_at) for r in conn.execute(query)]
        return sorted(found, key=lambda f: (KINDS.index(f.kind), f.name.casefold(), f.key))

    def state(self, user_id: int, kind: str, key: str) -> str:
        """'following', 'muted', or '' when the reader does neither."""
        query = select(follows.c.mute).where(
            follows.c.user_id == user_id, follows.c.kind == kind, follows.c.key == key
        )
        with self.engine.connect() as conn:
            mute = conn.execute(query).scalar_one_or_none()
        if mute is None:
            return ""
        return "muted" if mute else "following"

    # --- bookmarks -----------------------------------------------------------------------------------------

    def bookmark(self, user_id: int, article_id: int, now: datetime) -> bool:
        """Keep the article for later; False when it is bookmarked already (the first time stays).
        NotFoundError when the article, or the reader's account, is gone."""
        add = (
            dialect_insert(self.engine, bookmarks)
            .values(user_id=user_id, article_id=article_id, created_at=now)
            .on_conflict_do_nothing()
            .execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only when asked for
        )
        try:
            with self.engine.begin() as conn:
                return conn.execute(add).rowcount == 1
        except IntegrityError as exc:  # not a conflict (those are done nothing): a foreign key
            raise self._gone(user_id, article_id) from exc

    def unbookmark(self, user_id: int, article_id: int) -> bool:
        """False when the article was not bookmarked."""
        remove = delete(bookmarks).where(bookmarks.c.user_id == user_id, bookmarks.c.article_id == article_id)
        with self.engine.begin() as conn:
            return conn.execute(remove).rowcount == 1

    def bookmarks(
        self, user_id: int, limit: int = 50, before: tuple[datetime, int] | None = None
    ) -> list[BookmarkedCard]:
        """The cards of the reader's bookmarks, newest bookmark first: at most `limit` (1 to MAX_PAGE), those
        after `before` (the `position` of the last card of the page before: (bookmarked_at, article id)). One
        walk down the reader's part of ix_bookmarks_user_id_created_at, joined to each card."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        query = (
            select(*CARD_COLUMNS, bookmarks.c.created_at.label("bookmarked_at"))
            .select_from(bookmarks.join(articles, articles.c.id == bookmarks.c.article_id))
            .where(bookmarks.c.user_id == user_id)
        )
        if before is not None:
            query = query.where(tuple_(bookmarks.c.created_at, bookmarks.c.article_id) < tuple_(*before))
        query = query.order_by(bookmarks.c.created_at.desc(), bookmarks.c.article_id.desc()).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_bookmarked(card(row), row.bookmarked_at) for row in rows]

    def is_bookmarked(self, user_id: int, article_ids: Sequence[int]) -> set[int]:
        """Which of `article_ids` the reader bookmarked (primary-key lookups)."""
        if not article_ids:
            return set()
        query = select(bookmarks.c.article_id).where(
            bookmarks.c.user_id == user_id, bookmarks.c.article_id.in_(list(article_ids))
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    # --- reading history -----------------------------------------------------------------------------------

    def record_read(self, user_id: int, article_id: int, story_id: int | None, now: datetime) -> None:
        """The reader opened the article, of the story `story_id`, at `now`: one row per article, with the
        latest time and that time's story. One statement, compiled once. NotFoundError when the article, or
        the reader's account, is gone."""
        values = {"user_id": user_id, "article_id": article_id, "story_id": story_id, "read_at": now}
        try:
            with self.engine.begin() as conn:
                conn.execute(_RECORD_READ[conn.dialect.name], values)
        except IntegrityError as exc:
            raise self._gone(user_id, article_id) from exc

    def history(
        self, user_id: int, since: datetime, limit: int = 200
    ) -> list[tuple[int, int | None, datetime]]:
        """(article id, its story when read, when last read) of what the reader opened at or after `since`,
        newest first: one walk down ix_reads_user_id_read_at."""
        query = (
            select(reads.c.article_id, reads.c.story_id, reads.c.read_at)
            .where(reads.c.user_id == user_id, reads.c.read_at >= since)
            .order_by(reads.c.read_at.desc(), reads.c.article_id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.article_id, row.story_id, row.read_at) for row in conn.execute(query)]

    def forget_history(self, user_id: int) -> int:
        """Delete the reader's whole reading history; returns how many articles it held."""
        with self.engine.begin() as conn:
            return conn.execute(delete(reads).where(reads.c.user_id == user_id)).rowcount

    # --- For You -------------------------------------------------------------------------------------------

    def for_you_signals(self, user_id: int, story_ids: Sequence[int]) -> dict[int, StorySignals]:
        """StorySignals for each of the candidate `story_ids` (every one asked for is in the answer; a story
        nothing touches has the empty one). A story's members are the articles whose `story_id` it is today.

        Cost: two statements, whatever the number of candidates. (1) The reader's follows of outlets, tags and
        entities and of these stories: ranges of the follows' primary key. (2) One row per member of the
        candidates: a walk down ix_articles_story_id, a lookup in the primary key of `reads`, and, when the
        reader follows or mutes tags or entities, a lookup of the member's among them by its id (`_carried`).
        It grows with the candidates' members, not with how much a followed outlet or tag holds."""
        wanted = list(dict.fromkeys(story_ids))
        if not wanted:
            return {}
        mine: _Mine = {kind: {} for kind in KINDS}
        with self.engine.connect() as conn:
            relevant = conn.execute(_RELEVANT_FOLLOWS, {"u": user_id, "story_keys": [str(s) for s in wanted]})
            for row in relevant:
                mine[row.kind][row.key] = (row.name or row.key, bool(row.mute))
            statement = _MEMBERS[bool(mine["tag"]), bool(mine["entity"])]
            params = {
                "u": user_id,
                "stories": wanted,
                "tag": list(mine["tag"]),
                "entity": list(mine["entity"]),
            }
            members = conn.execute(statement, params).all()
        tallies = {story_id: _Tally() for story_id in wanted}
        for row in members:
            tallies[row.story_id].add(row, mine)
        return {
            story_id: tally.signals(mine["story"].get(str(story_id))) for story_id, tally in tallies.items()
        }

    # --- helpers -------------------------------------------------------------------------------------------

    def _gone(self, user_id: int, article_id: int) -> NotFoundError:
        """The error for a row that broke a foreign key: which of the two is missing."""
        with self.engine.connect() as conn:
            article = conn.execute(select(articles.c.id).where(articles.c.id == article_id)).first()
        if article is None:
            return NotFoundError(f"there is no article {article_id}: it may have been removed")
        return NotFoundError(f"there is no reader {user_id}: the account may have been removed")
