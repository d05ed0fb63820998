"""A story's brief: the points its coverage agrees on, each citing the outlets' sentences that carry it, and per
outlet what only that outlet reports. Extractive: every point is one stored sentence, word for word.

Owns comparing sentences across a story's articles and choosing them; splitting is `sentences`', vectors are
`embed`'s, grouping articles into stories is `cluster`'s, storing the brief is the store's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.keypoints import MAX_WORDS, Embed, is_boilerplate
from broadsheet.enrich.sentences import Sentence

__all__ = [
    "BRIEF_WEIGHTS",
    "Brief",
    "BriefPoint",
    "BriefWeights",
    "Citation",
    "StorySource",
    "embed_sentences",
    "story_brief",
]

Matrix = NDArray[np.float64]

MAX_SENTENCES = 40  # per article: news puts the essentials first, and cost grows with the square of the count
# Longer than a key point may be: a brief has room for a long sentence that many outlets share.
MAX_POINT_WORDS = 80


@dataclass(frozen=True, slots=True)
class StorySource:
    """One article of the story: its sentences are `split_sentences` of its stored text (title apart)."""

    article_id: int
    outlet: str
    published: datetime | None
    sentences: Sequence[Sentence]
    title: str


@dataclass(frozen=True, slots=True)
class Citation:
    """`text` IS sentence number `sentence` of article `article_id`, character for character."""

    article_id: int
    outlet: str
    sentence: int
    text: str


@dataclass(frozen=True, slots=True)
class BriefPoint:
    """A point as shown (one source sentence verbatim) and the sentences carrying it, the shown one first."""

    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Brief:
    """What the coverage agrees on (each point backed by two outlets or more), best first; per outlet, what
    only it reports; and how many articles and outlets the brief was built from."""

    agreed: tuple[BriefPoint, ...]
    only: dict[str, tuple[BriefPoint, ...]]
    article_count: int
    outlet_count: int


@dataclass(frozen=True, slots=True)
class BriefWeights:
    """When sentences agree, and how a sentence's importance is scored."""

    agree: float  # cosine at or above which sentences of two outlets say the same thing
    unique: float  # a sentence whose best match in every other outlet is below this is that outlet's alone
    position: float  # weight of the lead prior 1 / (1 + rank / position_scale), rank 0 an article's first
    position_scale: float  # in sentences: how fast the lead prior fades
    support: float  # weight of the share of other outlets backing a sentence (soft: their best cosines)
    centrality: float  # weight of the mean similarity to every other sentence of the story, max scaled to 1
    title: float  # weight of the mean similarity to the articles' titles
    redundancy: float  # MMR: how much the similarity to a chosen point counts against a sentence
    duplicate: float  # a sentence at least this similar to a chosen point says it again: never chosen


# Chosen on Multi-News dev (bench/enrich_brief.py), where ROUGE is flat around these values: being backed by
# other outlets and central predicts a reference's words better than the lead does; penalising quotes, mixing in
# TF-IDF similarity or a gap between `unique` and `agree` lowered it. Multi-News has no titles: the title weight
# follows bench/enrich.py, where the title helped key points on CNN/DM and BBC.
BRIEF_WEIGHTS = BriefWeights(
    agree=0.7, unique=0.7, position=0.5, position_scale=2.0, support=1.0, centrality=1.0, title=0.5,
    redundancy=0.5, duplicate=0.8,
)  # fmt: skip


def embed_sentences(sentences: Sequence[Sentence], embed: Embed) -> NDArray[np.float16]:
    """One vector per sentence of an article, in order, as float16: what the store keeps for briefs and
    questions (half the bytes; cosines move by less than 1e-3)."""
    if not sentences:
        return np.zeros((0, 0), dtype=np.float16)
    return np.asarray(embed([sentence.text for sentence in sentences]), dtype=np.float16)


def story_brief(
    sources: Sequence[StorySource],
    embed: Embed,
    *,
    max_agreed: int = 6,
    max_only: int = 3,
    max_words: int | None = None,
    sentence_vectors: Sequence[NDArray[np.floating]] | None = None,
    weights: BriefWeights = BRIEF_WEIGHTS,
) -> Brief:
    """The brief of a story told by `sources` (in any order; outlets compared case-insensitively).

    A point is agreed when sentences of at least two outlets match (cosine >= `weights.agree`); several articles
    of one outlet never agree with each other. Points are chosen best first, agreed ones before each outlet's
    own, while the brief is under `max_words` words (if given); each list is shown in the order the coverage
    tells it (earliest sentence first). `sentence_vectors`, when given, holds one row per sentence of
    each source (as `embed_sentences` makes them) and `embed` is then called only for the titles.
    """
    outlets = _outlet_keys(sources)
    candidates = [
        (s, sentence) for s, source in enumerate(sources) for sentence in source.sentences[:MAX_SENTENCES]
        if _is_candidate(sentence.text)
    ]  # fmt: skip
    distinct = len(set(outlets))
    if not candidates:
        return Brief((), {}, len(sources), distinct)
    vectors, titles = _vectors(sources, candidates, embed, sentence_vectors)
    similarity = np.clip(vectors @ vectors.T, 0.0, 1.0)
    owner = np.array([outlets[s] for s, _ in candidates])
    best, match = _best_per_outlet(similarity, owner, distinct)
    score = _importance(candidates, similarity, best, titles @ vectors.T, weights)

    def point(members: list[int]) -> BriefPoint:
        """The first member shown: MMR picked it as the group's best (see `_pick`)."""
        shown = candidates[members[0]][1]
        return BriefPoint(shown.text, tuple(_cite(sources, *candidates[row]) for row in members))

    backed = best >= weights.agree
    # Two agreed points as alike as agreeing sentences would say one thing twice.
    once = min(weights.duplicate, weights.agree)
    agreed_rows = _pick(score, similarity, np.any(backed, axis=1), max_agreed, weights.redundancy, once, [])
    groups = [[row, *(int(match[row, o]) for o in np.flatnonzero(backed[row]))] for row in agreed_rows]
    lonely = best.max(axis=1) < weights.unique
    taken = [row for group in groups for row in group]
    columns = [
        _pick(
            score, similarity, lonely & (owner == key), max_only, weights.redundancy, weights.duplicate, taken
        )
        for key in range(distinct)
    ]
    groups, columns = _within(groups, columns, candidates, max_words)
    agreed = tuple(point(group) for group in sorted(groups, key=lambda group: _place(candidates, group)))
    only = {
        sources[candidates[rows[0]][0]].outlet: tuple(
            point([row]) for row in sorted(rows, key=lambda row: _place(candidates, [row]))
        )
        for rows in columns
        if rows
    }
    return Brief(agreed, only, len(sources), distinct)


def _is_candidate(text: str) -> bool:
    """Whether a sentence may be a point: not furniture, a question, a fragment or a run-on list."""
    words = text.split()
    if len(words) <= MAX_WORDS:
        return not is_boilerplate(text)
    ending = text.rstrip("\"'”’») ").endswith("?")
    return len(words) <= MAX_POINT_WORDS and not ending and not is_boilerplate(" ".join(words[:MAX_WORDS]))


def _within(
    groups: list[list[int]],
    columns: list[list[int]],
    candidates: list[tuple[int, Sentence]],
    words: int | None,
) -> tuple[list[list[int]], list[list[int]]]:
    """The points that fit in `words` words: the agreed ones first, best first, then the outlets' own, the best
    of each outlet in turn; the first always fits. All of them when `words` is None."""
    if words is None:
        return groups, columns
    used = 0

    def fits(row: int) -> bool:
        nonlocal used
        if used >= words:
            return False
        used += len(candidates[row][1].text.split())
        return True

    kept_groups = [group for group in groups if fits(group[0])]
    kept: list[list[int]] = [[] for _ in columns]
    for depth in range(max((len(rows) for rows in columns), default=0)):
        for rows, into in zip(columns, kept, strict=True):
            if depth < len(rows) and fits(rows[depth]):
                into.append(rows[depth])
    return kept_groups, kept


def _place(candidates: list[tuple[int, Sentence]], rows: list[int]) -> tuple[int, int]:
    """Where a point comes in the telling: the earliest sentence number carrying it, then the article's order."""
    return min((candidates[row][1].index, candidates[row][0]) for row in rows)


def _cite(sources: Sequence[StorySource], s: int, sentence: Sentence) -> Citation:
    return Citation(sources[s].article_id, sources[s].outlet, sentence.index, sentence.text)


def _outlet_keys(sources: Sequence[StorySource]) -> list[int]:
    """A number per source: sources of one outlet share it, and a source without an outlet is its own."""
    keys: dict[str, int] = {}
    numbers = []
    for s, source in enumerate(sources):
        name = " ".join(source.outlet.casefold().split()) or f"\0{s}"
        numbers.append(keys.setdefault(name, len(keys)))
    return numbers


def _vectors(
    sources: Sequence[StorySource],
    candidates: list[tuple[int, Sentence]],
    embed: Embed,
    stored: Sequence[NDArray[np.floating]] | None,
) -> tuple[Matrix, Matrix]:
    """Unit rows for the candidate sentences, and for the non-empty titles (zero rows when there are none)."""
    titles = [source.title for source in sources if source.title.strip()]
    texts = titles if stored is not None else [*titles, *(sentence.text for _, sentence in candidates)]
    embedded = np.asarray(embed(texts), dtype=np.float64) if texts else np.zeros((0, 0))
    if stored is None:
        rows = embedded[len(titles) :]
    else:
        rows = np.array([stored[s][sentence.index] for s, sentence in candidates], dtype=np.float64)
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    heads = embedded[: len(titles)] if titles else np.zeros((0, rows.shape[1]))
    return rows, heads


def _best_per_outlet(
    similarity: Matrix, owner: NDArray[np.int_], outlets: int
) -> tuple[Matrix, NDArray[np.intp]]:
    """`best[i, o]`: the highest similarity of sentence i to a sentence of outlet o (0 for i's own outlet), and
    `match[i, o]` the row of that sentence."""
    best = np.zeros((similarity.shape[0], outlets))
    match = np.zeros((similarity.shape[0], outlets), dtype=np.intp)
    for outlet in range(outlets):
        rows = np.flatnonzero(owner == outlet)
        if not rows.size:  # every sentence of that outlet is furniture
            continue
        within = similarity[:, rows]
        at = within.argmax(axis=1)
        match[:, outlet] = rows[at]
        best[:, outlet] = within[np.arange(len(owner)), at]
    best[np.arange(len(owner)), owner] = 0.0
    return best, match


def _importance(
    candidates: list[tuple[int, Sentence]],
    similarity: Matrix,
    best: Matrix,
    to_titles: Matrix,
    weights: BriefWeights,
) -> Matrix:
    """Each candidate's importance: near its article's lead, backed by other outlets, central, like the titles."""
    rank = np.zeros(len(candidates))
    seen: dict[int, int] = {}
    for row, (s, _) in enumerate(candidates):
        rank[row] = seen.get(s, 0)
        seen[s] = int(rank[row]) + 1
    lead = 1.0 / (1.0 + rank / weights.position_scale)
    others = best.shape[1] - 1
    support = best.sum(axis=1) / others if others else np.zeros(len(candidates))
    centrality = (similarity.sum(axis=1) - 1.0) / max(len(candidates) - 1, 1)
    centrality = centrality / max(float(centrality.max()), 1e-12)
    title = to_titles.mean(axis=0) if to_titles.size else np.zeros(len(candidates))
    score: Matrix = (
        weights.position * lead
        + weights.support * support
        + weights.centrality * centrality
        + weights.title * title
    )
    return score


def _pick(
    score: Matrix, similarity: Matrix, allowed: NDArray[np.bool_], count: int, redundancy: float,
    duplicate: float, taken: list[int],
) -> list[int]:  # fmt: skip
    """Up to `count` allowed rows, best first, by maximal marginal relevance; rows at least `duplicate` similar
    to a chosen row or to one of `taken` are out."""
    available = allowed.copy()
    penalty = np.zeros(len(score))
    for row in taken:
        penalty = np.maximum(penalty, similarity[row])
    available &= penalty < duplicate
    chosen: list[int] = []
    while len(chosen) < count and available.any():
        gain = np.where(available, score - redundancy * penalty, -np.inf)
        row = int(np.argmax(gain))
        chosen.append(row)
        penalty = np.maximum(penalty, similarity[row])
        available &= penalty < duplicate
        available[row] = False
    return chosen
