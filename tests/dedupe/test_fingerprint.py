from __future__ import annotations

from broadsheet.dedupe.fingerprint import content_hash, minhash, signature_bytes, signature_from_bytes

BODY = (
    "The harbour commission of Port Alder voted on Tuesday to close the old ferry terminal for repairs, "
    "a decision that will send morning commuters to the temporary pier at Gull Point for at least six weeks. "
    "Commissioner Ria Tamsin said the pilings under the east ramp had rotted faster than engineers expected, "
    "and that the closure could not wait for the summer season to end."
)


def test_content_hash_ignores_spacing_case_and_punctuation() -> None:
    assert content_hash("Ferry terminal closes", BODY) == content_hash(
        "FERRY terminal closes!", "  " + BODY.upper()
    )


def test_content_hash_differs_when_titles_differ_even_for_one_teaser() -> None:
    assert content_hash("One story", "Read more.") != content_hash("Another story", "Read more.")


def test_short_texts_get_no_signature() -> None:
    assert minhash("A headline only, far too short to compare by shingles") is None


def test_signature_survives_storage_round_trip() -> None:
    signature = minhash(BODY)
    assert signature is not None
    restored = signature_from_bytes(signature_bytes(signature))
    assert restored.jaccard(signature) == 1.0


def test_light_edit_is_similar_and_different_text_is_not() -> None:
    edited = BODY.replace("six weeks", "seven weeks") + " Ferry tickets remain valid at the temporary pier."
    other = " ".join(reversed(BODY.split()))
    a, b, c = minhash(BODY), minhash(edited), minhash(other)
    assert a is not None and b is not None and c is not None
    assert a.jaccard(b) > 0.7
    assert a.jaccard(c) < 0.1
