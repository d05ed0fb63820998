"""Starter packs: public news feeds, by subject and in several languages, that a new installation offers its
admin so that a newcomer sees news within minutes (`data/starter.opml`, shipped with the package).

Owns reading the packs; subscribing to one is `SourceStore.add_many`'s, as for any OPML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from broadsheet.models import Outline
from broadsheet.slugs import slugify
from broadsheet.sources.opml import parse_opml

__all__ = ["Pack", "starter_packs"]


@dataclass(frozen=True, slots=True)
class Pack:
    slug: str  # "world", "technology"...: the name in the admin form
    name: str  # "World news"
    feeds: tuple[Outline, ...]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of its feeds, most feeds first."""
        counts: dict[str, int] = {}
        for feed in self.feeds:
            counts[feed.language] = counts.get(feed.language, 0) + 1
        return tuple(sorted((code for code in counts if code), key=lambda code: (-counts[code], code)))


@cache
def starter_packs() -> tuple[Pack, ...]:
    """The packs in the file's order, each with its feeds (each feed's folder is its pack's name)."""
    data = files("broadsheet.sources").joinpath("data/starter.opml").read_bytes()
    packs: dict[str, list[Outline]] = {}
    for outline in parse_opml(data):
        packs.setdefault(outline.folder, []).append(outline)
    return tuple(Pack(slugify(name), name, tuple(feeds)) for name, feeds in packs.items())
