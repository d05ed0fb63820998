"""Invented vocabulary shared by the benchmarks that generate articles (ingest, web)."""

from __future__ import annotations

__all__ = ["WORDS"]

# fmt: off
WORDS: list[str] = ["council", "harbour", "river", "station", "minister", "budget", "vote", "bridge", "storm", "school", "hospital", "market", "union", "rail", "court", "police", "museum", "festival", "farmers", "election", "airport", "energy", "water", "housing", "tax", "report", "season", "coach", "league", "village", "mayor", "plan", "study", "scientists", "company", "workers", "strike", "prices", "road", "weather", "fire", "rescue", "island", "coast", "valley", "city", "region", "border", "trade", "talks", "agreement", "officials", "residents", "protest", "delay", "repair", "record", "year", "library", "ferry", "orchard", "tram", "chess", "wind", "solar", "grid", "theatre", "opera", "stadium", "marathon", "bakery", "vineyard"]
# fmt: on


# --- text with the statistics of real prose ------------------------------------------------------------------
# Real text follows Zipf's law: a few words ("the", "of") are in every article, most words are in few. A small
# word list drawn uniformly puts every word in nearly every article, which makes full-text search and "related
# articles" far slower than on any real corpus. So the generated articles draw from a large invented vocabulary
# (common English function words first, then WORDS, then pronounceable made-up words) with Zipf frequencies.

FUNCTION_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "a",
    "in",
    "that",
    "is",
    "was",
    "for",
    "on",
    "it",
    "with",
    "as",
    "by",
    "at",
    "from",
    "his",
    "an",
    "be",
    "has",
    "have",
    "are",
    "were",
    "had",
    "this",
    "which",
    "not",
    "or",
    "but",
    "after",
    "their",
    "they",
    "its",
    "been",
    "also",
    "who",
    "will",
    "more",
    "said",
    "would",
    "new",
    "one",
    "about",
    "over",
    "into",
    "than",
    "other",
]
_ONSETS = ["b", "br", "c", "ch", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr", "r", "s", "sh",
           "st", "t", "tr", "v", "w", "z"]  # fmt: skip
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou"]
_CODAS = ["", "", "", "n", "r", "l", "s", "th", "nd", "st", "m", "k"]


def zipf_vocabulary(size: int = 30_000, seed: int = 7) -> list[str]:
    """`size` distinct words, most frequent first."""
    import random

    rng = random.Random(seed)
    words = list(dict.fromkeys([*FUNCTION_WORDS, *WORDS]))
    seen = set(words)
    while len(words) < size:
        word = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
            for _ in range(rng.choice((1, 2, 2, 2, 3)))
        )
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class ZipfText:
    """Draws words with probability proportional to 1 / rank**exponent (about 1 for English)."""

    def __init__(self, seed: int, size: int = 30_000, exponent: float = 1.05) -> None:
        import numpy as np

        self.words = zipf_vocabulary(size)
        weights = 1.0 / np.arange(1, size + 1) ** exponent
        self.cdf = np.cumsum(weights) / weights.sum()
        self.rng = np.random.default_rng(seed)

    def words_(self, n: int, skip_common: int = 0) -> list[str]:
        """`n` words; `skip_common` leaves out the most frequent ranks (for headlines and queries)."""
        low = float(self.cdf[skip_common - 1]) if skip_common else 0.0
        ranks = self.cdf.searchsorted(self.rng.uniform(low, 1.0, n))
        return [self.words[min(int(r), len(self.words) - 1)] for r in ranks]
