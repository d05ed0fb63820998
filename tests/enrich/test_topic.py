"""Topics from the real model and the shipped weights: obvious headlines, the weights' provenance, story topics.

Every headline here is invented for these tests and is not in the seed set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from broadsheet.enrich.embed import Embedder, embedding_text
from broadsheet.enrich.topic import (
    MODEL_PATH,
    SEED_PATH,
    TOPIC_DESCRIPTIONS,
    TOPIC_LABELS,
    TOPICS,
    TopicClassifier,
    load_topic_classifier,
)
from broadsheet.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]

OBVIOUS = [
    (
        "sport",
        "Harbour Town beat Millbrook 3-0 to reach the cup final",
        "Two goals from the captain in the first half and a late penalty sent the home side to Wembley.",
    ),
    (
        "business",
        "Orrin Foods profits fall 20% as costs rise",
        "The grocer's shares dropped after it warned that higher energy bills would squeeze margins for the rest of the year.",
    ),
    (
        "health",
        "Hospital doctors report surge in flu patients",
        "Wards in the region are full as the virus spreads, and health officials urge older people to get vaccinated.",
    ),
    (
        "technology",
        "Hackers break into phone maker's servers",
        "The company said attackers stole customers' passwords and urged users to update the software on their handsets.",
    ),
    (
        "science",
        "Astronomers spot a new moon orbiting Neptune",
        "The telescope images show a small icy body circling the planet every nine days.",
    ),
    (
        "politics",
        "Opposition wins snap election as prime minister concedes",
        "Voters turned against the governing party, which lost forty seats in parliament.",
    ),
    (
        "entertainment",
        "Singer's third album tops the charts",
        "The record, written on tour, has been streamed forty million times and the band will play stadiums next summer.",
    ),
    (
        "world",
        "Ceasefire agreed after weeks of fighting on the border",
        "Troops from both countries will pull back under a deal brokered by UN envoys, and refugees may start to return home.",
    ),
]


@pytest.fixture(scope="module")
def classifier(int8: Embedder) -> TopicClassifier:
    return load_topic_classifier(int8.name)


def classify(
    classifier: TopicClassifier, embedder: Embedder, articles: list[tuple[str, str]]
) -> list[tuple[str, float]]:
    vectors = embedder.embed([embedding_text(title, lead) for title, lead in articles])
    return classifier.classify(vectors, [f"{title}\n{lead}" for title, lead in articles])


def test_obvious_headlines_get_their_topic(classifier: TopicClassifier, int8: Embedder) -> None:
    results = classify(classifier, int8, [(title, lead) for _, title, lead in OBVIOUS])
    assert [topic for topic, _ in results] == [topic for topic, _, _ in OBVIOUS]
    assert all(0.5 < confidence <= 1.0 for _, confidence in results)


ANGLES = [
    (
        "business",
        "Ministers raise the state pension age to 69",
        "The change will save the treasury billions over the next decade, the work and pensions department said.",
    ),
    (
        "technology",
        "Laptop maker and chip designer build a fanless notebook",
        "The machine runs on a low-power processor and its battery lasts two days, the companies said.",
    ),
    (
        "sport",
        "City sign Brazilian winger on four-year contract",
        "The 22-year-old joins for an undisclosed fee and could make his debut in Saturday's league match.",
    ),
]


def test_stories_are_filed_by_their_angle(classifier: TopicClassifier, int8: Embedder) -> None:
    # A government acting on pensions is business; a tech firm's product is technology; a club's signing is sport.
    results = classify(classifier, int8, [(title, lead) for _, title, lead in ANGLES])
    assert [topic for topic, _ in results] == [topic for topic, _, _ in ANGLES]


def test_confidence_is_the_chosen_topics_probability(classifier: TopicClassifier, int8: Embedder) -> None:
    articles = [(title, lead) for _, title, lead in OBVIOUS]
    vectors = int8.embed([embedding_text(title, lead) for title, lead in articles])
    texts = [f"{title}\n{lead}" for title, lead in articles]
    probabilities = classifier.probabilities(vectors, texts)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    for row, (topic, confidence) in enumerate(classifier.classify(vectors, texts)):
        assert confidence == pytest.approx(float(probabilities[row].max()))
        assert topic == TOPICS[int(probabilities[row].argmax())]


def test_words_of_the_body_change_the_topic(classifier: TopicClassifier, int8: Embedder) -> None:
    # One vector (a headline that could be business or sport), two bodies: the words decide.
    title = "Rovers agree record deal"
    vector = int8.embed([title])
    sporty = f"{title}\n" + "striker goals league match season club fans coach " * 10
    money = f"{title}\n" + "shares profit investors revenue earnings company market " * 10
    (as_sport, _), (as_business, _) = classifier.classify(np.vstack([vector, vector]), [sporty, money])
    assert (as_sport, as_business) == ("sport", "business")


def test_empty_batch_gives_no_topics(classifier: TopicClassifier) -> None:
    assert classifier.classify(np.zeros((0, 384), dtype=np.float32), []) == []


def test_vectors_and_texts_must_pair_up(classifier: TopicClassifier) -> None:
    with pytest.raises(ValueError, match="2 vectors but 1 texts"):
        classifier.classify(np.zeros((2, 384), dtype=np.float32), ["Only one"])


def test_vectors_of_another_model_are_refused() -> None:
    with pytest.raises(ConfigError, match="all-MiniLM-L6-v2"):
        load_topic_classifier("multilingual-e5-small/onnx-int8")


def test_any_runtime_of_the_same_model_is_accepted() -> None:
    for name in ("all-MiniLM-L6-v2/onnx-int8", "all-MiniLM-L6-v2/onnx-fp32", "all-MiniLM-L6-v2/torch-fp32"):
        assert load_topic_classifier(name).name.startswith("topic-v1-")


def test_missing_weights_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"train_topic\.py"):
        load_topic_classifier("all-MiniLM-L6-v2/onnx-int8", tmp_path / "absent.npz")


def test_every_topic_has_a_label_a_description_and_seed_articles() -> None:
    assert set(TOPIC_LABELS) == set(TOPIC_DESCRIPTIONS) == set(TOPICS)
    rows = [json.loads(line) for line in SEED_PATH.read_text(encoding="utf-8").splitlines()]
    per_topic = {topic: sum(row["topic"] == topic for row in rows) for topic in TOPICS}
    assert min(per_topic.values()) >= 50, per_topic
    titles = [row["title"] for row in rows]
    assert len(set(titles)) == len(titles)


@pytest.mark.slow
def test_shipped_weights_equal_a_fresh_training_run(tmp_path: Path, model_cache: Path) -> None:
    fresh = tmp_path / "topic_model.npz"
    subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "train_topic.py"),
            "--out",
            str(fresh),
            "--cache",
            str(model_cache),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with np.load(MODEL_PATH) as shipped, np.load(fresh) as made:
        assert set(shipped.files) == set(made.files)
        for key in ("version", "embedder_model", "topics", "vocabulary", "lexical_weight"):
            assert np.array_equal(shipped[key], made[key]), key
        # Float weights may differ in the last bits between machines (BLAS, ONNX Runtime builds).
        for key in ("idf", "vector_coef", "vector_intercept", "lexical_coef", "lexical_intercept"):
            assert np.allclose(shipped[key], made[key], atol=1e-3), key
