"""Key points and a one-paragraph summary of an article, chosen from its own sentences (extractive).

Owns choosing sentences: lead-weighted centrality with redundancy removal (MMR), boilerplate skipped. Every point
is its source sentence, so every citation holds by construction; splitting is `sentences`', vectors `embed`'s.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.sentences import Sentence

__all__ = [
    "EMBEDDING_WEIGHTS",
    "KEYPOINTS_VERSION",
    "TFIDF_WEIGHTS",
    "Digest",
    "Embed",
    "KeyPoint",
    "Weights",
    "choose",
    "content_terms",
    "digest",
    "is_boilerplate",
    "sentence_features",
]

# Stored with every article's key points: change it when the choice of sentences changes, and they are redone.
KEYPOINTS_VERSION = "tfidf-mmr/1"

Embed = Callable[[list[str]], NDArray[np.float32]]
Matrix = NDArray[np.float64]

MAX_SENTENCES = 40  # only the first sentences compete: news puts the essentials first, and cost grows with n²
MIN_WORDS = 6  # shorter ones are labels, captions or fragments
MAX_WORDS = 60  # longer ones are run-on lists or a splitter's failure, too long to read as a point


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """One point: `text` IS sentence number `sentence` of the article's text, word for word."""

    sentence: int
    text: str


@dataclass(frozen=True, slots=True)
class Digest:
    """Key points, most important first, and a short summary: sentence indices in text order."""

    key_points: tuple[KeyPoint, ...]
    summary: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Weights:
    """How a sentence's score is made and how many sentences are chosen."""

    position: float  # weight of the lead prior, 1 / (1 + rank / position_scale), rank 0 the first candidate
    position_scale: float  # in sentences: how fast the lead prior fades
    centrality: float  # weight of the mean similarity to the other candidates, scaled to a maximum of 1
    title: float  # weight of the similarity to the title
    brevity: float  # weight of shortness, 1 - words / MAX_WORDS: a point is read at a glance
    quote: float  # penalty for direct speech: what someone said is rarely the news itself
    dangling: float  # penalty for an opening that leans on the sentence before ("But", "He", "This")
    redundancy: float  # MMR: how much the similarity to a chosen point counts against a sentence
    duplicate: float  # a sentence at least this similar to a chosen point says it again: never chosen
    words_per_point: int  # one point per this many words of the article, within [3, points]
    summary_words: int = 60  # the summary takes the best points, up to about this many words


# Chosen on the CNN/DM and BBC dev sets together (bench/enrich.py), the first set by how each setting moves
# ROUGE: a steep lead prior, the title, sentences that stand alone (not a quote, not "But he ..."); more points
# than 3 cost CNN/DM more than they gain BBC; removing repeats costs nothing measurable there.
TFIDF_WEIGHTS = Weights(
    position=1.0, position_scale=0.5, centrality=0.5, title=0.6, brevity=0.0, quote=0.1, dangling=0.1,
    redundancy=0.6, duplicate=0.6, words_per_point=400,
)  # fmt: skip
EMBEDDING_WEIGHTS = Weights(
    position=0.25, position_scale=2.0, centrality=0.5, title=1.0, brevity=0.25, quote=0.0, dangling=0.0,
    redundancy=0.3, duplicate=0.85, words_per_point=150,
)  # fmt: skip

# Sentences that are furniture, not news: bylines, credits, calls to follow, share or read on, disclaimers.
_BOILERPLATE = re.compile(
    r"""^(?:by\s+[A-Z]|by\s*\.|published:|updated:|last\s+(?:updated|modified)
          |(?:photo|image|picture|video|graphic|source)(?:\s+credit)?s?\s*:|(?:image|photo)\s+(?:copyright|caption)
          |copyright|©|all\s+rights\s+reserved|(?:read|see|watch)(?:\s+(?:more|also|the\s+video|next))?\s*:
          |(?:read|see)\s+(?:more|also)\b|related\s*:|don'?t\s+miss|(?:follow|join|like)\s+(?:us|@)|follow\s+the
          |click\s+here|sign\s+up|subscribe|download\s+(?:our|the)\s+app|share\s+(?:this|on)
          |e-?mail\s+to\s+a\s+friend|scroll\s+down|advertisement|editor'?s\s+note
          |this\s+(?:story|article)\s+(?:has\s+been|was)\s+(?:updated|corrected)
          |(?:additional\s+)?(?:reporting|writing|editing)\s+by|the\s+views\s+expressed)
      |contributed\s+to\s+this\s+report|\b(?:getty|ap|afp|reuters|epa)\s+images?\s*\.?$
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Openings that point back at the sentence before: alone, such a sentence reads as a fragment.
_LEANING = frozenset((
    "but", "and", "so", "yet", "also", "however", "meanwhile", "still", "then", "he", "she", "it", "they",
    "his", "her", "its", "their", "this", "that", "these", "those", "there", "such", "other", "another",
    "both", "instead", "nevertheless", "nonetheless", "moreover", "furthermore",
))  # fmt: skip
_WORD = re.compile(r"\w+")
# English function words: they would make every pair of sentences look alike.
_STOPWORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "from", "with",
    "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those",
    "he", "she", "they", "we", "you", "i", "his", "her", "their", "our", "my", "your", "him", "them", "us",
    "me", "not", "no", "so", "than", "then", "there", "here", "also", "has", "have", "had", "do", "does",
    "did", "will", "would", "can", "could", "should", "may", "might", "must", "said", "says", "say", "just",
    "about", "into", "over", "after", "before", "more", "most", "other", "some", "such", "only", "own",
    "same", "too", "very", "s", "t", "what", "which", "who", "whom", "when", "where", "why", "how", "all",
    "any", "both", "each", "few", "up", "down", "out", "off", "again", "further", "once",
))  # fmt: skip


def is_boilerplate(sentence: str) -> bool:
    """Whether a sentence is page furniture rather than news: a byline, a credit, a call to follow or share,
    a dateline on its own, a question put to the reader, or too short or too long to be a point."""
    words = len(sentence.split())
    if words < MIN_WORDS or words > MAX_WORDS:
        return True
    if sentence.rstrip("\"'”’») ").endswith("?"):
        return True
    return _BOILERPLATE.search(sentence.strip()) is not None


def digest(
    title: str,
    sentences: Sequence[Sentence],
    embed: Embed | None = None,
    *,
    points: int = 4,
    weights: Weights | None = None,
) -> Digest:
    """Key points for an article, most important first: 3 (or as many as it has), one more per
    `words_per_point` words up to `points`; and a summary made of the best of them.

    With `embed` (texts -> L2-normalised rows, e.g. `Embedder.embed`) sentences are compared by their
    embeddings, each sentence embedded once (title included, in one call); without it, by TF-IDF vectors of
    their words, which is far faster and scores as well or better on the dev sets (bench/enrich.py).
    `weights` defaults to the set tuned for the similarity in use.
    """
    if weights is None:
        weights = TFIDF_WEIGHTS if embed is None else EMBEDDING_WEIGHTS
    candidates = [s for s in sentences[:MAX_SENTENCES] if not is_boilerplate(s.text)]
    if not candidates:
        return Digest((), ())
    texts = [s.text for s in candidates]
    similarity, to_title = _similarities(title, texts, embed)
    words = sum(len(sentence.text.split()) for sentence in sentences)
    count = max(min(3, points), min(points, math.ceil(words / weights.words_per_point)))
    features = sentence_features(texts)
    chosen = choose(similarity, to_title, features, count, weights)
    key_points = tuple(KeyPoint(candidates[i].index, candidates[i].text) for i in chosen)
    return Digest(key_points, _summary(key_points, weights.summary_words))


def sentence_features(texts: Sequence[str]) -> Matrix:
    """Per sentence: its length in words, whether it quotes someone, whether it opens by leaning on the
    sentence before; one row each."""
    rows = []
    for text in texts:
        words = text.split()
        quoted = any(mark in text for mark in '"“”') or text.startswith(("'", "‘"))
        first = words[0].strip("\"'“‘(").lower() if words else ""
        rows.append((len(words), float(quoted), float(first in _LEANING)))
    return np.array(rows, dtype=np.float64).reshape(len(rows), 3)


def choose(similarity: Matrix, to_title: Matrix, features: Matrix, count: int, weights: Weights) -> list[int]:
    """Rows of `similarity` (candidates in text order) to keep, best first: each pick maximises its score less
    `weights.redundancy` times its similarity to the points already chosen (maximal marginal relevance)."""
    n = similarity.shape[0]
    rank = np.arange(n, dtype=np.float64)
    lead = 1.0 / (1.0 + rank / weights.position_scale)
    others = similarity.sum(axis=1) - np.diag(similarity)
    centrality = others / max(n - 1, 1)
    top = centrality.max() if n else 0.0
    if top > 0:
        centrality = centrality / top
    score = (
        weights.position * lead
        + weights.centrality * centrality
        + weights.title * to_title
        + weights.brevity * (1.0 - features[:, 0] / MAX_WORDS)
        - weights.quote * features[:, 1]
        - weights.dangling * features[:, 2]
    )
    chosen: list[int] = []
    penalty = np.zeros(n)
    available = np.ones(n, dtype=bool)
    while len(chosen) < count and available.any():
        gain = np.where(available, score - weights.redundancy * penalty, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        penalty = np.maximum(penalty, similarity[best])
        available &= similarity[best] < weights.duplicate
    return chosen


def _summary(key_points: tuple[KeyPoint, ...], words: int) -> tuple[int, ...]:
    """The best points that fit in about `words` words (the best one always), as sentence indices in text order."""
    kept: list[int] = []
    total = 0
    for point in key_points:
        length = len(point.text.split())
        if kept and total + length > words:
            break
        kept.append(point.sentence)
        total += length
    return tuple(sorted(kept))


def _similarities(title: str, texts: list[str], embed: Embed | None) -> tuple[Matrix, Matrix]:
    """Cosine similarities between the sentences, and of each sentence to the title (zeros without one)."""
    if embed is not None:
        rows = [title, *texts] if title.strip() else texts
        vectors = np.asarray(embed(rows), dtype=np.float64)
        sentence_vectors = vectors[1:] if title.strip() else vectors
        similarity = np.clip(sentence_vectors @ sentence_vectors.T, 0.0, 1.0)
        to_title = np.clip(sentence_vectors @ vectors[0], 0.0, 1.0) if title.strip() else np.zeros(len(texts))
        return similarity, to_title
    bags = [content_terms(text) for text in texts]
    vocabulary = {term: i for i, term in enumerate(sorted({t for bag in bags for t in bag}))}
    frequency = Counter(term for bag in bags for term in set(bag))
    idf = {term: math.log((1 + len(bags)) / (1 + count)) + 1.0 for term, count in frequency.items()}
    matrix = np.zeros((len(bags), max(len(vocabulary), 1)))
    for row, bag in enumerate(bags):
        for term, count in Counter(bag).items():
            matrix[row, vocabulary[term]] = count * idf[term]
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    heading = np.zeros(matrix.shape[1])
    for term in set(content_terms(title)):
        if term in vocabulary:
            heading[vocabulary[term]] = idf[term]
    heading /= max(float(np.linalg.norm(heading)), 1e-12)
    return matrix @ matrix.T, matrix @ heading


def content_terms(text: str) -> list[str]:
    """Content words, lower-cased, a plural "s" dropped so "votes" meets "vote"."""
    terms = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or len(word) < 2:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        terms.append(word)
    return terms
