"""The real embedding model (sentence-transformers, loaded once per session) and helpers that turn the invented
reports of `newsdesk` into clusterer input."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from newsdesk import STORIES, Embed, MakeItems, Report
from numpy.typing import NDArray

from broadsheet.cluster import ClusterItem
from broadsheet.enrich.embed import embedding_text, load_embedder

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"


@pytest.fixture(scope="session")
def embed() -> Embed:
    """Title + lead vectors from all-MiniLM-L6-v2 through sentence-transformers, as the pipeline embeds."""
    model = load_embedder("minilm-torch", MODEL_CACHE)
    cache: dict[str, NDArray[np.float32]] = {}

    def run(reports: Sequence[Report]) -> NDArray[np.float32]:
        missing = [r for r in reports if r.key not in cache]
        if missing:
            vectors = model.embed([embedding_text(r.title, r.text) for r in missing])
            cache.update(zip([r.key for r in missing], vectors, strict=True))
        return np.stack([cache[r.key] for r in reports])

    return run


@pytest.fixture(scope="session")
def make_items(embed: Embed) -> MakeItems:
    """Clusterer items for reports, ids by position in STORIES; a copy gets no embedding, as in the pipeline."""
    ids = {r.key: i for i, r in enumerate(STORIES)}

    def run(reports: Sequence[Report]) -> list[ClusterItem]:
        vectors = embed(reports)
        return [
            ClusterItem(
                id=ids[r.key],
                published=r.published,
                title=r.title,
                embedding=None if r.copy_of else vectors[i],
                text=r.text,
                outlet=r.outlet,
                duplicate_of=ids[r.copy_of] if r.copy_of else None,
            )
            for i, r in enumerate(reports)
        ]

    return run
