"""The optional LLM wired in: the background rewrite step over a real SQLite home filled by import and the real
steps (enrichment, stories, briefs) on invented coverage, and what the web server shows of its work.

Most tests talk to a scripted OpenAI-compatible server on loopback (a real HTTP server whose replies are
known: each claim one of the numbered sentences it was sent, or claims that cannot hold), so the wiring is
tested exactly; the last one runs the whole flow against llama.cpp's own server with a real small model,
asserting structure and the citation checks only.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner
from website import MODELS_DIR, running

from broadsheet.commands import app
from broadsheet.config import Settings
from broadsheet.enrich import split_sentences
from broadsheet.errors import ConfigError
from broadsheet.pipeline.assemble import build_background, build_crawler, build_steps
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import export_jsonl, import_jsonl
from broadsheet.pipeline.rewrite import MAX_PENDING, Rewriter, normalise_question
from broadsheet.store import Store
from broadsheet.web import create_app
from llm_server import (
    KNOWN_MODELS,
    ModelMissingError,
    completion,
    ensure_model,
    plain_server,
    running_server,
    xllamacpp_installed,
)
from storyset import coverage

_NUMBERED = re.compile(r"^\[(\d+)\] (.*)$", re.M)


def _sentences(body: dict[str, Any]) -> list[str]:
    """The numbered sentences of the real task (after the worked example) in a chat request."""
    prompt = body["messages"][-1]["content"]
    task = prompt[prompt.index("Now the real task.") :]
    return [text for _number, text in _NUMBERED.findall(task)]


def echo(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A faithful model: its claims are the first two sentences it was given, word for word, citing them."""
    sentences = _sentences(body)
    claims = [{"text": text, "cites": [number]} for number, text in enumerate(sentences[:2], 1)]
    return 200, {}, completion(json.dumps({"claims": claims}))


def inventor(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """A model that makes things up: its one claim cites sentence 1 but names what it never says."""
    claim = {"text": "Admiral Zebedee Quorn paid 999 million crowns for the moon.", "cites": [1]}
    return 200, {}, completion(json.dumps({"claims": [claim]}))


def overloaded(body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return 503, {}, b'{"error": "overloaded"}'


@dataclass
class Home:
    settings: Settings
    store: Store
    ids: dict[str, int]  # storyset key -> article id


def _settings(home: Path, **llm: Any) -> Settings:
    return Settings(home=home, crawl_in_server=False, models_dir=MODELS_DIR, questions_per_minute=600, **llm)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A home with the storyset imported and every step run, once for the module: copied for each test."""
    home = tmp_path_factory.mktemp("rewritehome")
    settings = _settings(home)
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    for step in build_steps(settings, store, briefs=True):
        step.run()
    ids = {a.url.rsplit("/", 1)[1]: a.id or 0 for a in store.articles.iter_all()}
    store.close()
    return home, ids


@pytest.fixture
def home(built: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[Home]:
    source, ids = built
    (tmp_path / "broadsheet.db").write_bytes((source / "broadsheet.db").read_bytes())
    settings = _settings(tmp_path)
    store = Store.open(settings.database)
    yield Home(settings, store, ids)
    store.close()


def _with_llm(home: Home, url: str, **more: Any) -> Settings:
    return home.settings.model_copy(update={"llm_url": url, "llm_model": "scripted", **more})


def _enriched(home: Home) -> int:
    """Articles with key points: those a summary is written for."""
    return len(home.store.enrichments.data(list(home.ids.values()), "keypoints"))


def _bridge_story(home: Home) -> int:
    story_id = home.store.articles.get(home.ids["bridge-1"]).story_id
    assert story_id is not None
    return story_id


# --- settings ------------------------------------------------------------------------------------------------


def test_the_llm_is_off_by_default_and_builds_no_rewrite_step(home: Home) -> None:
    assert home.settings.llm_url == ""
    assert [step.name for step in build_background(home.settings, home.store)] == ["briefs"]


def test_llm_settings_are_checked_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="llm_model"):
        Settings(home=tmp_path, llm_url="http://127.0.0.1:9/v1")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="http"):
        Settings(home=tmp_path, llm_url="ftp://example.org", llm_model="m")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="the tasks are summary, brief, answer"):
        Settings(home=tmp_path, llm_url="http://127.0.0.1:9", llm_model="m", llm_rewrite=["poem"])  # type: ignore[call-arg]


# --- the step ------------------------------------------------------------------------------------------------


def test_a_round_writes_summaries_and_briefs_that_cite_their_sentences(home: Home) -> None:
    with plain_server(echo) as (url, received):
        settings = _with_llm(home, url)
        (_briefs, step) = build_background(settings, home.store)
        tally = step.run()
    assert tally.summary() and tally.articles == tally.summaries + tally.briefs
    assert tally.summaries == _enriched(home)
    assert tally.briefs >= 1 and not tally.failed and received
    # every request asked for JSON under a schema, and quoted the sentences numbered from 1
    assert all(r["response_format"]["type"] == "json_schema" and r["model"] == "scripted" for r in received)
    article = home.store.articles.get(home.ids["bridge-1"])
    view = home.store.enrichments.view(article.id or 0, article.text)
    sentences = {s.index: s.text for s in split_sentences(article.text)}
    assert view.written and view.written_by == "scripted"
    for point in view.written:
        assert point.citations and all(sentences[c.sentence] == c.text for c in point.citations)
    brief = home.store.rewrites.get("brief", _bridge_story(home))
    assert brief is not None and brief.status == "done" and brief.data["points"]
    for point in brief.data["points"]:
        for cited in point["citations"]:
            assert cited["text"] in home.store.articles.get(cited["article_id"]).text
    # a second round finds nothing left to do: nothing is sent again
    sent = len(received)
    with plain_server(echo) as (url, again):
        tally = Rewriter(home.store, _with_llm(home, url)).run()
    assert tally.articles == 0 and not again and sent


def test_claims_that_do_not_hold_keep_the_extracted_text_and_are_not_sent_again(home: Home) -> None:
    with plain_server(inventor) as (url, received):
        settings = _with_llm(home, url, llm_rewrite=["summary"])
        tally = Rewriter(home.store, settings).run()
        assert tally.articles == 0 and tally.fell_back == _enriched(home) and received
        sent = len(received)
        assert Rewriter(home.store, settings).run().fell_back == 0
        assert len(received) == sent
    article = home.store.articles.get(home.ids["bridge-1"])
    view = home.store.enrichments.view(article.id or 0, article.text)
    assert view.written == () and view.summary  # the extracted summary stands
    stored = home.store.enrichments.data([article.id or 0], "written")[article.id or 0]
    assert "0 of the model's 1 claims held up" in stored["error"]


def test_a_server_that_fails_ends_the_round_and_stores_nothing(home: Home) -> None:
    with plain_server(overloaded) as (url, received):
        tally = Rewriter(home.store, _with_llm(home, url)).run()
    assert tally.articles == 0 and tally.fell_back == 0 and len(received) == 1
    assert "HTTP 503" in tally.failed[0] and "stopped" in tally.summary()
    assert home.store.enrichments.data(list(home.ids.values()), "written") == {}
    # it comes back: the next round writes
    with plain_server(echo) as (url, _received):
        assert Rewriter(
            home.store, _with_llm(home, url, llm_rewrite=["summary"])
        ).run().summaries == _enriched(home)


def test_written_summaries_are_stale_for_another_model(home: Home) -> None:
    with plain_server(echo) as (url, _received):
        settings = _with_llm(home, url, llm_rewrite=["summary"])
        Rewriter(home.store, settings).run()
        stale = home.store.rewrites.stale_summaries("rewrite/1:scripted", 100)
        assert stale == []
        # another model name: everything is stale again
        assert len(home.store.rewrites.stale_summaries("rewrite/1:other", 100)) == _enriched(home)


def test_the_crawler_runs_rewrites_beside_its_passes(home: Home) -> None:
    async def crawl_a_while(settings: Settings) -> None:
        crawler = build_crawler(settings, home.store)
        assert [step.name for step in crawler.background] == ["briefs", "rewrite"]
        stop = asyncio.Event()
        task = asyncio.create_task(crawler.run_forever(stop, lambda _report: None))
        for _ in range(200):
            if home.store.enrichments.data(list(home.ids.values()), "written"):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 10)

    with plain_server(echo) as (url, _received):
        asyncio.run(crawl_a_while(_with_llm(home, url, llm_rewrite=["summary"])))
    assert home.store.enrichments.data(list(home.ids.values()), "written")


# --- what readers see ----------------------------------------------------------------------------------------


def _panel(page: str) -> str:
    return page[page.index('<aside class="ai-panel"') : page.index("</aside>")]


def test_the_article_page_and_api_show_the_written_summary_only_while_the_llm_is_on(home: Home) -> None:
    article_id = home.ids["bridge-1"]
    with plain_server(echo) as (url, _received):
        settings = _with_llm(home, url, llm_rewrite=["summary"])
        Rewriter(home.store, settings).run()
        with running(create_app(settings, store=home.store)) as site:
            page = httpx.get(f"{site}/articles/{article_id}").text
            data = httpx.get(f"{site}/api/v1/articles/{article_id}").json()
    panel = _panel(page)
    assert 'class="ai-summary ai-written"' in panel and "(scripted)" in panel
    body = page[page.index('<div class="body">') :]
    for target in re.findall(r'href="#(s-\d+)"', panel):
        assert f'<span id="{target}" class="cite' in body
    written = data["written_summary"]
    assert written["model"] == "scripted" and written["points"]
    sentences = {s.index: s.text for s in split_sentences(data["text"])}
    for point in written["points"]:
        assert all(sentences[c["sentence"]] == c["text"] for c in point["citations"])
    assert data["summary"]  # the extracted summary is still in the contract
    # turned off: what the model wrote is no longer shown, though it stays stored
    with running(create_app(home.settings, store=home.store)) as site:
        page = httpx.get(f"{site}/articles/{article_id}").text
        data = httpx.get(f"{site}/api/v1/articles/{article_id}").json()
    assert "ai-written" not in _panel(page) and 'class="ai-summary"' in _panel(page)
    assert data["written_summary"] is None


def test_the_story_page_and_brief_api_show_the_written_brief(home: Home) -> None:
    story_id = _bridge_story(home)
    with plain_server(echo) as (url, _received):
        settings = _with_llm(home, url, llm_rewrite=["brief"])
        assert Rewriter(home.store, settings).run().briefs >= 1
        with running(create_app(settings, store=home.store)) as site:
            page = httpx.get(f"{site}/stories/{story_id}").text
            brief = httpx.get(f"{site}/api/v1/stories/{story_id}/brief").json()
    assert '<ul class="key-points ai-written">' in page and "Written by a language model (scripted)" in page
    assert brief["written"]["model"] == "scripted" and brief["written"]["points"]
    assert brief["agreed"]  # the extracted brief stays in the contract
    for point in brief["written"]["points"]:
        assert point["citations"] and all(c["outlet"] for c in point["citations"])


def test_an_asked_question_is_answered_in_writing_by_the_next_round(home: Home) -> None:
    story_id = _bridge_story(home)
    question = "Why was the harbour bridge closed?"
    with plain_server(echo) as (url, _received):
        settings = _with_llm(home, url, llm_rewrite=["answer"])
        with running(create_app(settings, store=home.store)) as site:
            first = httpx.post(f"{site}/api/v1/stories/{story_id}/ask", json={"question": question}).json()
            assert first["found"] and first["written"] is None and first["written_pending"]
            page = httpx.post(f"{site}/stories/{story_id}/ask", data={"question": question}).text
            assert "A written answer is being prepared" in page
            tally = Rewriter(home.store, settings).run()
            assert tally.answers == 1
            # the same question in other case and spacing is the same question
            again = httpx.post(
                f"{site}/api/v1/stories/{story_id}/ask",
                json={"question": "  why was the HARBOUR bridge closed "},
            ).json()
            page = httpx.post(f"{site}/stories/{story_id}/ask", data={"question": question}).text
    assert normalise_question(question) == normalise_question("  why was the HARBOUR bridge closed ")
    written = again["written"]
    assert written and written["model"] == "scripted" and not again["written_pending"]
    said = {(a["article_id"], a["text"]) for a in again["answer"]}
    for point in written["points"]:
        assert all((c["article_id"], c["text"]) in said for c in point["citations"])
    assert '<ul class="answer ai-written">' in page


def test_a_question_the_coverage_does_not_answer_is_never_sent_to_the_model(home: Home) -> None:
    story_id = _bridge_story(home)
    with plain_server(echo) as (url, received):
        settings = _with_llm(home, url, llm_rewrite=["answer"])
        with running(create_app(settings, store=home.store)) as site:
            reply = httpx.post(
                f"{site}/api/v1/stories/{story_id}/ask", json={"question": "What is the recipe for plum jam?"}
            ).json()
        Rewriter(home.store, settings).run()
    assert not reply["found"] and reply["written"] is None and not reply["written_pending"]
    assert received == []


def test_the_queue_of_answers_is_bounded(home: Home) -> None:
    now = home.store.articles.get(home.ids["bridge-1"]).published
    assert now is not None
    for number in range(MAX_PENDING):
        assert home.store.rewrites.request_answer(
            1,
            f"question {number}",
            version="v",
            source_hash="h",
            sources=[],
            asked="q",
            now=now,
            max_pending=MAX_PENDING,
        )
    assert not home.store.rewrites.request_answer(
        1,
        "one too many",
        version="v",
        source_hash="h",
        sources=[],
        asked="q",
        now=now,
        max_pending=MAX_PENDING,
    )


def test_the_export_carries_the_written_summary(home: Home, tmp_path: Path) -> None:
    with plain_server(echo) as (url, _received):
        Rewriter(home.store, _with_llm(home, url, llm_rewrite=["summary"])).run()
    out = tmp_path / "out.jsonl"
    with out.open("w") as handle:
        export_jsonl(home.store.articles.iter_all(), handle, home.store.enrichments.views)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["written_summary"]["model"] == "scripted" for r in rows if r["duplicate_of"] is None)


def test_the_rewrite_command_says_when_the_llm_is_off_and_runs_rounds_when_on(home: Home) -> None:
    runner = CliRunner()
    env = {"BROADSHEET_HOME": str(home.settings.home), "BROADSHEET_MODELS_DIR": str(MODELS_DIR)}
    off = runner.invoke(app, ["rewrite"], env=env)
    assert off.exit_code != 0 and isinstance(off.exception, ConfigError)
    assert "set llm_url" in str(off.exception)
    with plain_server(echo) as (url, _received):
        env |= {
            "BROADSHEET_LLM_URL": url,
            "BROADSHEET_LLM_MODEL": "scripted",
            "BROADSHEET_LLM_REWRITE": '["summary"]',
        }
        done = runner.invoke(app, ["rewrite", "--rounds", "3"], env=env)
    assert done.exit_code == 0, done.output
    assert f"{_enriched(home)} summaries" in done.output and "round 2: 0 summaries" in done.output


# --- a real model ---------------------------------------------------------------------------------------------


def test_a_real_model_writes_a_summary_whose_citations_hold(home: Home) -> None:
    """llama.cpp's server with the 0.5B model: one round, cut short after the first rewrite. The model may
    fail the checks (then the extracted text stands, with the reason stored); what is stored must hold."""
    if not xllamacpp_installed():
        pytest.skip("xllamacpp is not installed: pip install xllamacpp==2026.10.11549")
    try:
        model = ensure_model(KNOWN_MODELS["qwen2.5-coder-0.5b"])
    except ModelMissingError as missing:
        pytest.skip(f"the 0.5B model is not installed: {missing}")
    with running_server(model) as server:
        settings = _with_llm(home, server.base_url, llm_rewrite=["summary"], llm_seconds_per_round=0.5)
        settings = settings.model_copy(update={"llm_api_key": SecretStr(server.api_key), "llm_model": "qwen"})
        tally = Rewriter(home.store, settings).run()
    assert not tally.failed, tally.failed
    assert tally.summaries + tally.fell_back == 1  # the round stops after the first, past its time
    stored = home.store.enrichments.data(list(home.ids.values()), "written")
    ((article_id, data),) = stored.items()
    article = home.store.articles.get(article_id)
    sentences = {s.index: s.text for s in split_sentences(article.text)}
    if tally.summaries:
        assert data["model"] == "qwen" and data["seconds"] > 0
        for point in data["points"]:
            assert point["citations"] and all(
                sentences[c["sentence"]] == c["text"] for c in point["citations"]
            )
    else:
        assert "held up" in data["error"]
