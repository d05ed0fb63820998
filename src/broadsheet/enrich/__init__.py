"""Enrichment: what broadsheet adds to a stored article, one module per step: `language`, `sentences` and
`keypoints` (extractive key points and summary, each citing its sentence), `entities` (+ `entity_names`),
`topic`, `kind`, `tags`, `embed` (dense vectors; `e5` for multilingual ones); and for a story, `brief` (what
the coverage agrees on, what only one outlet reports) and `ask` (questions answered from the coverage's own
sentences).

Each step takes plain text and returns plain data; storing the results is the store's job, running them the
pipeline's (pipeline/enrich.py, pipeline/briefs.py).
"""

from __future__ import annotations

from broadsheet.enrich.ask import (
    ANSWER_THRESHOLD,
    MAX_QUESTION_CHARS,
    Answer,
    answer_question,
    validate_question,
)
from broadsheet.enrich.brief import Brief, BriefPoint, Citation, StorySource, embed_sentences, story_brief
from broadsheet.enrich.embed import (
    E5_KIND,
    Embedder,
    batch_free,
    concurrent_calls,
    default_threads,
    embedding_text,
    load_embedder,
)
from broadsheet.enrich.entities import ENTITY_TYPES, Entity, EntityRecogniser, entity_slug, load_recogniser
from broadsheet.enrich.keypoints import KEYPOINTS_VERSION, Digest, KeyPoint, digest
from broadsheet.enrich.kind import KINDS, article_kind
from broadsheet.enrich.language import detect_language, load_identifier
from broadsheet.enrich.llm import Grounded, LLMConfig, Rewrite, Task, rewrite
from broadsheet.enrich.origin import reference_mean
from broadsheet.enrich.sentences import Sentence, split_sentences
from broadsheet.enrich.tags import article_tags, keyphrases, normalise_tag
from broadsheet.enrich.topic import TOPIC_LABELS, TOPICS, TopicClassifier, load_topic_classifier

__all__ = [
    "ANSWER_THRESHOLD",
    "E5_KIND",
    "ENTITY_TYPES",
    "KEYPOINTS_VERSION",
    "KINDS",
    "MAX_QUESTION_CHARS",
    "TOPICS",
    "TOPIC_LABELS",
    "Answer",
    "Brief",
    "BriefPoint",
    "Citation",
    "Digest",
    "Embedder",
    "Entity",
    "EntityRecogniser",
    "Grounded",
    "KeyPoint",
    "LLMConfig",
    "Rewrite",
    "Sentence",
    "StorySource",
    "Task",
    "TopicClassifier",
    "answer_question",
    "article_kind",
    "article_tags",
    "batch_free",
    "concurrent_calls",
    "default_threads",
    "detect_language",
    "digest",
    "embed_sentences",
    "embedding_text",
    "entity_slug",
    "keyphrases",
    "load_embedder",
    "load_identifier",
    "load_recogniser",
    "load_topic_classifier",
    "normalise_tag",
    "reference_mean",
    "rewrite",
    "split_sentences",
    "story_brief",
    "validate_question",
]
