"""The story clusterer's settings, with defaults measured on real labelled news (bench/clustering.py).

Owns the numbers and their checks only; what they do is said where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

__all__ = ["ClusterConfig"]


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How articles are grouped into stories.

    An article's score against an open story is `embedding_weight` x cosine of its embedding with the
    story's centroid + `terms_weight` x TF-IDF cosine of its words with the story's + `names_weight` x
    TF-IDF cosine of its named things with the story's, the whole multiplied by 0.5 for every `half_life`
    the story has been quiet (by default the gap: a story about to close pulls half as hard as a fresh one). It
    joins the best of its `candidates` nearest stories when the score reaches `threshold`, and starts a new story
    otherwise.

    An article whose body has fewer than `min_body_words` words is a headline alone: weak evidence, which scores
    lower (`headline_threshold`) and fades faster (`headline_half_life`, 12 hours) than full text, whose
    half-life is the gap, so an event told over several days stays one story. The headline settings, like the
    language thresholds below, were chosen on three distributions together (og2021 dev, real headlines in 9
    languages with real times; UCI News with its times removed; ECB+ dev, full text), taking the setting whose
    worst F1 relative to each set's best was highest (bench/stories_multilingual.py clusterer --languages): the
    30-minute half-life chosen on UCI alone split real stories whose headlines arrive hours apart.

    A story is compared with its nearest neighbours each time it grows by half: stories scoring at least
    `merge_threshold` against each other merge. While a full-text story has between `split_sizes` articles,
    it is also split in two when its two most distinct halves (each of `split_min_part` or more) score
    below `split_threshold` against each other: two events of one kind caught in one story early on.
    A story with no new article for `gap` closes and leaves memory.

    Across languages (articles given a multilingual embedding too, and a language): every pair is scored by
    the multilingual embedding, each vector less the mean of its language's vectors in the open window
    (`language_prior` draws a rare language's mean towards the window's; cluster/centring.py): without that,
    a multilingual encoder's vectors cluster by language before they cluster by event. When the story already
    has an article in the article's language, by the combined score (a headline alone then joins at
    `same_language_threshold`, full text at `multilingual_threshold`); when it has none, by the centred cosine
    alone, faded the same way, against `cross_language_threshold`, since words and names of two languages
    never match. The article joins the candidate that clears its own threshold by the widest margin. The main
    embedding and `threshold` / `headline_threshold` then only find candidates, and decide for articles or
    stories without a multilingual embedding.
    """

    gap: timedelta = timedelta(days=3)
    half_life: timedelta | None = None
    headline_half_life: timedelta | None = timedelta(hours=12)
    threshold: float = 0.3
    headline_threshold: float = 0.25
    same_language_threshold: float = 0.17
    multilingual_threshold: float = 0.25
    cross_language_threshold: float = 0.3
    language_prior: float = 20.0
    min_body_words: int = 40
    embedding_weight: float = 0.5
    terms_weight: float = 0.3
    names_weight: float = 0.2
    candidates: int = 5
    merge_threshold: float = 0.7
    split_threshold: float = 0.6
    split_sizes: tuple[int, int] = (6, 64)
    split_min_part: int = 3
    max_story_terms: int = 500

    def __post_init__(self) -> None:
        if self.gap <= timedelta(0):
            raise ValueError(f"gap must be positive, not {self.gap}")
        for name in ("half_life", "headline_half_life"):
            value = getattr(self, name)
            if value is not None and value <= timedelta(0):
                raise ValueError(f"{name} must be positive (or None), not {value}")
        weights = (self.embedding_weight, self.terms_weight, self.names_weight)
        if min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"weights must be non-negative and not all zero, not {weights}")
        if self.language_prior < 0:
            raise ValueError(f"language_prior must not be negative, not {self.language_prior}")
        if self.candidates < 1:
            raise ValueError(f"candidates must be at least 1, not {self.candidates}")
        low, high = self.split_sizes
        if not 2 * self.split_min_part <= low <= high:
            raise ValueError(
                f"split_sizes {self.split_sizes} must be ordered and start at twice split_min_part or more"
            )
        if self.max_story_terms < 1:
            raise ValueError(f"max_story_terms must be at least 1, not {self.max_story_terms}")
