"""Content fingerprints: an exact hash of normalised text and a MinHash signature of word shingles.

Pure functions; the near-duplicate index that compares signatures lives in `index.py`. The signature is
computed with numpy in one pass (words hashed once by crc32, shingles combined and permuted as arrays),
about ten times faster than hashing every shingle through datasketch's per-item SHA-1; `Signature` holds it
(what datasketch's LeanMinHash held, without importing datasketch and, through it, scipy: 0.7 s at the start
of every process).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "MIN_WORDS",
    "NUM_PERM",
    "SHINGLE",
    "Fingerprint",
    "Signature",
    "content_hash",
    "fingerprint",
    "minhash",
    "signature_bytes",
    "signature_from_bytes",
    "words",
]

NUM_PERM = 128
SHINGLE = 5  # words per shingle: long enough that shared boilerplate phrases don't make articles similar
MIN_WORDS = 40  # shorter texts (headlines, teasers) are compared by exact hash only
MAX_WORDS = (
    5000  # copies share their opening; a 5 000-word prefix decides as well as the whole and costs less
)
# The signature's permutations: fixed forever, since stored signatures must stay comparable with new ones.
_PRIME = np.uint64((1 << 61) - 1)
_MASK = np.uint64(0xFFFFFFFF)
_rng = np.random.RandomState(1)
_A = _rng.randint(1, 1 << 32, size=NUM_PERM, dtype=np.uint64)
_B = _rng.randint(0, 1 << 32, size=NUM_PERM, dtype=np.uint64)

_WORD = re.compile(r"\w+", re.UNICODE)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, accents and punctuation ignored: how two copies of a text are compared."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return _WORD.findall(folded)


def _hash(title_words: list[str], text_words: list[str]) -> str:
    normal = " ".join(title_words) + "\n" + " ".join(text_words)
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def content_hash(title: str, text: str) -> str:
    """SHA-256 of the normalised title and text: equal for copies that differ only in spacing, case or
    punctuation. The title takes part so that short teasers shared by many articles never collide."""
    return _hash(words(title), words(text))


class Signature:
    """A MinHash signature: for each of NUM_PERM fixed permutations, the least hash of a text's shingles."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: NDArray[np.uint64]) -> None:
        self.hashvalues = hashvalues

    def jaccard(self, other: Signature) -> float:
        """The estimated Jaccard similarity of the two texts' shingles: the share of permutations whose
        least hashes agree."""
        if len(self.hashvalues) != len(other.hashvalues):
            raise ValueError(f"signatures of {len(self.hashvalues)} and {len(other.hashvalues)} values")
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self.hashvalues)


def _signature(tokens: list[str]) -> Signature | None:
    if len(tokens) < MIN_WORDS:
        return None
    tokens = tokens[:MAX_WORDS]
    vocabulary = {t: zlib.crc32(t.encode("utf-8")) for t in set(tokens)}
    ids = np.array([vocabulary[t] for t in tokens], dtype=np.uint64)
    # Each shingle's hash is a polynomial of its words' hashes, kept to 32 bits; duplicates don't matter to a min.
    count = len(tokens) - SHINGLE + 1
    shingles = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        shingles = (shingles * np.uint64(1_000_003) + ids[offset : offset + count]) & _MASK
    shingles = np.unique(shingles)
    permuted = ((_A[:, None] * shingles[None, :] + _B[:, None]) % _PRIME) & _MASK
    return Signature(permuted.min(axis=1).astype(np.uint64))


def minhash(text: str) -> Signature | None:
    """MinHash of the text's word shingles, or None when the text is too short to compare fairly."""
    return _signature(words(text))


@dataclass(frozen=True, slots=True)
class Fingerprint:
    content_hash: str
    signature: Signature | None


def fingerprint(title: str, text: str) -> Fingerprint:
    """Both fingerprints from one tokenisation of the text."""
    text_words = words(text)
    return Fingerprint(_hash(words(title), text_words), _signature(text_words))


def signature_bytes(signature: Signature) -> bytes:
    return np.asarray(signature.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(data: bytes) -> Signature:
    return Signature(np.frombuffer(data, dtype=np.uint32).astype(np.uint64))
