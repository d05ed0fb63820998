"""The e5 tokenizer splits word by word and keeps each word's pieces, which must give the very ids of the
most probable split of the whole text, as the tokenizer made it before (`WholeText`, kept here).

Every sentence here is invented for these tests.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from broadsheet.enrich.e5 import Tokenizer
from broadsheet.enrich.e5_weights import Vocabulary, installed_weights, read_weights

TEXTS = [
    "",
    " ",
    "   Storm warning   ",
    "The harbour commission of Port Alder closed the old ferry terminal after a storm damaged the pier.",
    "Café owners in Larkspur Bay protest the new parking rules — again!",
    "Cafe\u0301 cre\u0300me bru\u0302le\u0301e na\u00efve Zoe\u0308 Ångström façade",
    "Die Fährverbindung nach Östermünde fällt wegen Sturmböen bis Donnerstag aus.",
    "Donaudampfschifffahrtsgesellschaftskapitänswitwenrentenversicherungsanstalt" * 4,
    "Городской совет Верхнереченска утвердил новый бюджет на ремонт мостов.",
    "Το λιμάνι της Άλντερ έκλεισε μετά την καταιγίδα.",
    "أغلقت لجنة الميناء محطة العبارات القديمة بعد العاصفة.",
    "奥尔德港委员会在暴风雨后关闭了旧渡轮码头。" * 5,
    "アルダー港の旧フェリーターミナルが嵐の後に閉鎖された。",
    "올더 항구 위원회는 폭풍 후 낡은 여객선 터미널을 폐쇄했다.",
    "คณะกรรมการท่าเรือปิดท่าเทียบเรือเก่าหลังพายุ",
    "बंदरगाह आयोग ने तूफ़ान के बाद पुराना टर्मिनल बंद कर दिया।",
    "ＦＵＬＬ－ＷＩＤＴＨ ｈｅａｄｌｉｎｅ ２０２６：ﬁnal ﬂood report",
    "Flood 🌧️🚲 alert 👩‍👩‍👧 for 3 districts 🇵🇹 #storm @harbour",
    "Shares fell 3.75% to $1,234.56 on 2026-03-14 at 09:30 (UTC+01:00); 1e-9 ≈ 0",
    "tabs\tand\nnew lines\r\nand\u00a0no-break\u2003em\u3000ideographic spaces",
    "already \u2581 split \u2581\u2581 pieces\u2581 and ▁▁▁",
    "Linear B \U00010000 and private use \ue000 and a lone accent \u0301",
    "<s> </s> <unk> <pad> <mask> query: passage:",
    "!!!???...---___***///\\\\|||",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "0123456789" * 12,
]
# Characters the invented strings below are drawn from: letters of many scripts, combining marks, digits,
# punctuation, emoji, the spaces the normaliser folds, and "▁" itself.
ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()[]-–—%$€#@&/"
    "éèêëàâäçñöüßøåæœıİ\u0301\u0308\u0327"
    "абвгдежзийклмнопрстуфхцчшщъыьэюяЁЖ"
    "αβγδεζηθικλμνξοπρστυφχψωΆ"
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    "中国港口委员会暴风雨关闭码头日本語のテキスト한국어텍스트"
    "กขคงจฉชซญฎ"
    "🌧🚲👩\u200d\ufe0f🇵🇹"
    "     \t\n\u00a0\u2003\u3000\u2581ＡＢ１２ﬁﬂ"
)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return read_weights(installed_weights()).vocabulary


@pytest.fixture(scope="module")
def tokenizer(vocabulary: Vocabulary) -> Tokenizer:
    return Tokenizer(vocabulary)


class WholeText:
    """The tokenizer as it was before it went word by word: one Viterbi search over the whole normalised
    text."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        first: dict[str, tuple[int, float]] = {}
        for index, piece in enumerate(vocabulary.pieces):
            if piece:
                first.setdefault(piece, (index, float(vocabulary.scores[index])))
        self.pieces = {piece: hit for piece, hit in first.items() if hit[0] != vocabulary.unk}
        self.longest = max(map(len, self.pieces))
        self.unknown = vocabulary.unk
        self.unknown_score = float(np.float32(vocabulary.scores.min()) - np.float32(10))
        self.normalise = Tokenizer(vocabulary).normalise

    def ids(self, text: str) -> list[int]:
        chars = self.normalise(text)
        n = len(chars)
        best = [-math.inf] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        start = [0] * (n + 1)
        for i in range(n):
            here = best[i]
            for end in range(i + 1, min(n, i + self.longest) + 1):
                hit = self.pieces.get(chars[i:end])
                if hit is not None and here + hit[1] > best[end]:
                    best[end], piece[end], start[end] = here + hit[1], hit[0], i
            if here + self.unknown_score > best[i + 1]:
                best[i + 1], piece[i + 1], start[i + 1] = here + self.unknown_score, -1, i
        ids = []
        end = n
        while end > 0:
            ids.append(self.unknown if piece[end] < 0 else piece[end])
            end = start[end]
        return ids[::-1]


def invented_texts(count: int, seed: int, vocabulary: Vocabulary) -> list[str]:
    """Random strings of `ALPHABET`'s characters, and random runs of the vocabulary's own pieces (so that
    long pieces and their near misses are tried), some glued together without a space."""
    rng = random.Random(seed)
    texts = []
    for k in range(count):
        if k % 2:
            texts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 60))))
        else:
            pieces = [rng.choice(vocabulary.pieces) for _ in range(rng.randrange(1, 12))]
            texts.append(rng.choice(["", " "]).join(pieces).replace("\u2581", " "))
    return texts


@pytest.fixture(scope="module")
def whole(vocabulary: Vocabulary) -> dict[str, list[int]]:
    """The ids of the texts here as the whole text's search gives them."""
    texts = [*TEXTS, " ".join(TEXTS), *invented_texts(1500, 7, vocabulary)]
    reference = WholeText(vocabulary)
    return {text: reference.ids(text) for text in texts}


def test_word_by_word_gives_the_ids_of_the_whole_text_split(
    vocabulary: Vocabulary, whole: dict[str, list[int]]
) -> None:
    tokenizer = Tokenizer(vocabulary)
    for text, expected in whole.items():
        assert tokenizer.encode(text) == expected, text
    for text, expected in whole.items():  # now from the words kept
        assert tokenizer.encode(text) == expected, text


def test_a_small_cache_forgets_words_and_changes_no_id(
    vocabulary: Vocabulary, whole: dict[str, list[int]]
) -> None:
    tokenizer = Tokenizer(vocabulary, cache_size=8)
    for text, expected in [*whole.items(), *whole.items()]:
        assert tokenizer.encode(text) == expected, text
    tokenizer = Tokenizer(vocabulary, cache_size=0)
    for text in TEXTS:
        assert tokenizer.encode(text) == whole[text], text


def test_the_ids_are_the_callers_to_change(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("Storm warning for the harbour")
    ids.clear()
    assert tokenizer.encode("Storm warning for the harbour")


def test_a_limit_gives_the_first_ids_of_the_whole_text(
    tokenizer: Tokenizer, whole: dict[str, list[int]]
) -> None:
    for text in TEXTS:
        for limit in (0, 1, 2, 5, 46, 1000):
            assert tokenizer.encode(text, limit) == whole[text][:limit], (text, limit)


def tiny_vocabulary(pieces: dict[str, float]) -> Vocabulary:
    specials = ("<s>", "<pad>", "</s>", "<unk>")
    return Vocabulary(
        pieces=(*specials, *pieces),
        scores=np.array([0.0, 0.0, 0.0, -5.0, *pieces.values()], dtype=np.float32),
        bos=0,
        eos=2,
        pad=1,
        unk=3,
        normalisation={},
    )


def test_a_vocabulary_with_a_space_inside_a_piece_is_split_whole() -> None:
    vocabulary = tiny_vocabulary({"\u2581a": -2.0, "\u2581b": -2.0, "\u2581a\u2581b": -1.0, "\u2581": -3.0})
    tokenizer, reference = Tokenizer(vocabulary), WholeText(vocabulary)
    assert tokenizer.encode("a b") == reference.ids("a b") == [6]  # "▁a▁b"
    assert tokenizer.encode("b a b a") == reference.ids("b a b a") == [5, 6, 4]


def test_scores_too_fine_for_exact_sums_are_split_whole() -> None:
    # "▁a" + "b" beats "▁ab" by 1e-20, which is lost once "▁x" (-1) comes first: the whole text's search then
    # keeps "▁ab", the first it found. Word by word would keep "▁a" + "b".
    vocabulary = tiny_vocabulary({"\u2581x": -1.0, "\u2581ab": -3e-20, "\u2581a": -1e-20, "b": -1e-20})
    tokenizer = Tokenizer(vocabulary)
    assert tokenizer.encode("ab") == [6, 7]
    assert tokenizer.encode("x ab") == WholeText(vocabulary).ids("x ab") == [4, 5]
