"""Dedupe behaviour through the pipeline's Python API, against a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from broadsheet.config import Settings
from broadsheet.dedupe import Action, Verdict
from broadsheet.models import Article
from broadsheet.pipeline.ingest import Ingester
from broadsheet.store import Store

WIRE = (
    "Engineers at the Veltra Dam finished replacing the north spillway gates on Sunday, two weeks ahead of the "
    "schedule set after last spring's floods. The regional water board said the new gates can release twice the "
    "volume of the old ones and are controlled from a station above the valley. Residents of the three villages "
    "downstream had campaigned for the work since the flood, when water from the reservoir reached the main "
    "square of Lower Veltra. The board's chair, Oda Brenn, thanked the crews who worked through the winter and "
    "said inspections of the south gates would begin in the autumn."
)


@pytest.fixture
def pipeline(tmp_path: Path) -> Ingester:
    settings = Settings(home=tmp_path)
    return Ingester(Store.open(settings.database), settings)


def article(
    url: str, text: str = WIRE, title: str = "Veltra Dam gets new spillway gates", **kw: object
) -> Article:
    return Article(
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        published=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        outlet="The Valley Courier",
        **kw,  # type: ignore[arg-type]
    )


def test_same_article_through_tracking_link_is_stored_once(pipeline: Ingester) -> None:
    first = pipeline.ingest(article("https://courier.example/dam"))
    again = pipeline.ingest(article("http://courier.example/dam?utm_source=rss&fbclid=abc"))
    assert (first.action, again.action) == (Action.NEW, Action.SAME)
    assert again.article_id == first.article_id
    assert pipeline.store.articles.count() == 1


def test_syndicated_copy_on_another_site_is_stored_as_duplicate(pipeline: Ingester) -> None:
    original = pipeline.ingest(article("https://wire.example/veltra"))
    copy = pipeline.ingest(article("https://herald.example/news/veltra-dam", title="New gates at Veltra Dam"))
    assert copy.action is Action.COPY
    stored = pipeline.store.articles.get(copy.article_id)
    assert stored.duplicate_of == original.article_id


def test_lightly_edited_wire_copy_is_a_near_duplicate(pipeline: Ingester) -> None:
    original = pipeline.ingest(article("https://wire.example/veltra"))
    edited = WIRE.replace("on Sunday", "on Sunday morning") + " The Herald's reporter visited the site."
    copy = pipeline.ingest(article("https://herald.example/veltra", text=edited, title="Dam gates replaced"))
    assert copy.action is Action.COPY
    assert pipeline.store.articles.get(copy.article_id).duplicate_of == original.article_id


def test_updated_article_at_the_same_url_keeps_its_id(pipeline: Ingester) -> None:
    first = pipeline.ingest(article("https://courier.example/dam"))
    updated_text = WIRE + " Update: the board has published the inspection schedule."
    update = pipeline.ingest(article("https://courier.example/dam", text=updated_text))
    assert update.action is Action.UPDATE and update.article_id == first.article_id
    assert pipeline.store.articles.get(first.article_id).text.endswith("inspection schedule.")
    assert pipeline.store.articles.count() == 1


def test_edited_version_under_a_new_url_on_the_same_site_is_kept_as_a_near_duplicate(
    pipeline: Ingester,
) -> None:
    first = pipeline.ingest(article("https://courier.example/2026/dam-gates"))
    edited = WIRE.replace("two weeks ahead", "a fortnight ahead") + " More inspections follow."
    second = pipeline.ingest(
        article(
            "https://www.courier.example/2026/dam-gates-replaced-early", text=edited, title="Gates in early"
        )
    )
    # Nothing is overwritten on a similarity guess: both versions stay, the later one folded under the first.
    assert second.action is Action.COPY and second.article_id != first.article_id
    assert pipeline.store.articles.get(second.article_id).duplicate_of == first.article_id
    assert pipeline.store.articles.get(first.article_id).text == WIRE
    assert pipeline.store.articles.get(first.article_id).also_published_at == (
        "https://www.courier.example/2026/dam-gates-replaced-early",
    )


def test_same_text_under_another_url_of_the_same_site_is_one_article(pipeline: Ingester) -> None:
    first = pipeline.ingest(article("https://courier.example/world/dam"))
    again = pipeline.ingest(article("https://courier.example/europe/dam"))
    assert again.action is Action.SAME and again.article_id == first.article_id
    assert "https://courier.example/europe/dam" in pipeline.store.articles.get(first.article_id).aliases


def test_different_stories_with_shared_words_are_not_folded(pipeline: Ingester) -> None:
    pipeline.ingest(article("https://wire.example/veltra"))
    other = (
        "The Veltra regional water board opened bids on Monday for a new treatment plant on the eastern bank. "
        "Four firms entered, and the board expects to pick one before the end of the year. The plant would serve "
        "the growing suburbs north of the river, where wells ran low during the dry summer, and would replace two "
        "pumping stations built in the nineteen-sixties. Board members said the cost would be shared with the "
        "national infrastructure fund."
    )
    result = pipeline.ingest(article("https://herald.example/plant", text=other, title="Bids open for plant"))
    assert result.action is Action.NEW


def test_headline_only_articles_are_folded_only_when_identical(pipeline: Ingester) -> None:
    a = pipeline.ingest(article("https://a.example/1", text="", title="Storm closes coastal road"))
    b = pipeline.ingest(article("https://b.example/1", text="", title="Storm closes coastal road"))
    c = pipeline.ingest(article("https://c.example/1", text="", title="Storm closes mountain pass"))
    assert (a.action, b.action, c.action) == (Action.NEW, Action.COPY, Action.NEW)


def test_near_duplicate_index_is_rebuilt_from_the_database(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = Ingester(Store.open(settings.database), settings)
    original = first.ingest(article("https://wire.example/veltra"))
    first.store.close()
    # A new process: the in-memory index starts from what the file holds.
    second = Ingester(Store.open(settings.database), settings)
    edited = WIRE.replace("Sunday", "Saturday") + " Crews celebrated with the villagers."
    copy = second.ingest(article("https://herald.example/x", text=edited, title="Dam work done"))
    assert copy.action is Action.COPY and second.store.articles.get(copy.article_id).duplicate_of == (
        original.article_id
    )


def test_a_process_sees_near_duplicates_another_process_stored_while_it_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two workers side by side, each with its own index: the second learns what the first stored since it
    # started (read again at most once a second; here at once).
    monkeypatch.setattr("broadsheet.dedupe.CATCH_UP_SECONDS", 0.0)
    settings = Settings(home=tmp_path)
    first = Ingester(Store.open(settings.database), settings)
    second = Ingester(Store.open(settings.database), settings)
    original = first.ingest(article("https://wire.example/veltra"))
    edited = WIRE.replace("Sunday", "Saturday") + " Crews celebrated with the villagers."
    copy = second.ingest(article("https://herald.example/x", text=edited, title="Dam work done"))
    assert copy.action is Action.COPY
    assert second.store.articles.get(copy.article_id).duplicate_of == original.article_id
    # and what it stored itself is indexed once, not again at each look
    later = second.ingest(article("https://gazette.example/y", text=edited + " More.", title="Dam"))
    assert later.action is Action.COPY and len(second.dedupe.index) == 1


def test_within_the_second_a_process_does_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("broadsheet.dedupe.CATCH_UP_SECONDS", 3600.0)
    settings = Settings(home=tmp_path)
    first = Ingester(Store.open(settings.database), settings)
    second = Ingester(Store.open(settings.database), settings)
    first.ingest(article("https://wire.example/veltra"))
    edited = WIRE.replace("Sunday", "Saturday") + " Crews celebrated with the villagers."
    assert (
        second.ingest(article("https://herald.example/x", text=edited, title="Dam work done")).action
        is Action.NEW
    )


def test_an_article_another_process_stored_first_is_judged_again_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second process judged the article new just before the first stored it: its insert meets the unique
    # address, and it judges again against what is stored now.
    settings = Settings(home=tmp_path)
    first = Ingester(Store.open(settings.database), settings)
    second = Ingester(Store.open(settings.database), settings)
    stored = first.ingest(article("https://wire.example/veltra"))
    judge = second.dedupe.judge
    verdicts: list[Action] = []

    def stale_then_real(*args: object) -> object:
        verdict = judge(*args) if verdicts else Verdict(Action.NEW)  # type: ignore[arg-type]
        verdicts.append(verdict.action)
        return verdict

    monkeypatch.setattr(second.dedupe, "judge", stale_then_real)
    monkeypatch.setattr("broadsheet.pipeline.ingest.RETRY_PAUSE", 0.0)
    again = second.ingest(article("https://wire.example/veltra"))
    assert verdicts == [Action.NEW, Action.SAME]
    assert (again.action, again.article_id) == (Action.SAME, stored.article_id)
    assert second.store.articles.count() == 1


def test_catching_up_reads_only_what_is_new_since_the_last_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Articles this process stored itself move the mark too: each look reads the new ids and the margin below
    # them, never everything since the process started.
    monkeypatch.setattr("broadsheet.dedupe.CATCH_UP_SECONDS", 0.0)
    monkeypatch.setattr("broadsheet.dedupe.CATCH_UP_IDS", 2)
    settings = Settings(home=tmp_path)
    ingester = Ingester(Store.open(settings.database), settings)
    reads: list[int] = []
    after = ingester.store.articles.signatures_after

    def counted(article_id: int, **kw: int) -> object:
        rows = list(after(article_id, **kw))
        reads.append(len(rows))
        return iter(rows)

    monkeypatch.setattr(ingester.store.articles, "signatures_after", counted)
    for n in range(12):
        text = f"Story number {n} about the harbour works and the {n} cranes at the quay. " * 12
        ingester.ingest(article(f"https://courier.example/{n}", text=text, title=f"Harbour works, part {n}"))
    assert max(reads) <= 3  # the last article and at most two below it
