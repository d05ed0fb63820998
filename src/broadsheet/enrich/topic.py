"""An article's topic: one section of a fixed set, from its MiniLM vector and the words of its title and body.

Owns the taxonomy, the shipped classifier (`data/topic_model.npz`, made by `scripts/train_topic.py` from the
invented headlines in `data/topic_seed.jsonl`) and a story's topic from its members'. Embedding is `embed`'s job.

The sections, in display order (`TOPIC_DESCRIPTIONS` has one line each):
world, politics, business, technology, science, health, sport, entertainment, environment, lifestyle.
A story is filed by its angle: the economy, markets, companies, trade and strikes are business even when a
government acts (budgets, central banks, tariffs); a government or party acting on health, schools or crime is
politics; a company's earnings are business even when it makes chips, while a tech firm's products, services
and partnerships are technology; a club's signings, owners and sponsors are sport; research on disease is health.

The classifier is two logistic regressions trained on the seed set only (its licence is the project's): one on
the article's vector, one on TF-IDF of its words (`terms`); their log-probabilities are mixed with
`lexical_weight`. Nothing trained on research-licensed data ships; those sets only chose the settings
(`bench/enrich_topic.py` measures them and holds the maps). Scored against datasets with fewer labels through a fixed map: for
AG News, world|politics -> World, business -> Business, technology|science|health|environment -> Sci/Tech,
sport -> Sports, entertainment|lifestyle -> none (wrong); for BBC News, politics|world -> politics,
technology|science -> tech, entertainment|lifestyle -> entertainment, health|environment -> none (wrong).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.embed import embedding_text
from broadsheet.errors import ConfigError

__all__ = [
    "LEXICAL_WORDS",
    "MODEL_PATH",
    "SEED_PATH",
    "TOPICS",
    "TOPIC_DESCRIPTIONS",
    "TOPIC_LABELS",
    "TopicClassifier",
    "article_text",
    "load_topic_classifier",
    "terms",
]

TOPICS: tuple[str, ...] = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "health",
    "sport",
    "entertainment",
    "environment",
    "lifestyle",
)
TOPIC_LABELS: dict[str, str] = {
    "world": "World",
    "politics": "Politics",
    "business": "Business",
    "technology": "Technology",
    "science": "Science",
    "health": "Health",
    "sport": "Sport",
    "entertainment": "Entertainment",
    "environment": "Environment",
    "lifestyle": "Lifestyle",
}
TOPIC_DESCRIPTIONS: dict[str, str] = {
    "world": "International affairs: wars, diplomacy, disasters, unrest and crime in other countries.",
    "politics": "Government and elections: parties, parliaments, ministers, campaigns, laws and public policy.",
    "business": "Companies, markets and the economy: earnings, deals, jobs, prices, trade, banks and budgets.",
    "technology": "Computing and the internet: gadgets, software, telecoms, games, cybersecurity, tech products.",
    "science": "Research and discovery: space, physics, biology, archaeology, fossils and the natural world.",
    "health": "Medicine and public health: diseases, hospitals, treatments, drugs, diet and fitness.",
    "sport": "Sport: matches, results, athletes, teams, transfers and tournaments.",
    "entertainment": "Film, music, television, books, the arts, celebrities and the media industry.",
    "environment": "Climate, weather extremes, pollution, energy transition, wildlife and conservation.",
    "lifestyle": "Food, travel, fashion, home, family, relationships and wellbeing.",
}

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED_PATH = DATA_DIR / "topic_seed.jsonl"
MODEL_PATH = DATA_DIR / "topic_model.npz"

# Body words the lexical model reads after the title. Words cost microseconds where a second embedding of
# more text costs milliseconds, and more of a long article's words name its section better (on BBC News dev,
# mapped accuracy 0.919 reading 40 words, 0.934 reading 300: bench/enrich_topic.py --lexical-words N).
LEXICAL_WORDS = 300

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+")

Vectors = NDArray[np.float32]


def terms(text: str) -> list[str]:
    """The words the lexical model counts: casefolded runs of letters (an inner apostrophe kept) or digits,
    two characters or more."""
    return [word for word in _WORD.findall(text.casefold()) if len(word) > 1]


def article_text(text: str, lexical_words: int = LEXICAL_WORDS) -> str:
    """What the lexical model reads of `title + "\\n" + body`: the title and the body's first `lexical_words`
    words, a headline repeated at the body's start skipped as `embedding_text` does."""
    title, _, body = text.partition("\n")
    return embedding_text(title, body, lead_words=lexical_words)


@dataclass(frozen=True, slots=True)
class TopicClassifier:
    """The shipped weights; `classify` is numpy and a dictionary look-up per word."""

    name: str
    embedder_model: str
    vector_coef: NDArray[np.float32]  # (topics, dim)
    vector_intercept: NDArray[np.float32]  # (topics,)
    vocabulary: dict[str, int]
    idf: NDArray[np.float32]  # (terms,)
    lexical_coef: NDArray[np.float32]  # (topics, terms)
    lexical_intercept: NDArray[np.float32]  # (topics,)
    lexical_weight: float
    lexical_words: int = LEXICAL_WORDS

    def probabilities(self, vectors: Vectors, texts: Sequence[str]) -> NDArray[np.float32]:
        """Each article's probability per topic, rows in `TOPICS` order."""
        if len(vectors) != len(texts):
            raise ValueError(f"{len(vectors)} vectors but {len(texts)} texts")
        if len(texts) == 0:
            return np.zeros((0, len(TOPICS)), dtype=np.float32)
        vector_logits = np.asarray(vectors, dtype=np.float32) @ self.vector_coef.T + self.vector_intercept
        lexical_logits = self._lexical_logits(texts)
        weight = self.lexical_weight
        mixed = (1 - weight) * _log_softmax(vector_logits) + weight * _log_softmax(lexical_logits)
        return np.exp(_log_softmax(mixed)).astype(np.float32)

    def classify(self, vectors: Vectors, texts: Sequence[str]) -> list[tuple[str, float]]:
        """(topic, confidence) per article: `vectors` are the rows of `embedding_text(title, lead)`,
        `texts` are `title + "\\n" + body` (the body's first `lexical_words` words are read). Every article
        gets a topic: a reader sees no section for an empty one, so an empty topic is never more right than
        the best guess, and the confidence lets a page show the doubtful ones differently."""
        probabilities = self.probabilities(vectors, texts)
        best = probabilities.argmax(axis=1)
        return [(TOPICS[int(k)], float(probabilities[row, k])) for row, k in enumerate(best)]

    def _lexical_logits(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """The lexical regression's logits over each text's sublinear TF-IDF, L2-normalised: what scikit-learn's
        TfidfVectorizer(sublinear_tf=True) made at training time, for the words the vocabulary knows. Only the
        columns of an article's own words are touched."""
        logits = np.tile(self.lexical_intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            counts = Counter(terms(article_text(text, self.lexical_words)))
            known = [
                (column, count)
                for term, count in counts.items()
                if (column := self.vocabulary.get(term)) is not None
            ]
            if not known:
                continue
            columns = np.array([column for column, _ in known])
            weights = np.log([count for _, count in known]).astype(np.float32) + 1.0
            weights *= self.idf[columns]
            weights /= max(float(np.linalg.norm(weights)), 1e-12)
            logits[row] += self.lexical_coef[:, columns] @ weights
        return logits


def load_topic_classifier(embedder_name: str, path: Path = MODEL_PATH) -> TopicClassifier:
    """The classifier for vectors named `embedder_name` (an `Embedder.name`, e.g. all-MiniLM-L6-v2/onnx-int8).

    Raises ConfigError when the weights were made for another model's vectors, or the file is missing.
    """
    if not path.is_file():
        raise ConfigError(f"topic weights not found at {path}: run scripts/train_topic.py to make them")
    with np.load(path, allow_pickle=False) as data:
        model = str(data["embedder_model"])
        if embedder_name.split("/", 1)[0] != model:
            raise ConfigError(
                f"the topic weights in {path} were made for {model} vectors, not {embedder_name!r}: "
                f"embed with {model} or retrain with scripts/train_topic.py"
            )
        topics = tuple(str(topic) for topic in data["topics"])
        if topics != TOPICS:
            raise ConfigError(f"the topic weights in {path} are for other topics {topics}: retrain them")
        vocabulary = [str(term) for term in data["vocabulary"]]
        return TopicClassifier(
            name=f"topic-{data['version']}",
            embedder_model=model,
            vector_coef=data["vector_coef"].astype(np.float32),
            vector_intercept=data["vector_intercept"].astype(np.float32),
            vocabulary={term: i for i, term in enumerate(vocabulary)},
            idf=data["idf"].astype(np.float32),
            lexical_coef=data["lexical_coef"].astype(np.float32),
            lexical_intercept=data["lexical_intercept"].astype(np.float32),
            lexical_weight=float(data["lexical_weight"]),
        )


def _log_softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    result: NDArray[np.float32] = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return result
