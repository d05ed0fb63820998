from __future__ import annotations

import hashlib
import re

from broadsheet.readers.tokens import new_token, token_hash


def test_new_token_has_the_prefix_and_256_random_bits_in_url_safe_characters() -> None:
    token = new_token("bs_")
    assert re.fullmatch(r"bs_[A-Za-z0-9_-]{43}", token)


def test_new_tokens_never_repeat() -> None:
    assert len({new_token("bs_") for _ in range(1000)}) == 1000


def test_token_hash_is_the_sha256_hex_the_store_looks_up() -> None:
    token = new_token("bs_")
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", token_hash(token))
    assert token_hash(token) != token_hash(new_token("bs_"))
