"""Languages in stories: each article's language on the story page and in related coverage, the story page's
language filter, and the story API's `lang`; over HTTP against a real server on a real SQLite home.

Stories across languages are not clustered yet, so the story is recorded as the clusterer would leave it.
Every outlet, place, name and sentence is invented.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from website import running

from broadsheet.config import Settings
from broadsheet.pipeline.ingest import Ingester
from broadsheet.pipeline.jsonl import import_jsonl
from broadsheet.store import Store
from broadsheet.store.stories import StoryUpdate
from broadsheet.web import create_app

T0 = datetime(2026, 11, 2, 6, tzinfo=UTC)
NOW = T0 + timedelta(days=1)

FIRE_EN = (
    "A fire gutted the keeper's cottage beside the Brannock lighthouse late on Sunday, the Brannock coast "
    "guard said. Nobody was hurt: the keeper, Tamsin Ogilvy, was on the gallery of the tower when she saw "
    "smoke below. Volunteers carried water from the harbour until the fire crew arrived from Vell."
)
# (key, outlet, hours after T0, lang, title, text, story)
ROWS = [
    ("fire-en-1", "Alder Gazette", 1.0, "en", "Fire guts Brannock lighthouse cottage", FIRE_EN, 1),
    ("fire-pt-1", "Diário de Quillon", 2.0, "pt", "Incêndio destrói a casa do faroleiro de Brannock",
     "Um incêndio destruiu no domingo à noite a casa do faroleiro junto ao farol de Brannock, disse a guarda "
     "costeira. Ninguém ficou ferido: a faroleira, Tamsin Ogilvy, estava na galeria da torre quando viu "
     "fumo. Voluntários levaram água do porto até à chegada dos bombeiros de Vell.", 1),
    ("fire-en-2", "Marrowby Herald", 3.0, "en", "Lighthouse keeper escapes as cottage burns",
     "Brannock's lighthouse keeper watched from the tower as her cottage burned on Sunday night. Tamsin "
     "Ogilvy said the fire spread through the roof in minutes. The lighthouse lamp itself was not damaged "
     "and shipping warnings were never interrupted, the coast guard said.", 1),
    ("fire-de-1", "Kellner Rundschau", 4.0, "de", "Feuer zerstört Wärterhaus am Leuchtturm von Brannock",
     "Ein Feuer hat in der Nacht zum Montag das Haus der Leuchtturmwärterin von Brannock zerstört. "
     "Verletzt wurde niemand. Die Wärterin Tamsin Ogilvy sah den Rauch vom Turm aus; Freiwillige löschten "
     "mit Wasser aus dem Hafen, bis die Feuerwehr aus Vell eintraf.", 1),
    ("fire-pt-2", "Diário de Quillon", 5.0, "pt", "Faroleira de Brannock fala depois do incêndio",
     "A faroleira de Brannock, Tamsin Ogilvy, agradeceu aos voluntários que combateram o incêndio da sua "
     "casa. Disse que vai continuar a acender o farol todas as noites enquanto a casa é reconstruída.", 1),
    ("fire-en-3", "Alder Gazette", 6.0, "en", "Brannock keeper thanks volunteers after cottage fire",
     "Tamsin Ogilvy has thanked the volunteers who fought the fire at her cottage and says she will keep "
     "the Brannock light burning every night while the cottage is rebuilt with council help.", 1),
    ("fire-notes", "Brannock Notes", 7.0, "", "Brannock lighthouse: what happens next",
     "The council will meet on Thursday to agree a plan for rebuilding the keeper's cottage at Brannock. "
     "A caravan has been placed beside the tower in the meantime.", 1),
    ("ferry-1", "Alder Gazette", 8.0, "en", "Vell ferry timetable changes for winter",
     "The Vell ferry will run four crossings a day from next Monday instead of six, its operator said, "
     "as the winter timetable begins earlier than usual this year.", 2),
    ("ferry-2", "Marrowby Herald", 9.0, "en", "Fewer Vell ferry crossings from Monday",
     "Travellers to Vell will have fewer ferry crossings from Monday: the winter timetable cuts the "
     "service from six sailings a day to four until the spring.", 2),
]  # fmt: skip


@dataclass
class Reader:
    client: httpx.Client
    app: FastAPI
    ids: dict[str, int]  # ROWS key -> article id

    def page(self, path: str) -> str:
        answer = self.client.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text


def _story_update(story_id: int, headline: int, keys: list[str]) -> StoryUpdate:
    rows = [r for r in ROWS if r[0] in keys]
    return StoryUpdate(id=story_id, headline_id=headline, first_seen=T0 + timedelta(hours=rows[0][2]),
                       last_seen=T0 + timedelta(hours=rows[-1][2]), article_count=len(rows),
                       outlet_count=len({r[1] for r in rows}))  # fmt: skip


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    home = tmp_path_factory.mktemp("languageshome")
    settings = Settings(home=home, crawl_in_server=False, page_cache_seconds=3600)
    store = Store.open(settings.database)
    data = home / "coverage.jsonl"
    data.write_text("".join(
        json.dumps({"url": f"https://{outlet.split()[-1].lower()}.example/{key}", "title": title, "text": text,
                    "published": (T0 + timedelta(hours=hours)).isoformat(), "outlet": outlet, "lang": lang}) + "\n"
        for key, outlet, hours, lang, title, text, _ in ROWS
    ))  # fmt: skip
    import_jsonl(data, Ingester(store, settings))
    ids = {a.url.rsplit("/", 1)[1]: a.id for a in store.articles.iter_all() if a.id is not None}
    fire = [r[0] for r in ROWS if r[6] == 1]
    ferry = [r[0] for r in ROWS if r[6] == 2]
    # The fire story's most central article is the Portuguese one, so its page's headline is in Portuguese.
    store.stories.record(
        [_story_update(1, ids["fire-pt-1"], fire), _story_update(2, ids["ferry-1"], ferry)],
        [(ids[k], 1) for k in fire] + [(ids[k], 2) for k in ferry],
    )
    app = create_app(settings, store=store)
    app.state.context.clock = lambda: NOW
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield Reader(client, app, ids)


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _label(code: str, name: str) -> str:
    return f'<span class="lang" lang="{code}" dir="auto">{name}</span>'


def _item(section: str, article_id: int, start: str) -> str:
    """The markup of the item of `section` that links to the article, from `start` up to that link."""
    return section.split(f'<a href="/articles/{article_id}"')[0].rsplit(start, 1)[1]


def _coverage(page: str) -> str:
    return _between(page, 'class="coverage-grid"', 'id="timeline-h"')


def _timeline(page: str) -> list[str]:
    return _between(page, 'id="timeline-h"', "</ol>").split("<li>")[1:]


def test_every_article_on_a_story_page_shows_its_language(reader: Reader) -> None:
    page = reader.page("/stories/1")
    coverage = _coverage(page)
    for key, code, name in (("fire-en-1", "en", "English"), ("fire-pt-1", "pt", "Português"),
                            ("fire-de-1", "de", "Deutsch")):  # fmt: skip
        assert _label(code, name) in _item(coverage, reader.ids[key], "<article")
    assert coverage.count('class="lang"') == 6  # the article of unknown language has no label
    items = _timeline(page)
    assert len(items) == 7
    by_title = {html.unescape(item.rsplit("</a>", 1)[0].rsplit(">", 1)[1]): item for item in items}
    assert _label("pt", "Português") in by_title["Faroleira de Brannock fala depois do incêndio"]
    assert _label("en", "English") in by_title["Brannock keeper thanks volunteers after cottage fire"]
    assert _label("de", "Deutsch") in by_title["Feuer zerstört Wärterhaus am Leuchtturm von Brannock"]
    assert 'class="lang"' not in by_title["Brannock lighthouse: what happens next"]


def test_headlines_in_another_language_than_the_page_carry_their_lang(reader: Reader) -> None:
    page = reader.page("/stories/1")
    assert '<html lang="en">' in page
    assert '<h1 lang="pt">Incêndio destrói a casa do faroleiro de Brannock</h1>' in page
    coverage = _coverage(page)
    assert f'<h4 lang="pt"><a href="/articles/{reader.ids["fire-pt-2"]}">' in coverage
    assert f'<h4 lang="de"><a href="/articles/{reader.ids["fire-de-1"]}">' in coverage
    assert f'<h4><a href="/articles/{reader.ids["fire-en-2"]}">' in coverage  # the page's own language
    assert f'<h4><a href="/articles/{reader.ids["fire-notes"]}">' in coverage
    timeline = "".join(_timeline(page))
    assert f'<a href="/articles/{reader.ids["fire-de-1"]}" lang="de">' in timeline
    assert f'<a href="/articles/{reader.ids["fire-en-3"]}">' in timeline


def test_a_story_in_several_languages_offers_a_filter_with_counts(reader: Reader) -> None:
    nav = _between(reader.page("/stories/1"), 'class="lang-filter', "</nav>")
    assert '<strong aria-current="page">All</strong>' in nav
    links = [
        f'<a href="/stories/1?lang=en">{_label("en", "English")} (3)</a>',
        f'<a href="/stories/1?lang=pt">{_label("pt", "Português")} (2)</a>',
        f'<a href="/stories/1?lang=de">{_label("de", "Deutsch")} (1)</a>',
    ]
    assert all(link in nav for link in links)
    assert [nav.index(link) for link in links] == sorted(nav.index(link) for link in links)  # most first
    assert 'class="lang-filter' not in reader.page("/stories/2")  # one language: nothing to filter


def test_a_filtered_story_page_lists_only_that_language_and_links_back(reader: Reader) -> None:
    page = reader.page("/stories/1?lang=pt")
    assert f"Filtered: only the 2 articles in {_label('pt', 'Português')} are listed." in page
    assert '<a href="/stories/1">Show all 7 articles</a>' in page
    nav = _between(page, 'class="lang-filter', "</nav>")
    assert '<a href="/stories/1">All</a>' in nav
    assert f'<strong aria-current="page">{_label("pt", "Português")} (2)</strong>' in nav
    coverage = _coverage(page)
    listed = {key for key, i in reader.ids.items() if f'href="/articles/{i}"' in coverage}
    assert listed == {"fire-pt-1", "fire-pt-2"}
    # The timeline keeps its labels from the whole story: the first article in Portuguese was not the first.
    items = _timeline(page)
    labels = [item.split("</span>", 1)[0].rsplit(">", 1)[1] for item in items]
    assert labels == ["Report", "Follow-up"]
    assert "first reported" in page and "by Alder Gazette" in _between(page, 'class="meta counts"', "</p>")


def test_a_language_the_story_does_not_have_is_refused_with_what_it_has(reader: Reader) -> None:
    unknown = reader.client.get("/stories/1?lang=qz")
    assert unknown.status_code == 400
    message = html.unescape(unknown.text)
    assert "None of this story's articles is in that language" in message
    assert "English (en), Português (pt), Deutsch (de)" in message
    assert "qz" not in message  # what a link carries is not written back as the site's words
    assert reader.client.get("/stories/2?lang=pt").status_code == 400
    for bad in ("<script>", "e" * 40, "", "en_GB"):
        answer = reader.client.get("/stories/1", params={"lang": bad})
        assert answer.status_code == 400, bad
        assert "lang" in answer.text
        assert "<script>" not in answer.text
    assert reader.page("/stories/1?lang=de")  # still answered after refusals


def test_the_page_cache_never_serves_one_filter_for_another(reader: Reader) -> None:
    cache = reader.app.state.context.page_cache
    cache.clear()
    german = reader.client.get("/stories/1?lang=de")
    everything = reader.client.get("/stories/1")
    assert 'class="lang"' in german.text and "Filtered:" in german.text
    assert "Filtered:" not in everything.text
    assert german.headers["etag"] != everything.headers["etag"]
    hits = cache.hits
    again = reader.client.get("/stories/1?r=7")  # a parameter the page does not read: the same page
    assert cache.hits == hits + 1
    assert again.headers["etag"] == everything.headers["etag"] and "Filtered:" not in again.text
    again = reader.client.get("/stories/1?r=7&lang=%64e")  # the filter, spelled another way
    assert again.headers["etag"] == german.headers["etag"] and "Filtered:" in again.text
    portuguese = reader.client.get("/stories/1?lang=pt")
    assert portuguese.headers["etag"] not in (german.headers["etag"], everything.headers["etag"])
    assert reader.client.get("/stories/1?lang=qz").status_code == 400
    assert reader.client.get("/stories/1?lang=qz").status_code == 400  # a refusal is never stored
    assert reader.client.get("/stories/1").headers["etag"] == everything.headers["etag"]


def test_related_coverage_shows_a_language_other_than_the_articles(reader: Reader) -> None:
    page = reader.page(f"/articles/{reader.ids['fire-en-1']}")
    related = page.split('id="related-h"', 1)[1]
    meta = {
        key: _item(related, reader.ids[key], "related-item")
        for key in ("fire-pt-1", "fire-de-1", "fire-en-2")
    }
    assert _label("pt", "Português") in meta["fire-pt-1"] and '<h3 lang="pt">' in meta["fire-pt-1"]
    assert _label("de", "Deutsch") in meta["fire-de-1"] and '<h3 lang="de">' in meta["fire-de-1"]
    assert 'class="lang"' not in meta["fire-en-2"] and "<h3>" in meta["fire-en-2"]
    # From an article in Portuguese, English coverage is the other language (and still the page's own).
    related = reader.page(f"/articles/{reader.ids['fire-pt-1']}").split('id="related-h"', 1)[1]
    english = _item(related, reader.ids["fire-en-1"], "related-item")
    assert _label("en", "English") in english and "<h3>" in english
    portuguese = _item(related, reader.ids["fire-pt-2"], "related-item")
    assert 'class="lang"' not in portuguese and '<h3 lang="pt">' in portuguese


def test_the_story_api_carries_each_articles_language_and_takes_the_filter(reader: Reader) -> None:
    story = reader.client.get("/api/v1/stories/1").json()
    assert {a["id"]: a["lang"] for a in story["articles"]} == {
        reader.ids[r[0]]: r[3] for r in ROWS if r[6] == 1
    }
    assert story["languages"] == {"en": 3, "pt": 2, "de": 1}
    assert list(story["languages"]) == ["en", "pt", "de"]
    portuguese = reader.client.get("/api/v1/stories/1", params={"lang": "pt"}).json()
    assert [a["id"] for a in portuguese["articles"]] == [reader.ids["fire-pt-1"], reader.ids["fire-pt-2"]]
    assert portuguese["article_count"] == 7 and portuguese["languages"] == story["languages"]
    german = reader.client.get("/api/v1/stories/1/articles", params={"lang": "de"}).json()
    assert [(a["id"], a["lang"]) for a in german] == [(reader.ids["fire-de-1"], "de")]
    assert reader.client.get("/api/v1/stories/1/articles", params={"lang": "qz"}).json() == []
    bad = reader.client.get("/api/v1/stories/1", params={"lang": "<script>"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_input"
