"""Topic accuracy on labelled real news, and the topic step's cost per article.

Reads ../shared/data (ai-dev/ag_news/dev.jsonl, ai-dev/bbc_news/dev.jsonl); prints "skipped" when they are
absent. Those sets are research-licensed: they score methods here and never train what ships.

    .venv/bin/python bench/enrich_topic.py [--data DIR] [--embed KIND] [--cache DIR] [--json OUT]

Each article is `embedding_text(title, text)` (title + first 40 words), embedded with `--embed` (the
pipeline's default kind unless given). Our ten topics are scored through a fixed map onto each set's labels
(`MAPS`; a topic the set has no label for counts as wrong): "mapped" is what a reader of our `topic` field
sees; "restricted" takes the best of only the topics that map to one of the set's labels, for reference.
Rows: the floor (cosine to one description per dataset label: restricted only, it knows no other topics);
cosine to one and to five descriptions per topic; trained on the invented seed set (`data/topic_seed.jsonl`)
with the shipped settings: class centroids, logistic regression on vectors, on TF-IDF, and the shipped mix
of the two (`data/topic_model.npz`). Then the shipped classifier's confusion on each set, and its cost:
milliseconds per article given the vector, one article at a time and in one batch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.embed import DEFAULT_KIND, Embedder, embedding_text, load_embedder
from broadsheet.enrich.topic import (
    LEXICAL_WORDS,
    MODEL_PATH,
    SEED_PATH,
    TOPIC_DESCRIPTIONS,
    TOPICS,
    article_text,
    load_topic_classifier,
    terms,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
AG = Path("ai-dev/ag_news/dev.jsonl")
BBC = Path("ai-dev/bbc_news/dev.jsonl")

# Our topic -> the set's label, fixed before scoring; None: the set has no such label, so it counts as wrong.
MAPS: dict[str, dict[str, str | None]] = {
    "AG News": {
        "world": "World",
        "politics": "World",
        "business": "Business",
        "technology": "Sci/Tech",
        "science": "Sci/Tech",
        "health": "Sci/Tech",
        "environment": "Sci/Tech",
        "sport": "Sports",
        "entertainment": None,
        "lifestyle": None,
    },
    "BBC News": {
        "world": "politics",
        "politics": "politics",
        "business": "business",
        "technology": "tech",
        "science": "tech",
        "health": None,
        "environment": None,
        "sport": "sport",
        "entertainment": "entertainment",
        "lifestyle": "entertainment",
    },
}
# The floor: one description per dataset label.
LABEL_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "AG News": {
        "World": "World news: international affairs, politics, conflicts and diplomacy.",
        "Sports": "Sports news: games, players, teams and tournaments.",
        "Business": "Business news: companies, markets, the economy and finance.",
        "Sci/Tech": "Science and technology news: computers, the internet, space and research.",
    },
    "BBC News": {
        "business": "Business news: companies, markets, the economy and finance.",
        "entertainment": "Entertainment news: films, music, television and celebrities.",
        "politics": "Politics news: government, elections, parties and parliament.",
        "sport": "Sports news: games, players, teams and tournaments.",
        "tech": "Technology news: computers, the internet, gadgets and software.",
    },
}
FIVE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "world": (
        "International news: wars, conflicts and ceasefires between countries.",
        "Diplomacy: foreign ministers, summits, the United Nations and peace talks.",
        "Disasters abroad: earthquakes, floods and famine kill hundreds.",
        "Terrorist attacks, bombings and insurgents in foreign countries.",
        "Refugees, coups, protests and crackdowns around the world.",
    ),
    "politics": (
        "Politics: elections, voters, campaigns and opinion polls.",
        "Government ministers, parliament, MPs and legislation.",
        "Political parties, party leaders and their policies.",
        "The prime minister, the president and the cabinet.",
        "Congress, the Senate, lawmakers and bills.",
    ),
    "business": (
        "Business news: company profits, earnings and sales.",
        "The economy: inflation, interest rates, growth and unemployment.",
        "Stock markets, shares, investors and currencies.",
        "Mergers, takeovers and acquisitions of companies.",
        "Trade, oil prices, banks and the central bank.",
    ),
    "technology": (
        "Technology: computers, software and the internet.",
        "Mobile phones, gadgets and consumer electronics.",
        "Cybersecurity: hackers, viruses and data breaches.",
        "Video games and consoles.",
        "Tech companies such as Microsoft, Apple and Google release new products.",
    ),
    "science": (
        "Science: scientists publish research and discoveries.",
        "Space exploration: NASA, astronauts, rockets and planets.",
        "Astronomy, physics and chemistry.",
        "Fossils, dinosaurs, archaeology and evolution.",
        "Biology, animals, species and genetics research.",
    ),
    "health": (
        "Health: doctors, hospitals and patients.",
        "Diseases and outbreaks: flu, cancer, HIV and vaccines.",
        "Medicine, drugs and clinical trials.",
        "Public health, diet, obesity and smoking.",
        "Mental health and health services.",
    ),
    "sport": (
        "Sport: football matches, goals and the league.",
        "Tennis, golf, cricket and athletics.",
        "Players, coaches, teams and championships.",
        "The Olympics and world cups.",
        "Baseball, basketball, American football and ice hockey.",
    ),
    "entertainment": (
        "Entertainment: films, movies, actors and the box office.",
        "Music: singers, bands, albums and concerts.",
        "Television shows, series and presenters.",
        "Celebrities and awards such as the Oscars and the Grammys.",
        "Books, theatre, art and culture.",
    ),
    "environment": (
        "Environment: climate change and global warming.",
        "Pollution, emissions and carbon dioxide.",
        "Wildlife, endangered species and conservation.",
        "Renewable energy: wind and solar power.",
        "Extreme weather: heatwaves, drought and wildfires.",
    ),
    "lifestyle": (
        "Lifestyle: food, recipes and restaurants.",
        "Travel, holidays and destinations.",
        "Fashion, beauty and style.",
        "Home, gardening and interiors.",
        "Family, parenting, relationships and wellbeing.",
    ),
}

Scores = NDArray[np.floating[Any]]
# A method: (the set's name, vectors, texts) -> one score per topic per article, higher is likelier.
Method = Callable[[str, NDArray[np.float32], Sequence[str]], Scores]


@dataclass(frozen=True, slots=True)
class DevSet:
    name: str
    labels: list[str]
    texts: list[str]  # title + "\n" + body, as the pipeline hands them over
    vectors: NDArray[np.float32]


def load_set(name: str, path: Path, embedder: Embedder) -> DevSet:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [f"{row['title']}\n{row['text']}" for row in rows]
    vectors = embedder.embed([embedding_text(row["title"], row["text"]) for row in rows])
    return DevSet(name, [row["label"] for row in rows], texts, vectors)


def accuracy(dev: DevSet, scores: Scores, *, restricted: bool) -> float:
    """Share of articles whose best topic maps to their label; `restricted`: best of the mapped topics only."""
    mapping = MAPS[dev.name]
    if restricted:
        allowed = np.array([mapping[topic] is not None for topic in TOPICS])
        scores = np.where(allowed, scores, -np.inf)
    predicted = [mapping[TOPICS[k]] for k in scores.argmax(axis=1)]
    return float(np.mean([p == label for p, label in zip(predicted, dev.labels, strict=True)]))


def floor_accuracy(dev: DevSet, embedder: Embedder) -> float:
    labels = list(LABEL_DESCRIPTIONS[dev.name])
    descriptions = embedder.embed([LABEL_DESCRIPTIONS[dev.name][label] for label in labels])
    best = (dev.vectors @ descriptions.T).argmax(axis=1)
    return float(np.mean([labels[k] == label for k, label in zip(best, dev.labels, strict=True)]))


def seed_methods(embedder: Embedder, lexical_words: int) -> dict[str, Method]:
    """Cosine and seed-trained methods, fitted here with the shipped settings (scikit-learn, bench only)."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    with np.load(MODEL_PATH) as shipped:  # the settings the shipped weights were made with
        vector_c, lexical_c = float(shipped["vector_c"]), float(shipped["lexical_c"])

    one = embedder.embed([TOPIC_DESCRIPTIONS[topic] for topic in TOPICS])
    five = embedder.embed([text for topic in TOPICS for text in FIVE_DESCRIPTIONS[topic]])
    five_topic = np.repeat(np.arange(len(TOPICS)), [len(FIVE_DESCRIPTIONS[t]) for t in TOPICS])
    rows = [json.loads(line) for line in SEED_PATH.read_text(encoding="utf-8").splitlines() if line.strip()]
    labels = np.array([TOPICS.index(row["topic"]) for row in rows])
    seed_vectors = embedder.embed([embedding_text(row["title"], row["lead"]) for row in rows])
    centroids = np.stack([seed_vectors[labels == k].mean(axis=0) for k in range(len(TOPICS))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    by_vector = LogisticRegression(C=vector_c, max_iter=5000).fit(seed_vectors, labels)
    tfidf = TfidfVectorizer(analyzer=terms, sublinear_tf=True)
    seed_words = tfidf.fit_transform([article_text(f"{row['title']}\n{row['lead']}") for row in rows])
    by_words = LogisticRegression(C=lexical_c, max_iter=5000).fit(seed_words, labels)

    def five_mean(name: str, vectors: NDArray[np.float32], texts: Sequence[str]) -> Scores:
        cosines = vectors @ five.T
        return np.stack([cosines[:, five_topic == k].mean(axis=1) for k in range(len(TOPICS))], axis=1)

    def lexical(name: str, vectors: NDArray[np.float32], texts: Sequence[str]) -> Scores:
        scores: Scores = by_words.predict_log_proba(
            tfidf.transform([article_text(text, lexical_words) for text in texts])
        )
        return scores

    return {
        "1 description per topic, cosine": lambda name, vectors, texts: vectors @ one.T,
        "5 descriptions per topic, mean cosine": five_mean,
        "seed: nearest class centroid": lambda name, vectors, texts: vectors @ centroids.T,
        "seed: logistic regression on vectors": lambda name, vectors, texts: by_vector.predict_log_proba(
            vectors
        ),
        "seed: logistic regression on TF-IDF": lexical,
    }


def pair(figures: dict[str, float]) -> str:
    return f"{figures['mapped']:.3f} / {figures['restricted']:.3f}"


def confusion(dev: DevSet, scores: Scores) -> str:
    counts = Counter((label, TOPICS[k]) for label, k in zip(dev.labels, scores.argmax(axis=1), strict=True))
    lines = [f"{dev.name}: rows are the set's labels, columns our topics"]
    lines.append(f"{'':>14}" + "".join(f"{topic[:7]:>8}" for topic in TOPICS))
    for label in sorted(set(dev.labels)):
        lines.append(f"{label:>14}" + "".join(f"{counts[(label, topic)]:>8}" for topic in TOPICS))
    return "\n".join(lines)


def cost_ms(method: Callable[[NDArray[np.float32], Sequence[str]], Any], dev: DevSet) -> tuple[float, float]:
    """Milliseconds per article: one article per call (best of three passes over 300), and one batch."""
    n = min(300, len(dev.texts))
    single = []
    for _ in range(3):
        start = time.perf_counter()
        for i in range(n):
            method(dev.vectors[i : i + 1], dev.texts[i : i + 1])
        single.append((time.perf_counter() - start) * 1000 / n)
    start = time.perf_counter()
    method(dev.vectors, dev.texts)
    batch = (time.perf_counter() - start) * 1000 / len(dev.texts)
    return min(single), batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embed", default=DEFAULT_KIND, help="embedder kind for the articles' vectors")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--lexical-words", type=int, default=LEXICAL_WORDS, help="body words the lexical model reads"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    paths = {"AG News": args.data / AG, "BBC News": args.data / BBC}
    missing = [str(path) for path in paths.values() if not path.exists()]
    if missing:
        print(f"skipped: data not found: {', '.join(missing)}")
        return 0

    embedder = load_embedder(args.embed, args.cache)
    sets = [load_set(name, path, embedder) for name, path in paths.items()]
    shipped = replace(load_topic_classifier(embedder.name), lexical_words=args.lexical_words)
    methods = seed_methods(embedder, args.lexical_words)
    methods[f"shipped: vectors + TF-IDF ({shipped.name})"] = lambda name, vectors, texts: np.log(
        shipped.probabilities(vectors, texts)
    )
    print(
        f"topic accuracy, mapped / restricted to the set's labels; {args.embed} vectors of title + lead, "
        f"words of title + {args.lexical_words}"
    )
    print(f"{'':58}" + "".join(f"{f'{dev.name} ({len(dev.labels)})':>22}" for dev in sets))
    figures: dict[str, Any] = {"embed": args.embed, "accuracy": {}}
    floor = {dev.name: floor_accuracy(dev, embedder) for dev in sets}
    figures["accuracy"]["floor: 1 description per dataset label"] = {"restricted": floor}
    print(
        f"{'floor: 1 description per dataset label, cosine':58}"
        + "".join(f"{f'- / {floor[dev.name]:.3f}':>22}" for dev in sets)
    )
    all_scores: dict[str, dict[str, Scores]] = {}
    for label, method in methods.items():
        all_scores[label] = {dev.name: method(dev.name, dev.vectors, dev.texts) for dev in sets}
        row = {
            dev.name: {
                "mapped": accuracy(dev, all_scores[label][dev.name], restricted=False),
                "restricted": accuracy(dev, all_scores[label][dev.name], restricted=True),
            }
            for dev in sets
        }
        figures["accuracy"][label] = row
        print(f"{label:58}" + "".join(f"{pair(row[dev.name]):>22}" for dev in sets))

    last = list(methods)[-1]
    for dev in sets:
        print("\n" + confusion(dev, all_scores[last][dev.name]))
    single, batch = cost_ms(shipped.classify, sets[0])
    figures["ms_per_article"] = {"one at a time": single, "batch": batch}
    print(
        f"\nshipped classifier, given the vector: {single:.3f} ms/article one at a time, {batch:.3f} in one batch"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
