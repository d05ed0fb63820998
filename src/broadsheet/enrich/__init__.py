"""Enrichment: what broadsheet adds to a stored article, one module per step: `embed` (dense vectors),
`language`, `sentences` and `keypoints` (extractive key points and summary, each citing its sentence).

Each step takes plain text and returns plain data; storing the results is the store's job, not enrich's.
"""

from __future__ import annotations

from broadsheet.enrich.embed import Embedder, embedding_text, load_embedder
from broadsheet.enrich.keypoints import Digest, KeyPoint, digest
from broadsheet.enrich.language import detect_language
from broadsheet.enrich.sentences import Sentence, split_sentences

__all__ = [
    "Digest",
    "Embedder",
    "KeyPoint",
    "Sentence",
    "detect_language",
    "digest",
    "embedding_text",
    "load_embedder",
    "split_sentences",
]
