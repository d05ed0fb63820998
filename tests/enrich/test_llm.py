"""The optional LLM rewrite: the prompt, the schema and the grounding checks on invented sentences; the
fallbacks against plain loopback servers that misbehave; and the client against llama.cpp's own server with
a real (small) model, asserting structure and the citation checks, never the exact text."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from broadsheet.enrich.llm import (
    Grounded,
    LLMConfig,
    build_prompt,
    chat_url,
    check_claims,
    response_schema,
    rewrite,
)
from llm_server import (
    KNOWN_MODELS,
    ModelMissingError,
    RunningServer,
    completion,
    ensure_model,
    plain_server,
    running_server,
    xllamacpp_installed,
)

SENTENCES = [
    "The city council of Norbridge voted 7 to 2 on Tuesday to build a new tram line.",
    "The line will run 12 kilometres from the harbour to the university.",
    "Construction is expected to cost 340 million euros and start in March.",
    "Mayor Elena Kovac said the tram would cut car traffic in the centre.",
    "Two councillors opposed the plan, citing the cost.",
    "The first trams are due to run in 2029.",
]
GOOD_TEXT = "Construction is expected to cost 340 million euros."
GOOD_CLAIM: dict[str, Any] = {"text": GOOD_TEXT, "cites": [3]}


def claims(*items: Any) -> dict[str, Any]:
    return {"claims": list(items)}


# --- the prompt and the schema ------------------------------------------------------------------------------


def test_prompt_numbers_the_sentences_from_one_and_states_the_rule() -> None:
    system, user = build_prompt("summary", SENTENCES, max_claims=3)
    assert system["role"] == "system" and user["role"] == "user"
    assert "use only these sentences" in system["content"].lower()
    assert "cite their numbers" in system["content"].lower()
    for number, sentence in enumerate(SENTENCES, 1):
        assert f"[{number}] {sentence}" in user["content"]
    assert "Example." in user["content"] and '"cites": [1, 2]' in user["content"]
    assert user["content"].index("Example.") < user["content"].index(SENTENCES[0])
    assert "at most 3 key points" in user["content"]


def test_prompt_for_an_answer_carries_the_question_and_needs_one() -> None:
    _, user = build_prompt("answer", SENTENCES, question="How much will the line cost?")
    assert "How much will the line cost?" in user["content"]
    with pytest.raises(ValueError, match="question"):
        build_prompt("answer", SENTENCES)


def test_prompt_keeps_each_sentence_on_one_numbered_line() -> None:
    _, user = build_prompt("brief", ["A line\nbroken in two.", "Another one."])
    assert "[1] A line broken in two.\n[2] Another one." in user["content"]


def test_schema_allows_only_the_sentence_numbers_there_are() -> None:
    schema = response_schema(6, 3)
    items = schema["properties"]["claims"]
    assert items["maxItems"] == 3 and items["minItems"] == 1
    cite = items["items"]["properties"]["cites"]["items"]
    assert (cite["type"], cite["minimum"], cite["maximum"]) == ("integer", 1, 6)
    assert items["items"]["required"] == ["text", "cites"]
    assert response_schema(6, 3, min_claims=0)["properties"]["claims"]["minItems"] == 0


def test_chat_url_takes_a_base_with_or_without_v1() -> None:
    assert chat_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1/chat/completions"
    assert chat_url("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080/v1/chat/completions"
    assert chat_url("https://llm.example/api/v1") == "https://llm.example/api/v1/chat/completions"


# --- the checks ---------------------------------------------------------------------------------------------


def test_well_supported_claim_survives_with_its_cites_counted_from_zero() -> None:
    assert check_claims(claims(GOOD_CLAIM), SENTENCES) == (Grounded(GOOD_TEXT, (2,)),)


def test_claim_joining_two_sentences_keeps_both_cites() -> None:
    text = "Norbridge's council voted 7 to 2 for a tram line that will run 12 kilometres to the university."
    assert check_claims(claims({"text": text, "cites": [2, 1]}), SENTENCES) == (Grounded(text, (0, 1)),)


def test_claim_citing_only_out_of_range_ids_is_dropped() -> None:
    assert check_claims(claims({**GOOD_CLAIM, "cites": [0, 7, -1]}), SENTENCES) == ()


def test_out_of_range_ids_are_ignored_beside_a_valid_one() -> None:
    assert check_claims(claims({**GOOD_CLAIM, "cites": [9, 3]}), SENTENCES)[0].cites == (2,)


def test_claim_with_a_number_not_in_its_cited_sentence_is_dropped() -> None:
    wrong = {"text": "Construction is expected to cost 350 million euros.", "cites": [3]}
    assert check_claims(claims(wrong), SENTENCES) == ()


def test_claim_with_a_name_not_in_its_cited_sentence_is_dropped() -> None:
    wrong = {"text": "Mayor John Smith said the tram would cut car traffic in the centre.", "cites": [4]}
    assert check_claims(claims(wrong), SENTENCES) == ()


def test_claim_citing_the_wrong_sentence_is_dropped() -> None:
    assert check_claims(claims({**GOOD_CLAIM, "cites": [4]}), SENTENCES) == ()


def test_claim_with_words_its_sentence_does_not_hold_is_dropped() -> None:
    invented = {"text": "Construction, opposed by angry shopkeepers and cyclists, starts soon.", "cites": [3]}
    assert check_claims(claims(invented), SENTENCES) == ()


def test_a_cite_sharing_only_the_topic_word_is_removed_from_the_claim() -> None:
    text = "Mayor Elena Kovac said the tram would cut car traffic in the centre."
    assert check_claims(claims({"text": text, "cites": [4, 6]}), SENTENCES) == (Grounded(text, (3,)),)


def test_repeated_and_malformed_claims_are_dropped() -> None:
    raw = claims(
        GOOD_CLAIM,
        {**GOOD_CLAIM, "text": "  Construction is expected to cost\n340 million euros. "},
        {"text": "", "cites": [3]},
        {"text": GOOD_TEXT},
        {"text": 42, "cites": [3]},
        {"text": "Two councillors opposed the plan, citing the cost.", "cites": [True]},
        "not a claim",
    )
    assert [claim.text for claim in check_claims(raw, SENTENCES)] == [GOOD_TEXT]
    assert check_claims({"points": []}, SENTENCES) == () == check_claims(None, SENTENCES)


def test_cites_written_as_numerals_in_strings_count() -> None:
    assert check_claims(claims({**GOOD_CLAIM, "cites": ["3"]}), SENTENCES)[0].cites == (2,)


# --- fallbacks against plain loopback servers -----------------------------------------------------------------


def config(base_url: str, **overrides: Any) -> LLMConfig:
    return LLMConfig(**{"base_url": base_url, "model": "test", "api_key": "k", "timeout": 5.0, **overrides})


def test_rate_limited_server_falls_back_with_the_reason() -> None:
    with plain_server(lambda body: (429, {"Retry-After": "30"}, b'{"error": "slow down"}')) as (
        url,
        received,
    ):
        result = rewrite(config(url), "summary", SENTENCES)
    assert (result.used_llm, result.claims) == (False, ())
    assert "429" in result.reason and "30" in result.reason
    assert len(received) == 1  # a rate limit is not retried


def test_reply_that_is_not_json_falls_back() -> None:
    with plain_server(lambda body: (200, {}, b"{'choices': [oops")) as (url, _):
        result = rewrite(config(url), "summary", SENTENCES)
    assert not result.used_llm and "not JSON" in result.reason


def test_model_output_that_is_not_json_falls_back() -> None:
    with plain_server(lambda body: (200, {}, completion("Here are the key points: the tram."))) as (url, _):
        result = rewrite(config(url), "summary", SENTENCES)
    assert not result.used_llm and "not a JSON object" in result.reason


def test_output_cut_off_at_max_tokens_falls_back() -> None:
    def cut(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        reply = json.loads(completion('{"claims": [{"text": "Constr'))
        reply["choices"][0]["finish_reason"] = "length"
        return 200, {}, json.dumps(reply).encode()

    with plain_server(cut) as (url, _):
        result = rewrite(config(url), "summary", SENTENCES)
    assert not result.used_llm and "max_tokens" in result.reason


def test_claims_that_do_not_hold_fall_back_to_the_extractive_result() -> None:
    output = json.dumps(claims({**GOOD_CLAIM, "cites": [9]}, {**GOOD_CLAIM, "text": "It costs 1 billion."}))
    with plain_server(lambda body: (200, {}, completion(output))) as (url, _):
        result = rewrite(config(url), "summary", SENTENCES)
    assert not result.used_llm and "0 of the model's 2 claims" in result.reason


def test_server_refusing_the_json_schema_is_asked_for_a_json_object() -> None:
    def picky(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        if body["response_format"]["type"] == "json_schema":
            return 500, {}, b'{"error": "response_format json_schema is not supported"}'
        return 200, {}, completion("```json\n" + json.dumps(claims(GOOD_CLAIM)) + "\n```")

    with plain_server(picky) as (url, received):
        result = rewrite(config(url + "/v1"), "summary", SENTENCES)
    assert [body["response_format"]["type"] for body in received] == ["json_schema", "json_object"]
    assert result.used_llm and result.claims == (Grounded(GOOD_TEXT, (2,)),)
    assert received[0]["temperature"] == 0 and received[0]["model"] == "test"


def test_server_that_is_gone_falls_back() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = rewrite(config(f"http://127.0.0.1:{port}"), "summary", SENTENCES)
    assert not result.used_llm and "could not reach" in result.reason


def test_no_sentences_means_no_call() -> None:
    result = rewrite(config("http://127.0.0.1:9"), "summary", [])
    assert not result.used_llm and "no source sentences" in result.reason


# --- against llama.cpp's server with a real model -----------------------------------------------------------


@pytest.fixture(scope="module")
def model_server() -> Iterator[RunningServer]:
    """llama.cpp's server with Qwen2.5-Coder-0.5B-Instruct; skipped when xllamacpp or the model's parts are
    not installed (they are not in the test extra: see tests/llm_server.py for the pip line)."""
    if not xllamacpp_installed():
        pytest.skip("xllamacpp is not installed: pip install xllamacpp==2026.10.11549")
    try:
        model = ensure_model(KNOWN_MODELS["qwen2.5-coder-0.5b"])
    except ModelMissingError as missing:
        pytest.skip(f"the 0.5B model is not installed: {missing}")
    with running_server(model) as server:
        yield server


def test_real_model_rewrite_cites_only_sentences_that_hold_its_claims(model_server: RunningServer) -> None:
    result = rewrite(
        config(model_server.base_url, api_key=model_server.api_key, timeout=120.0), "summary", SENTENCES
    )
    assert result.used_llm, result.reason
    assert 1 <= len(result.claims) <= 3 and result.seconds > 0
    for claim in result.claims:
        assert claim.text and claim.cites == tuple(sorted(set(claim.cites)))
        assert all(0 <= index < len(SENTENCES) for index in claim.cites)
        # the checks hold: the claim survives them again, with the same cites
        again = claims({"text": claim.text, "cites": [index + 1 for index in claim.cites]})
        assert check_claims(again, SENTENCES) == (claim,)


def test_real_server_refusing_a_wrong_api_key_falls_back(model_server: RunningServer) -> None:
    result = rewrite(config(model_server.base_url, api_key="wrong"), "summary", SENTENCES)
    assert not result.used_llm and "401" in result.reason and "API key" in result.reason


def test_real_server_slower_than_the_timeout_falls_back(model_server: RunningServer) -> None:
    result = rewrite(
        config(model_server.base_url, api_key=model_server.api_key, timeout=0.2), "brief", SENTENCES
    )
    assert not result.used_llm and "did not answer within 0.2 s" in result.reason
