"""Content fingerprints: an exact hash of normalised text and a MinHash signature of word shingles.

Pure functions; the near-duplicate index that compares signatures lives in `index.py`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

import numpy as np
from datasketch import MinHash

__all__ = [
    "NUM_PERM",
    "SHINGLE",
    "content_hash",
    "minhash",
    "signature_bytes",
    "signature_from_bytes",
    "words",
]

NUM_PERM = 128
# datasketch >= 2 needs the permutation scheme named to rebuild a stored signature; stored as uint32.
SCHEME = "affine32"
SHINGLE = 5  # words per shingle: long enough that shared boilerplate phrases don't make articles similar
MIN_WORDS = 40  # shorter texts (headlines, teasers) are compared by exact hash only

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens, accents and punctuation ignored: how two copies of a text are compared."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return _WORD.findall("".join(c for c in folded if not unicodedata.combining(c)))


def content_hash(title: str, text: str) -> str:
    """SHA-256 of the normalised title and text: equal for copies that differ only in spacing, case or
    punctuation. The title takes part so that short teasers shared by many articles never collide."""
    normal = " ".join(words(title)) + "\n" + " ".join(words(text))
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


def minhash(text: str) -> MinHash | None:
    """MinHash of the text's word shingles, or None when the text is too short to compare fairly."""
    tokens = words(text)
    if len(tokens) < MIN_WORDS:
        return None
    shingles = {" ".join(tokens[i : i + SHINGLE]).encode("utf-8") for i in range(len(tokens) - SHINGLE + 1)}
    signature = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    signature.update_batch(list(shingles))
    return signature


def signature_bytes(signature: MinHash) -> bytes:
    return np.asarray(signature.hashvalues, dtype=np.uint32).tobytes()


def signature_from_bytes(data: bytes) -> MinHash:
    values = np.frombuffer(data, dtype=np.uint32)
    return MinHash(num_perm=len(values), hashvalues=values, scheme=SCHEME)
