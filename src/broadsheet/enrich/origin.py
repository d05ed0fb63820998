"""An encoder's reference mean: the mean of its vectors for headlines the project wrote itself (the topic
seed set), which the story clusterer centres a language on while it has seen too few of that language's
articles to know their own mean (cluster/centring.py).

Owns choosing the texts and caching the vector beside the models; embedding is the embedder's job.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.embed import Embedder
from broadsheet.enrich.topic import SEED_PATH

__all__ = ["REFERENCE_TEXTS", "reference_mean", "reference_texts"]

REFERENCE_TEXTS = 500  # ~2.5 s of embedding once per model; the mean moves by < 0.01 beyond this


def reference_texts(limit: int = REFERENCE_TEXTS) -> list[str]:
    """The first `limit` headlines of the topic seed set, in file order (every topic is among them)."""
    titles = []
    with SEED_PATH.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                titles.append(str(json.loads(line)["title"]))
    # Every k-th headline rather than the first ones: the file is grouped by topic.
    step = max(1, len(titles) // limit)
    return titles[::step][:limit]


def reference_mean(embedder: Embedder, cache_dir: Path) -> NDArray[np.float32]:
    """The mean of `embedder`'s vectors for the reference headlines, cached under `cache_dir/origins/`
    (named by the embedder and a hash of the texts, so another model or seed set makes a new file)."""
    texts = reference_texts()
    digest = hashlib.sha256("\n".join([embedder.name, *texts]).encode()).hexdigest()[:16]
    path = cache_dir / "origins" / f"{re.sub(r'[^A-Za-z0-9.-]+', '_', embedder.name)}-{digest}.npy"
    if path.exists():
        try:
            cached = np.load(path)
        except (OSError, ValueError):
            cached = None
        if cached is not None and cached.shape == (embedder.dim,) and np.isfinite(cached).all():
            found: NDArray[np.float32] = cached.astype(np.float32)
            return found
    mean: NDArray[np.float32] = embedder.embed(texts).mean(axis=0).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as handle:
        np.save(handle, mean)
    os.replace(handle.name, path)
    return mean
