"""The AI layer on the web, against a real server over a database (SQLite, then PostgreSQL) filled by import and
the real steps (enrichment, stories, briefs) on invented coverage (storyset): the article page's panel and its
anchors, the API's contract fields, entity and topic pages, the story brief and "ask about this story" (API and
form)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import httpx
import pytest
from website import MODELS_DIR, running

from broadsheet.config import Settings
from broadsheet.enrich import TOPICS, split_sentences
from broadsheet.pipeline.assemble import build_steps
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.web import create_app
from storyset import coverage


@dataclass
class AISite:
    store: Store
    client: httpx.Client
    ids: dict[str, int]  # storyset key -> article id


@pytest.fixture(scope="module")
def ai_site(tmp_path_factory: pytest.TempPathFactory, module_database_url: str) -> Iterator[AISite]:
    """The site on each back end in turn (conftest.module_database_url)."""
    home: Path = tmp_path_factory.mktemp("aihome")
    settings = Settings(
        home=home,
        database_url=module_database_url,
        crawl_in_server=False,
        models_dir=MODELS_DIR,
        questions_per_minute=600,
    )
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in coverage()))
    import_jsonl(data, Ingester(store, settings))
    for step in build_steps(settings, store, briefs=True):
        step.run()
    ids = {a.url.rsplit("/", 1)[1]: a.id or 0 for a in store.articles.iter_all()}
    with running(create_app(settings, store=store)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield AISite(store, client, ids)
    store.close()


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_the_article_api_carries_the_contract_fields(ai_site: AISite) -> None:
    article_id = ai_site.ids["bridge-1"]
    data = ai_site.client.get(f"/api/v1/articles/{article_id}").json()
    assert data["lang"] == "en"
    assert data["topic"] in TOPICS
    assert data["kind"] == "news"
    assert {"name": "Maribel Ostrander", "type": "person"}.items() <= next(
        e for e in data["entities"] if e["name"] == "Maribel Ostrander"
    ).items()
    assert data["tags"]
    sentences = {s.index: s.text for s in split_sentences(data["text"])}
    assert 3 <= len(data["key_points"]) <= 5
    for point in data["key_points"]:
        assert point["citations"]
        for cited in point["citations"]:
            assert sentences[cited["sentence"]] == cited["text"]
    assert data["summary"] == " ".join(c["text"] for c in data["summary_sentences"])


def test_the_article_page_shows_points_whose_markers_land_on_their_sentences(ai_site: AISite) -> None:
    article_id = ai_site.ids["bridge-1"]
    page = ai_site.client.get(f"/articles/{article_id}").text
    panel = page[page.index('<aside class="ai-panel"') : page.index("</aside>")]
    body = page[page.index('<div class="body">') :]
    points = re.findall(r"<li>(.*?)</li>", panel[panel.index('class="key-points"') :], flags=re.S)
    assert 3 <= len(points) <= 5
    for point in points:
        targets = re.findall(r'href="#(s-\d+)"', point)
        assert targets
        for target in targets:
            span = re.search(rf'<span id="{target}" class="cite[^"]*">(.*?)</span>', body, flags=re.S)
            assert span is not None, target
            assert _text(span.group(1)) in _text(point)
    assert '<a href="/entities/maribel-ostrander">Maribel Ostrander</a>' in panel


def test_entity_and_topic_pages_list_what_they_are_about(ai_site: AISite) -> None:
    entity = ai_site.client.get("/entities/maribel-ostrander")
    assert entity.status_code == 200
    assert "Maribel Ostrander" in entity.text
    assert 'class="entity-stories"' in entity.text  # the stories that mention her
    assert ai_site.client.get("/entities/maribel-ostrander.atom").status_code == 200
    assert ai_site.client.get("/entities/nobody-at-all").status_code == 404
    topic = ai_site.store.articles.get(ai_site.ids["bridge-1"]).topic
    listing = ai_site.client.get(f"/topics/{topic}")
    assert listing.status_code == 200
    assert f"/articles/{ai_site.ids['bridge-1']}" in listing.text
    missing = ai_site.client.get("/topics/astrology")
    assert missing.status_code == 404 and "the topics are" in missing.text


def _bridge_story(ai_site: AISite) -> int:
    story_id = ai_site.store.articles.get(ai_site.ids["bridge-1"]).story_id
    assert story_id is not None
    return story_id


def test_the_story_brief_cites_several_outlets_in_their_own_words(ai_site: AISite) -> None:
    story_id = _bridge_story(ai_site)
    brief = ai_site.client.get(f"/api/v1/stories/{story_id}/brief").json()
    assert brief["built_at"] is not None
    assert brief["article_count"] >= 3
    assert brief["agreed"]
    texts = {aid: ai_site.store.articles.get(aid).text for aid in ai_site.ids.values()}
    for point in brief["agreed"]:
        assert len({c["outlet"] for c in point["citations"]}) >= 2
        assert point["text"] == point["citations"][0]["text"]
        for cited in point["citations"]:
            assert cited["text"] in texts[cited["article_id"]]
    page = ai_site.client.get(f"/stories/{story_id}").text
    assert "What the coverage agrees on" in page
    assert "The story in brief" in page


def test_asking_about_a_story_answers_from_its_sentences_or_says_it_does_not_know(ai_site: AISite) -> None:
    story_id = _bridge_story(ai_site)
    asked = ai_site.client.post(
        f"/api/v1/stories/{story_id}/ask", json={"question": "Who said the bridge would stay shut?"}
    )
    assert asked.status_code == 200, asked.text
    answer = asked.json()
    assert answer["found"] is True
    assert "Ostrander" in answer["answer"][0]["text"]
    unknown = ai_site.client.post(
        f"/api/v1/stories/{story_id}/ask", json={"question": "What is the recipe for lemon drizzle cake?"}
    ).json()
    assert unknown == {"found": False, "answer": [], "written": None, "written_pending": False}
    empty = ai_site.client.post(f"/api/v1/stories/{story_id}/ask", json={"question": "   "})
    assert empty.status_code == 400
    assert "question is empty" in empty.json()["error"]["message"]


def test_the_story_page_form_asks_without_javascript(ai_site: AISite) -> None:
    story_id = _bridge_story(ai_site)
    page = ai_site.client.post(
        f"/stories/{story_id}/ask", data={"question": "Who said the bridge would stay shut?"}
    )
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    answer = page.text[page.text.index('<ul class="answer">') :]
    assert "Ostrander" in answer.split("</ul>")[0]
    assert re.search(r'href="/articles/\d+#s-\d+"', answer)
    none = ai_site.client.post(f"/stories/{story_id}/ask", data={"question": "What is the capital of Peru?"})
    assert "The coverage does not say" in none.text
