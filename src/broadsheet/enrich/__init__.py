"""Enrichment: what broadsheet adds to a stored article, one module per step (`embed`: dense vectors).

Each step takes plain text and returns plain data; storing the results is the store's job, not enrich's.
"""

from __future__ import annotations

from broadsheet.enrich.embed import Embedder, embedding_text, load_embedder

__all__ = ["Embedder", "embedding_text", "load_embedder"]
