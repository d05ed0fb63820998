"""Streaming story clustering: articles, in publish order, grouped into stories by dense embeddings of title
and lead, TF-IDF of the text, shared named things and time; stories merge, split and close as news moves on.

The clusterer takes embeddings as input and never computes them (that is `broadsheet.enrich.embed`'s job).
"""

from __future__ import annotations

from broadsheet.cluster.clusterer import Assignment, ClusterItem, Merge, Split, StoryClusterer
from broadsheet.cluster.config import ClusterConfig
from broadsheet.cluster.features import (
    ArticleFeatures,
    article_features,
    body_terms,
    named_things,
    strip_label,
)
from broadsheet.cluster.scoring import Score, b_cubed, pairwise
from broadsheet.cluster.story import StorySnapshot
from broadsheet.cluster.stream import StreamResult, cluster_stream

__all__ = [
    "ArticleFeatures",
    "Assignment",
    "ClusterConfig",
    "ClusterItem",
    "Merge",
    "Score",
    "Split",
    "StoryClusterer",
    "StorySnapshot",
    "StreamResult",
    "article_features",
    "b_cubed",
    "body_terms",
    "cluster_stream",
    "named_things",
    "pairwise",
    "strip_label",
]
