"""A whole stream through the clusterer at once: for re-clustering from scratch, benchmarks and tests.

Owns the order (publish time, then id) and the bookkeeping of where each article ends up after merges and
splits; the decisions are `StoryClusterer`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster.clusterer import Assignment, ClusterItem, StoryClusterer
from broadsheet.cluster.config import ClusterConfig

__all__ = ["StreamResult", "cluster_stream"]

_ROTATE_EVERY = 256  # closed stories' snapshots are let go of this often (nobody asks for them here)


@dataclass(slots=True)
class StreamResult:
    """Every assignment in stream order, and each article's story at the end of the stream."""

    assignments: list[Assignment] = field(default_factory=list)
    labels: dict[int, int] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)

    @property
    def merges(self) -> int:
        return sum(len(a.merges) for a in self.assignments)

    @property
    def splits(self) -> int:
        return sum(len(a.splits) for a in self.assignments)


def cluster_stream(
    items: Iterable[ClusterItem],
    config: ClusterConfig | None = None,
    *,
    first_id: int = 1,
    language_origin: NDArray[np.float32] | None = None,
) -> StreamResult:
    """Cluster `items` from nothing, in publish order (ties by id): what `broadsheet recluster` does."""
    clusterer = StoryClusterer(config, first_id=first_id, language_origin=language_origin)
    result = StreamResult()
    for count, item in enumerate(sorted(items, key=lambda i: (i.published, i.id)), start=1):
        assignment = clusterer.add(item)
        result.assignments.append(assignment)
        result.labels[item.id] = assignment.story_id
        for merge in assignment.merges:
            result.labels.update(dict.fromkeys(merge.moved, merge.into))
        for split in assignment.splits:
            result.labels.update(dict.fromkeys(split.moved, split.new_story))
        if count % _ROTATE_EVERY == 0:
            result.closed += clusterer.close_quiet()
    result.closed += clusterer.close_quiet()
    return result
