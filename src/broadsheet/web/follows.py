"""Following, muting and For You, the same for the pages and the JSON API: what a followed thing is called,
the reader's state for a button, and the reader's For You stories. Owns reading the candidates and signals;
the order is `web.foryou`'s, the storage `store/follows.py`'s."""

from __future__ import annotations

from datetime import timedelta

from broadsheet.errors import NotFoundError
from broadsheet.store import StorySignals
from broadsheet.web.context import WebContext
from broadsheet.web.foryou import Interest, Pick, rank
from broadsheet.web.identity import Reader

__all__ = ["CANDIDATES", "FOR_YOU", "follow_state", "followed", "for_you"]

CANDIDATES = 200  # recent stories For You chooses from
FOR_YOU = 30  # stories on the page
HISTORY = timedelta(days=14)  # reading that shapes the page


def followed(ctx: WebContext, kind: str, key: str) -> tuple[str, str]:
    """(the key a follow is kept under, how it is shown), from the database; NotFoundError when there is no
    such thing. A story is kept under its own id as the database writes it ("04" and "４" name no story), a
    merged one under the story it went into."""
    if kind == "outlet":
        outlet = ctx.store.reads.outlet(key)
        if outlet is not None:
            return outlet.slug, outlet.name
    elif kind == "tag":
        tag = ctx.store.reads.tag(key)
        if tag is not None:
            return tag.slug, f"#{tag.name}"
    elif kind == "entity":
        entity = ctx.store.reads.entity(key)
        if entity is not None:
            return entity.slug, entity.name
    elif kind == "story" and key.isascii() and key.isdigit() and not key.startswith("0") and len(key) < 19:
        story = ctx.store.stories.follow_merges(int(key), ctx.clock())  # NotFoundError for no such story
        return str(story.id), story.title
    raise NotFoundError(f"There is no such {kind} to follow.")


def _interest(signals: StorySignals | None, near: str) -> Interest:
    if signals is None:
        return Interest(near_read=near)
    return Interest(outlets=signals.outlets, tags=signals.tags, entities=signals.entities,
                    followed=signals.followed_story, muted=signals.muted, read_articles=signals.read_articles,
                    near_read=near)  # fmt: skip


def for_you(ctx: WebContext, reader: Reader, limit: int = FOR_YOU) -> list[Pick]:
    """The reader's stories, most theirs first (see web.foryou)."""
    now = ctx.clock()
    candidates = ctx.store.stories.top(now, CANDIDATES)
    signals = ctx.store.follows.for_you_signals(reader.id, [s.id for s in candidates])
    read = {story for _article, story, _at in ctx.store.follows.history(reader.id, now - HISTORY) if story}
    near: dict[int, str] = {}
    if read:
        titles = {s.id: s.title for s in ctx.store.stories.cards(sorted(read), now)}
        for story_id, related in ctx.store.stories.related_ids(sorted(read)).items():
            for other in related:
                near.setdefault(other, titles.get(story_id, ""))
    interests = {s.id: _interest(signals.get(s.id), near.get(s.id, "")) for s in candidates}
    return rank(candidates, interests, limit)


def follow_state(ctx: WebContext, reader: Reader | None, kind: str, key: str) -> str:
    """'following', 'muted' or '' for the follow button of a page."""
    if reader is None:
        return ""
    return ctx.store.follows.state(reader.id, kind, key)
