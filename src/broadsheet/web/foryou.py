"""The For You page's order: recent stories ranked by what the reader follows and has read, each with the
reasons it is there in plain words. Pure: the page (`pages/foryou.py`) reads the candidates and signals.

A story the reader follows comes first; then stories from followed outlets, with followed tags or naming
followed people, organisations and places, and stories close to ones they read; then, to fill the page, the
top stories everyone sees, said so. Muted outlets and tags take a story out. A story whose every article the
reader has already opened sinks: it is there to be found, not read twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from broadsheet.models import StoryCard

__all__ = ["Interest", "Pick", "rank"]

FOLLOWED_STORY = 4.0
PER_OUTLET, PER_TAG, PER_ENTITY = 2.0, 1.5, 1.5
MAX_MATCHES = 2  # per kind: a story naming five followed tags is not five times as interesting
NEAR_READ = 1.0  # close to a story the reader read
ALREADY_READ = 0.3  # the score of a story every article of which the reader has opened, times this
HOTNESS_WEIGHT = 1.0  # the first candidate's share of the score, falling with its place in the hot list


@dataclass(frozen=True, slots=True)
class Interest:
    """What ties one candidate story to the reader."""

    outlets: tuple[str, ...] = ()  # names of followed outlets that cover it
    tags: tuple[str, ...] = ()  # followed tags its articles carry
    entities: tuple[str, ...] = ()  # followed people, organisations and places they name
    followed: bool = False  # the reader follows this story
    muted: bool = False  # a muted outlet or tag rules it out
    read_articles: int = 0  # of its articles, how many the reader opened
    near_read: str = ""  # the title of a story the reader read that this one is related to


@dataclass(frozen=True, slots=True)
class Pick:
    story: StoryCard
    score: float
    reasons: tuple[str, ...] = field(default=())
    personal: bool = True  # False: a top story filling the page, not chosen for this reader


def _names(names: Sequence[str], prefix: str = "") -> str:
    shown = [f"{prefix}{n}" for n in names[:MAX_MATCHES]]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def reasons_for(interest: Interest) -> tuple[str, ...]:
    """Why the story is on the reader's page, most telling first."""
    reasons = []
    if interest.followed:
        reasons.append("You follow this story.")
    if interest.outlets:
        reasons.append(f"From {_names(interest.outlets)}, which you follow.")
    if interest.tags:
        reasons.append(f"Tagged {_names(interest.tags, '#')}, which you follow.")
    if interest.entities:
        reasons.append(f"About {_names(interest.entities)}, which you follow.")
    if interest.near_read:
        reasons.append(f"Related to a story you read: “{interest.near_read}”.")
    return tuple(reasons)


def score(interest: Interest) -> float:
    """How strongly the reader's follows and reading tie them to the story (0: not at all)."""
    total = FOLLOWED_STORY * interest.followed
    total += PER_OUTLET * min(len(interest.outlets), MAX_MATCHES)
    total += PER_TAG * min(len(interest.tags), MAX_MATCHES)
    total += PER_ENTITY * min(len(interest.entities), MAX_MATCHES)
    total += NEAR_READ * bool(interest.near_read)
    return total


def rank(candidates: Sequence[StoryCard], interests: dict[int, Interest], limit: int, *,
         fill: bool = True) -> list[Pick]:  # fmt: skip
    """The reader's page: `candidates` (recent stories, hottest first) ordered by their ties to the reader
    plus a share for their heat, the untied ones after (with `fill`, up to `limit`, said to be top stories)."""
    picks: list[Pick] = []
    rest: list[Pick] = []
    for place, story in enumerate(candidates):
        interest = interests.get(story.id, Interest())
        if interest.muted:
            continue
        heat = HOTNESS_WEIGHT / (1 + place / 10)
        tie = score(interest)
        whole = tie + heat
        if story.article_count and interest.read_articles >= story.article_count:
            whole *= ALREADY_READ
        if tie > 0:
            picks.append(Pick(story, whole, reasons_for(interest)))
        else:
            rest.append(Pick(story, whole, ("Among the top stories now.",), personal=False))
    picks.sort(key=lambda p: (-p.score, -p.story.last_seen.timestamp(), p.story.id))
    if fill:
        rest.sort(key=lambda p: (-p.score, p.story.id))
        picks.extend(rest)
    return picks[:limit]
