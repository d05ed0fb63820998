"""Answers to a reader's question about one story, as the stored sentences of its articles that best answer it,
or "the coverage does not say" when none matches well enough. Never writes an answer of its own.

Owns checking the question, retrieving sentences by their vectors and re-ranking them by the question's words;
the sentence vectors are `brief.embed_sentences`' (computed when an article is enriched), storing them the store's.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.brief import Citation, StorySource
from broadsheet.enrich.keypoints import Embed, content_terms, is_boilerplate
from broadsheet.errors import QuestionError
from broadsheet.text import has_hidden_characters

__all__ = [
    "ANSWER_THRESHOLD",
    "MAX_QUESTION_CHARS",
    "Answer",
    "Passage",
    "answer_kind",
    "answer_question",
    "can_answer",
    "rank_passages",
    "validate_question",
]

MAX_QUESTION_CHARS = 300
RETRIEVE = 30  # sentences kept by cosine before re-ranking: answers rank well inside this
LEXICAL = 0.5  # weight of the question's words found in a sentence, beside the cosine
# A passage scoring below this does not answer the question. Chosen on invented and Multi-News questions
# (bench/enrich_brief.py), where it keeps wrong answers rare rather than finding every right one.
ANSWER_THRESHOLD = 0.5
NEAR = 0.15  # passages after the first must score within this of it: the rest answer something else
REPEAT = 0.9  # a passage this similar to one already given (a wire copy in another outlet) is not repeated


@dataclass(frozen=True, slots=True)
class Answer:
    """The sentences that answer the question, best first; empty, with `found` False, when none does."""

    found: bool
    passages: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Passage:
    """A candidate sentence with its score: the cosine to the question plus `LEXICAL` times its word match."""

    score: float
    cosine: float
    source: int
    sentence: int


def validate_question(text: str) -> str:
    """The question, stripped; raises QuestionError, saying what to change, when it is empty, longer than
    `MAX_QUESTION_CHARS` or holds control characters."""
    question = text.strip()
    if not question:
        raise QuestionError("the question is empty: type what you want to know about this story")
    if len(question) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(question)} characters long; ask in at most {MAX_QUESTION_CHARS}"
        )
    if has_hidden_characters(question):
        raise QuestionError(
            "the question holds control characters, invisible formatting characters or line breaks: type it "
            "on one line"
        )
    return question


# What a question asks for, when its first words say it plainly: an amount or a time. A sentence that holds
# neither cannot answer "how much did it cost?" or "when will it reopen?", however close its words: the
# coverage does not say, rather than a sentence about the cost that gives none. Other questions (who, where,
# why, what) are left to the scores: their answers take too many forms to check this way.
_ASKS_AMOUNT = re.compile(
    r"^\s*(?:how\s+(?:much|many|long|far|old|big|large|high|tall|deep|fast|often|heavy)"
    r"|what\s+(?:percentage|proportion|share|number|amount|price|figure|sum|total))\b",
    re.IGNORECASE,
)
_ASKS_TIME = re.compile(
    r"^\s*(?:when|until\s+when|since\s+when|what\s+(?:time|day|date|year|month|week)|which\s+(?:day|date|year|month))\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|half|quarter|"
    r"third|double|twice|triple|several|few|many|most|all|none|no one|nobody|single)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\d|\b(?:today|tonight|yesterday|tomorrow|now|soon|later|earlier|ago|since|until|after|before|during|"
    r"morning|afternoon|evening|night|overnight|midnight|noon|dawn|weekend|week|month|year|decade|century|"
    r"spring|summer|autumn|fall|winter|season|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"hours?|days?|minutes?|date|time|immediately|already|recently|next|last|first)\b",
    re.IGNORECASE,
)


def answer_kind(question: str) -> str:
    """ "amount", "time" or "" (anything else): what kind of thing the question's first words ask for."""
    if _ASKS_AMOUNT.search(question):
        return "amount"
    if _ASKS_TIME.search(question):
        return "time"
    return ""


def can_answer(kind: str, sentence: str) -> bool:
    """Whether `sentence` holds the kind of thing asked for: an amount or a time, when that is asked."""
    if kind == "amount":
        return _AMOUNT.search(sentence) is not None
    if kind == "time":
        return _TIME.search(sentence) is not None
    return True


def answer_question(
    question: str,
    sources: Sequence[StorySource],
    sentence_vectors: Sequence[NDArray[np.floating]],
    embed: Embed,
    *,
    limit: int = 3,
    threshold: float = ANSWER_THRESHOLD,
) -> Answer:
    """Up to `limit` sentences of `sources` answering `question` (validated first), best first.

    `sentence_vectors[i]` holds one unit row per sentence of `sources[i]`, in order (`brief.embed_sentences`);
    only the question is embedded here.
    """
    question = validate_question(question)
    vector = np.asarray(embed([question]), dtype=np.float32)[0]
    kind = answer_kind(question)
    ranked = [
        p
        for p in rank_passages(question, vector, sources, sentence_vectors)
        if can_answer(kind, sources[p.source].sentences[p.sentence].text)
    ]
    if not ranked or ranked[0].score < threshold:
        return Answer(False, ())
    given: list[Passage] = []
    for passage in ranked:
        if len(given) == limit or passage.score < max(threshold, ranked[0].score - NEAR):
            break
        row = sentence_vectors[passage.source][passage.sentence]
        if any(_cosine(row, sentence_vectors[g.source][g.sentence]) >= REPEAT for g in given):
            continue
        given.append(passage)
    return Answer(True, tuple(_cite(sources[p.source], p.sentence) for p in given))


def rank_passages(
    question: str,
    question_vector: NDArray[np.float32],
    sources: Sequence[StorySource],
    sentence_vectors: Sequence[NDArray[np.floating]],
) -> list[Passage]:
    """The story's sentences closest to the question by cosine (`RETRIEVE` of them, boilerplate skipped),
    re-ranked by cosine plus `LEXICAL` times the IDF-weighted share of the question's content words each holds
    (1 when it holds them all)."""
    places = [
        (s, sentence.index) for s, source in enumerate(sources) for sentence in source.sentences
        if not is_boilerplate(sentence.text)
    ]  # fmt: skip
    if not places:
        return []
    rows = np.stack([np.asarray(sentence_vectors[s][i], dtype=np.float32) for s, i in places])
    cosines = rows @ question_vector.astype(np.float32)
    top = np.argsort(-cosines, kind="stable")[:RETRIEVE]
    bags = [set(content_terms(sources[s].sentences[i].text)) for s, i in places]
    weights = _term_weights(set(content_terms(question)), bags)
    total = sum(weights.values())
    passages = []
    for row in top:
        s, i = places[int(row)]
        match = sum(weights[term] for term in weights.keys() & bags[int(row)]) / total if total else 0.0
        cosine = float(cosines[row])
        passages.append(Passage(cosine + LEXICAL * match, cosine, s, i))
    return sorted(passages, key=lambda p: -p.score)


def _term_weights(wanted: set[str], bags: list[set[str]]) -> dict[str, float]:
    """IDF over the story's sentences of each of the question's content words. A word the story never uses
    weighs most, so a question about something else matches little of it."""
    frequency = Counter(term for bag in bags for term in bag & wanted)
    return {term: math.log((1 + len(bags)) / (1 + frequency[term])) + 1.0 for term in wanted}


def _cosine(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    return float(np.dot(a.astype(np.float32), b.astype(np.float32)))


def _cite(source: StorySource, index: int) -> Citation:
    return Citation(source.article_id, source.outlet, index, source.sentences[index].text)
