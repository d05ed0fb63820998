"""The online story clusterer: each article, in publish order, joins the open story it scores best with or
starts a new one; stories merge, split and close as the stream goes on.

Owns the open window (stories, their centroids as one matrix, the window's term statistics) and every
decision, each returned as plain data. Storing stories and articles is the caller's job.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from broadsheet import text
from broadsheet.cluster.centring import LanguageMeans
from broadsheet.cluster.config import ClusterConfig
from broadsheet.cluster.features import ArticleFeatures, article_features, hash_term
from broadsheet.cluster.similarity import WindowStats, article_score, decay, split_in_two, story_score
from broadsheet.cluster.story import Member, Story, StorySnapshot
from broadsheet.cluster.vectors import SparseVector, unit_tf, weighted

__all__ = ["Assignment", "ClusterItem", "Merge", "Split", "StoryClusterer"]

_CHECK_GROWTH = 1.5  # a story is re-checked (merge, split) each time it has grown by half
# Rows per matrix-vector product. OpenBLAS runs larger products on several threads, and on a busy 2-core
# machine that made 4 096 centroids x 384 take 7.8 ms instead of 0.1 ms; blocks this size stay on one thread.
_BLOCK = 1024


@dataclass(frozen=True, slots=True)
class ClusterItem:
    """One article to place. `embedding` is an L2-normalised vector of title and lead; a copy of another
    article (`duplicate_of`) needs none, since it joins its original's story. `features` may carry
    precomputed text features; otherwise they are extracted from `title` and `text`. `multilingual`, a
    vector of the same text in a multilingual space, and `lang` (a language code; "" when unknown, read as
    English) let the article join a story told in other languages (see ClusterConfig)."""

    id: int
    published: datetime  # timezone-aware
    title: str
    embedding: NDArray[np.float32] | None
    text: str = ""
    outlet: str = ""
    duplicate_of: int | None = None
    features: ArticleFeatures | None = None
    lang: str = ""
    multilingual: NDArray[np.float32] | None = None


@dataclass(frozen=True, slots=True)
class Merge:
    """Story `merged` was folded into the older story `into`, taking its articles (`moved`) along."""

    merged: int
    into: int
    score: float
    reason: str
    moved: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Split:
    """Story `story` turned out to hold two events: its articles `moved` now make up `new_story`."""

    story: int
    new_story: int
    score: float
    reason: str
    moved: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an article went. `score` is its combined similarity with the story it joined; for a new story,
    the best score that fell short (0 when no story was open). `story_id` is where the article is after any
    merge or split this article set off."""

    article_id: int
    story_id: int
    new: bool
    score: float
    merges: tuple[Merge, ...] = ()
    splits: tuple[Split, ...] = ()


class StoryClusterer:
    """Streaming story clustering. Feed articles in publish order with `add`; call `close_quiet` now and then
    to learn which stories closed; `snapshot` describes a story. Deterministic: the same articles in the
    same order give the same stories with the same ids."""

    def __init__(
        self,
        config: ClusterConfig | None = None,
        first_id: int = 1,
        *,
        language_origin: NDArray[np.float32] | None = None,
    ) -> None:
        """`language_origin` is the multilingual encoder's mean vector over a reference set of texts: what
        each language's mean is drawn towards while the window holds few articles (cluster/centring.py)."""
        self.config = config or ClusterConfig()
        self._origin = language_origin
        self._next_id = first_id
        self._stories: dict[int, Story] = {}
        self._story_of: dict[int, int] = {}  # article id -> open story id
        self._stats = WindowStats()
        self._clock = -math.inf
        self._centroids = np.zeros((0, 0), dtype=np.float32)  # one row per slot; free rows are zero
        self._multi = np.zeros((0, 0), dtype=np.float32)  # multilingual sums, slot by slot
        self._multi_langs = np.zeros((0, 0), dtype=np.float32)  # their counts per language column
        self._lang_column: dict[str, int] = {}
        self._means = LanguageMeans(0, self.config.language_prior)
        self._slot_story = np.zeros(0, dtype=np.int64)  # story id per slot, -1 when free
        self._slot_of: dict[int, int] = {}
        self._free: list[int] = []  # a heap: the lowest free slot is reused first, keeping the live rows low
        self._rows = 0  # slots below this may be live; the ones above are all free
        self._quiet: list[tuple[float, int]] = []  # a heap of (last article, story id); stale entries skipped
        self._checked: dict[int, int] = {}  # story id -> size at its last re-check
        self._closed: list[int] = []
        self._retired: dict[int, StorySnapshot] = {}
        self._retired_before: dict[int, StorySnapshot] = {}

    # --- public -----------------------------------------------------------------------------------------------

    def add(self, item: ClusterItem) -> Assignment:
        """Place one article: its original's story for a copy, else its best open story or a new one."""
        published = _seconds(item.published)
        self._clock = max(self._clock, published)
        self._expire()
        if item.duplicate_of is not None and item.duplicate_of in self._story_of:
            story = self._stories[self._story_of[item.duplicate_of]]
            self._join(story, self._member(item, published, copy=True))
            return Assignment(item.id, story.id, new=False, score=1.0)
        if item.embedding is None:
            raise ValueError(
                f"article {item.id} has no embedding and is not a copy of an article in an open story: "
                "embed it (a copy of a closed story's article is placed like any other article)"
            )
        member = self._member(item, published)
        self._count_in(member)
        best, score, margin = self._best_story(member)
        new = best is None or margin < 0
        story = self._new_story() if new or best is None else best
        self._join(story, member)
        merges, splits = self._recheck(story.id, item.id)
        return Assignment(item.id, self._story_of[item.id], new, score, merges, splits)

    def restore(self, item: ClusterItem, story_id: int) -> None:
        """Put back an article of a story that was open when the process stopped, without deciding anything:
        feeding the open window's articles back in publish order rebuilds the window as it was."""
        published = _seconds(item.published)
        self._clock = max(self._clock, published)
        copy = item.duplicate_of is not None and item.embedding is None
        member = self._member(item, published, copy=copy)
        if not copy:
            self._count_in(member)
        story = self._stories.get(story_id)
        if story is None:
            story = self._new_story(story_id)
        self._join(story, member)
        self._checked[story_id] = _last_checkpoint(story.vectors)

    def close_quiet(self, now: datetime | None = None) -> list[int]:
        """Close the stories quiet for longer than the gap (up to `now`, or the latest article seen) and
        return the ids of every story closed since the previous call. Snapshots of stories closed or merged
        away stay available until the call after next."""
        if now is not None:
            self._clock = max(self._clock, _seconds(now))
        self._retired_before, self._retired = self._retired, {}
        self._expire()
        closed, self._closed = self._closed, []
        return closed

    def snapshot(self, story_id: int) -> StorySnapshot:
        """A story as it stands: open, or recently closed or merged away. KeyError for any other id."""
        if story_id in self._stories:
            return self._stories[story_id].snapshot()
        for retired in (self._retired, self._retired_before):
            if story_id in retired:
                return retired[story_id]
        raise KeyError(f"story {story_id} is not open and was not closed or merged recently")

    def story_of(self, article_id: int) -> int | None:
        """The open story holding this article, if any."""
        return self._story_of.get(article_id)

    def open_ids(self) -> list[int]:
        return sorted(self._stories)

    def nearest(self, story_id: int, limit: int, min_cosine: float = 0.0) -> list[int]:
        """The open stories whose centroids are closest to this open story's, closest first (ties by id):
        "related stories". Empty for a story that is not open."""
        slot = self._slot_of.get(story_id)
        if slot is None:
            return []
        # A story told in other languages is compared in the multilingual space, where its English
        # neighbours are too.
        matrix = self._centroids if self._mono(self._stories[story_id]) else self._centred_multi()
        cosines = self._cosines(matrix[slot], matrix)
        cosines[slot] = -np.inf
        order = sorted(
            (int(i) for i in np.flatnonzero(cosines >= min_cosine)),
            key=lambda i: (-float(cosines[i]), int(self._slot_story[i])),
        )
        return [int(self._slot_story[i]) for i in order[:limit]]

    # --- placing an article -----------------------------------------------------------------------------------

    def _member(self, item: ClusterItem, published: float, *, copy: bool = False) -> Member:
        if copy:
            empty = SparseVector.empty()
            return Member(item.id, published, item.outlet, None, empty, empty, (), False, item.duplicate_of)
        if item.embedding is None:
            raise ValueError(f"article {item.id} has no embedding")
        self._use_dim(len(item.embedding))
        embedding = _unit(item.id, np.asarray(item.embedding, dtype=np.float32))
        features = item.features or article_features(item.title, item.text)
        names = {hash_term(name): n for name, n in features.names.items()}
        multilingual = None
        if item.multilingual is not None:
            self._use_multi_dim(len(item.multilingual))
            multilingual = _unit(item.id, np.asarray(item.multilingual, dtype=np.float32))
        return Member(
            id=item.id,
            published=published,
            outlet=item.outlet,
            embedding=embedding,
            terms=unit_tf(features.terms),
            names=unit_tf(names),
            name_strings=tuple(features.names),
            full_text=features.body_words >= self.config.min_body_words,
            duplicate_of=item.duplicate_of,
            lang=primary_language(item.lang),
            multilingual=multilingual,
        )

    def _best_story(self, member: Member) -> tuple[Story | None, float, float]:
        """The open story the article clears its threshold by most (the lowest id among equals), its score
        and that margin, among the `candidates` nearest centroids in each space the article is judged in. A
        candidate that could not beat the best margin so far even with perfect word and name scores is not
        scored: the result is the same, sooner."""
        assert member.embedding is not None
        if not self._stories:
            return None, 0.0, -math.inf
        mono = self._cosines(member.embedding, self._centroids)
        slots = self._nearest_slots(mono)
        multi = None
        if member.multilingual is not None and self._multi.shape[1]:
            centred = self._means.centre(member.lang, member.multilingual)
            multi = self._cosines(centred, self._centred_multi())
            # An English article meets English-only stories through the English model's candidates.
            slots |= {
                s for s in self._nearest_slots(multi) if self._path(member, self._story_at(s)) != "mono"
            }
        terms = weighted(member.terms, self._stats.terms)
        names = weighted(member.names, self._stats.names)
        config = self.config
        ceiling = config.terms_weight * bool(len(terms)) + config.names_weight * bool(len(names))
        best: Story | None = None
        best_score, best_margin = 0.0, -math.inf
        for slot in sorted(slots, key=lambda s: int(self._slot_story[s])):
            story = self._story_at(slot)
            fade = decay(config, member.published - story.last_original, not member.full_text)
            path = self._path(member, story)
            cosine = float(mono[slot] if path == "mono" or multi is None else multi[slot])
            if path == "cross":
                score, threshold = fade * cosine, config.cross_language_threshold
            else:
                if path == "mono":
                    threshold = config.threshold if member.full_text else config.headline_threshold
                elif member.full_text:
                    threshold = config.multilingual_threshold
                else:
                    threshold = config.same_language_threshold
                if fade * (config.embedding_weight * cosine + ceiling) - threshold <= best_margin:
                    continue
                score = fade * article_score(config, cosine, terms, names, story, self._stats)
            if score - threshold > best_margin:  # slots go by story id: the lowest id wins a tie
                best, best_score, best_margin = story, score, score - threshold
        return best, max(best_score, 0.0), best_margin

    def _path(self, member: Member, story: Story) -> str:
        """How an article is judged against a story: "mono" (the main embedding and the combined score: the
        article or the story has no multilingual embedding), "same" (the multilingual embedding centred on each
        language's mean, and the combined score: the story has the article's language) or "cross" (the
        centred multilingual embedding alone: it has not)."""
        if member.multilingual is None or not story.multi_vectors:
            return "mono"
        if member.lang == "en" and member.full_text and self._mono(story):
            return "mono"
        return "same" if member.lang in story.langs else "cross"

    def _mono(self, story: Story) -> bool:
        """Whether a story is compared by the main (English) embedding: when it has no multilingual one, and
        when it is English full text, which the English model tells apart better (bench/clustering.py)."""
        return not story.multi_vectors or (story.full_text and set(story.langs) <= {"en"})

    def _story_at(self, slot: int) -> Story:
        return self._stories[int(self._slot_story[slot])]

    def _nearest_slots(self, cosines: NDArray[np.float32]) -> set[int]:
        count = min(self.config.candidates, len(self._stories))
        return {int(i) for i in np.argpartition(-cosines, count - 1)[:count] if np.isfinite(cosines[i])}

    def _cosines(self, vector: NDArray[np.float32], matrix: NDArray[np.float32]) -> NDArray[np.float32]:
        """Cosine of `vector` with the centroid in each slot below `_rows` of `matrix`; -inf for free slots."""
        out = np.empty(self._rows, dtype=np.float32)
        for start in range(0, self._rows, _BLOCK):
            end = min(start + _BLOCK, self._rows)
            np.matmul(matrix[start:end], vector, out=out[start:end])
        out[self._slot_story[: self._rows] < 0] = -np.inf
        return out

    def _join(self, story: Story, member: Member) -> None:
        story.add(member)
        self._story_of[member.id] = story.id
        self._set_centroids(story)
        heapq.heappush(self._quiet, (story.last, story.id))

    # --- merges and splits ------------------------------------------------------------------------------------

    def _recheck(self, story_id: int, article_id: int) -> tuple[tuple[Merge, ...], tuple[Split, ...]]:
        """Each time a story has grown by half: split it if it holds two events, then merge the article's
        story with a neighbour it has become one event with."""
        story = self._stories[story_id]
        if story.vectors < _next_checkpoint(self._checked.get(story_id, 1)):
            return (), ()
        self._checked[story_id] = story.vectors
        splits: tuple[Split, ...] = ()
        low, high = self.config.split_sizes
        if low <= story.vectors <= high and story.full_text:
            split = self._try_split(story)
            if split is not None:
                splits = (split,)
        merge = self._try_merge(self._stories[self._story_of[article_id]])
        return ((merge,) if merge else ()), splits

    def _try_split(self, story: Story) -> Split | None:
        multilingual = not self._mono(story) and story.multi_vectors == story.vectors
        halves = split_in_two(
            self.config, story.members, self._stats, multilingual=multilingual, means=self._means
        )
        if halves is None:
            return None
        keep, other = (self._loose_story(story.id, part) for part in halves)
        score = story_score(
            self.config, keep, other, self._stats, multilingual=multilingual, means=self._means
        )
        if score >= self.config.split_threshold:
            return None
        new = self._new_story()
        self._replace(story.id, keep)
        self._replace(new.id, other)
        for part in (keep, other):
            self._checked[part.id] = part.vectors
        return Split(
            story=story.id,
            new_story=new.id,
            score=score,
            reason=f"two events: its halves score {score:.2f} < {self.config.split_threshold:.2f}",
            moved=tuple(m.id for m in other.members),
        )

    def _try_merge(self, story: Story) -> Merge | None:
        mono = self._mono(story)
        if mono:
            cosines = self._cosines(story.centroid(), self._centroids)
        else:
            cosines = self._cosines(story.multi_centroid(self._means), self._centred_multi())
        cosines[self._slot_of[story.id]] = -np.inf
        if not np.isfinite(cosines).any():
            return None
        slot = int(np.argmax(cosines))
        other = self._stories[int(self._slot_story[slot])]
        multilingual = not (mono and self._mono(other))
        if multilingual and not (
            story.multi_vectors and other.multi_vectors and set(story.langs) & set(other.langs)
        ):
            return None  # stories that share no language are not merged: their words and names never meet
        # Stories whose coverage lies apart in time are discounted as an article is by a quiet story.
        apart = max(story.first, other.first) - min(story.last, other.last)
        score = story_score(
            self.config, story, other, self._stats, multilingual=multilingual, means=self._means
        )
        score *= decay(self.config, apart)
        if score < self.config.merge_threshold:
            return None
        keep, gone = (story, other) if story.id < other.id else (other, story)
        moved = tuple(m.id for m in gone.members)
        self._retire(gone, "merged", keep.id)
        for member in gone.members:
            self._join(keep, member)
        return Merge(
            merged=gone.id,
            into=keep.id,
            score=score,
            reason=f"one event: the stories score {score:.2f} >= {self.config.merge_threshold:.2f}",
            moved=moved,
        )

    # --- the window -------------------------------------------------------------------------------------------

    def _new_story(self, story_id: int | None = None) -> Story:
        if story_id is None:
            story_id = self._next_id
        self._next_id = max(self._next_id, story_id + 1)
        story = Story(story_id, self._dim, self.config.max_story_terms, self._multi_dim)
        self._stories[story_id] = story
        if not self._free:
            self._grow()
        slot = heapq.heappop(self._free)
        self._rows = max(self._rows, slot + 1)
        self._slot_of[story_id] = slot
        self._slot_story[slot] = story_id
        return story

    def _loose_story(self, story_id: int, members: list[Member]) -> Story:
        story = Story(story_id, self._dim, self.config.max_story_terms, self._multi_dim)
        for member in members:
            story.add(member)
        return story

    def _replace(self, story_id: int, story: Story) -> None:
        """Install a rebuilt story under `story_id` (which must have a slot)."""
        story.id = story_id
        self._stories[story_id] = story
        for member in story.members:
            self._story_of[member.id] = story_id
        self._set_centroids(story)
        heapq.heappush(self._quiet, (story.last, story_id))

    def _expire(self) -> None:
        """Close every story whose last article is older than the gap, oldest first."""
        horizon = self._clock - self.config.gap.total_seconds()
        while self._quiet and self._quiet[0][0] < horizon:
            last, story_id = heapq.heappop(self._quiet)
            story = self._stories.get(story_id)
            if story is None or story.last != last:
                continue  # closed or merged away already, or it has grown since
            for member in story.members:
                if member.embedding is not None:
                    self._stats.count_out(member)
                    if member.multilingual is not None:
                        self._means.count_out(member.lang, member.multilingual)
            self._retire(story, "closed", None)
            self._closed.append(story_id)

    def _retire(self, story: Story, status: str, merged_into: int | None) -> None:
        self._retired[story.id] = story.snapshot(status, merged_into)
        del self._stories[story.id]
        self._checked.pop(story.id, None)
        for member in story.members:
            if self._story_of.get(member.id) == story.id:
                del self._story_of[member.id]
        slot = self._slot_of.pop(story.id)
        self._slot_story[slot] = -1
        self._centroids[slot] = 0.0
        self._multi[slot] = 0.0
        self._multi_langs[slot] = 0.0
        heapq.heappush(self._free, slot)
        while self._rows and self._slot_story[self._rows - 1] < 0:
            self._rows -= 1

    def _set_centroids(self, story: Story) -> None:
        slot = self._slot_of[story.id]
        self._centroids[slot] = story.centroid()
        if self._multi_dim:
            self._multi[slot] = story.multi_sum
            for lang, n in story.multi_langs.items():
                column = self._column(lang)  # first: a new language widens the matrix
                self._multi_langs[slot, column] = n

    def _count_in(self, member: Member) -> None:
        self._stats.count_in(member)
        if member.multilingual is not None:
            self._means.count_in(member.lang, member.multilingual)

    def _column(self, lang: str) -> int:
        """The column of `_multi_langs` counting a language's articles, added on its first article."""
        column = self._lang_column.get(lang)
        if column is None:
            column = self._lang_column[lang] = len(self._lang_column)
            grown = np.zeros((self._multi_langs.shape[0], column + 1), dtype=np.float32)
            grown[:, :column] = self._multi_langs
            self._multi_langs = grown
        return column

    def _centred_multi(self) -> NDArray[np.float32]:
        """Each slot's multilingual centroid with every member centred on its language's mean as it stands
        (the means move with every article, so this is worked out when needed): unit rows, zero when free."""
        rows = self._rows
        means = np.zeros((len(self._lang_column), self._multi_dim), dtype=np.float32)
        for lang, column in self._lang_column.items():
            means[column] = self._means.mean(lang)
        centred = self._multi[:rows] - self._multi_langs[:rows] @ means
        norms = np.linalg.norm(centred, axis=1, keepdims=True)
        centred /= np.maximum(norms, 1e-6)
        return centred

    @property
    def _dim(self) -> int:
        return int(self._centroids.shape[1])

    @property
    def _multi_dim(self) -> int:
        return int(self._multi.shape[1])

    def _use_multi_dim(self, dim: int) -> None:
        """As `_use_dim`, for the multilingual embedding (which may start after some stories exist)."""
        if self._multi_dim == dim:
            return
        if self._multi_dim:
            raise ValueError(
                f"multilingual embedding has {dim} dimensions, the open stories have {self._multi_dim}"
            )
        self._multi = np.zeros((len(self._slot_story), dim), dtype=np.float32)
        origin = self._origin if self._origin is not None and self._origin.shape == (dim,) else None
        self._means = LanguageMeans(dim, self.config.language_prior, origin)
        for story in self._stories.values():
            story.multi_sum = np.zeros(dim, dtype=np.float64)

    def _use_dim(self, dim: int) -> None:
        """Fix the embedding size on the first embedding seen; refuse any other size afterwards."""
        if self._dim == dim:
            return
        if self._dim or any(story.vectors for story in self._stories.values()):
            raise ValueError(f"embedding has {dim} dimensions, the open stories have {self._dim}")
        self._centroids = np.zeros((len(self._slot_story), dim), dtype=np.float32)
        for story in self._stories.values():
            story.embedding_sum = np.zeros(dim, dtype=np.float64)

    def _grow(self) -> None:
        old = len(self._slot_story)
        size = max(64, 2 * old)
        centroids = np.zeros((size, self._centroids.shape[1]), dtype=np.float32)
        centroids[:old] = self._centroids
        self._centroids = centroids
        multi = np.zeros((size, self._multi.shape[1]), dtype=np.float32)
        multi[:old] = self._multi
        self._multi = multi
        langs = np.zeros((size, self._multi_langs.shape[1]), dtype=np.float32)
        langs[:old] = self._multi_langs
        self._multi_langs = langs
        self._slot_story = np.concatenate([self._slot_story, np.full(size - old, -1, dtype=np.int64)])
        for slot in range(old, size):
            heapq.heappush(self._free, slot)


def primary_language(code: str) -> str:
    """ "pt-BR" -> "pt"; an unknown language ("", or not a language tag) is read as English, the language of
    the default model."""
    return text.primary_language(code) or "en"


def _unit(article_id: int, vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    if not norm or not math.isfinite(norm):
        raise ValueError(f"article {article_id} has an embedding of length {norm}")
    return vector if abs(norm - 1) < 1e-3 else vector / norm


def _seconds(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"publish times must be timezone-aware, not {moment.isoformat()}")
    return moment.timestamp()


def _last_checkpoint(size: int) -> int:
    """The size at which a story of `size` articles was last re-checked, had it grown one by one."""
    checked = 1
    while _next_checkpoint(checked) <= size:
        checked = _next_checkpoint(checked)
    return checked


def _next_checkpoint(checked: int) -> int:
    """Sizes 2, 3, 4, 6, 9, 13, 19, 28, 42, 63, 94, ...: a story is re-checked as it grows by half."""
    return max(checked + 1, int(checked * _CHECK_GROWTH))
