"""The real embedding model, exported once into .cache/models at the repository root and kept between runs.

The first run exports (about 20 s); later runs load the cached ONNX files in well under a second.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from broadsheet.enrich.embed import Embedder, load_embedder

MODEL_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "models"


@pytest.fixture(scope="session")
def model_cache() -> Path:
    return MODEL_CACHE


@pytest.fixture(scope="session")
def int8(model_cache: Path) -> Embedder:
    return load_embedder("minilm-int8", model_cache)


@pytest.fixture(scope="session")
def fp32(model_cache: Path) -> Embedder:
    return load_embedder("minilm-fp32", model_cache)


@pytest.fixture(scope="session")
def reference(model_cache: Path) -> Embedder:
    """PyTorch through sentence-transformers: what the ONNX files must reproduce."""
    return load_embedder("minilm-torch", model_cache)
