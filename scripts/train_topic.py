"""Makes the shipped topic weights (src/broadsheet/enrich/data/topic_model.npz) from the invented seed headlines.

The seed set (data/topic_seed.jsonl: topic, title, lead per line) was written for broadsheet and is the only
training data: no research-licensed set goes into the weights. Embeds with all-MiniLM-L6-v2 through ONNX fp32
(the same vectors as PyTorch), fits two logistic regressions with scikit-learn and checks that the run-time
classifier in `broadsheet.enrich.topic` reproduces scikit-learn's probabilities before writing.

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/train_topic.py [--seed PATH] [--out PATH] [--cache DIR]

The settings below were chosen on AG News and BBC News dev sets together (bench/enrich_topic.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

from broadsheet.enrich.embed import embedding_text, load_embedder
from broadsheet.enrich.topic import (
    MODEL_PATH,
    SEED_PATH,
    TOPICS,
    article_text,
    load_topic_classifier,
    terms,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
EMBEDDER = "minilm-fp32"
SETTINGS = {
    "vector_c": 3.0,  # inverse L2 strength of the regression on vectors
    "lexical_c": 10.0,  # ... and on TF-IDF
    "lexical_weight": 0.5,  # share of the lexical model's log-probabilities in the mix
}


def read_seed(path: Path) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    unknown = {row["topic"] for row in rows} - set(TOPICS)
    if unknown:
        raise SystemExit(f"{path}: topics not in TOPICS: {sorted(unknown)}")
    return rows


def version(seed: Path) -> str:
    """Names the weights by what made them: the seed file's bytes and the settings."""
    digest = hashlib.sha256(seed.read_bytes())
    digest.update(json.dumps({**SETTINGS, "embedder": EMBEDDER}, sort_keys=True).encode())
    return f"v1-{digest.hexdigest()[:10]}"


def train(seed: Path, out: Path, cache: Path) -> None:
    rows = read_seed(seed)
    labels = np.array([TOPICS.index(row["topic"]) for row in rows])
    texts = [f"{row['title']}\n{row['lead']}" for row in rows]
    embedder = load_embedder(EMBEDDER, cache)
    vectors = embedder.embed([embedding_text(row["title"], row["lead"]) for row in rows])

    by_vector = LogisticRegression(C=SETTINGS["vector_c"], max_iter=5000).fit(vectors, labels)
    tfidf = TfidfVectorizer(analyzer=terms, sublinear_tf=True, dtype=np.float64)
    counts = tfidf.fit_transform([article_text(text) for text in texts])
    by_words = LogisticRegression(C=SETTINGS["lexical_c"], max_iter=5000).fit(counts, labels)

    vocabulary = sorted(tfidf.vocabulary_, key=tfidf.vocabulary_.__getitem__)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        version=np.array(version(seed)),
        embedder_model=np.array(embedder.name.split("/", 1)[0]),
        topics=np.array(TOPICS),
        vector_coef=by_vector.coef_.astype(np.float32),
        vector_intercept=by_vector.intercept_.astype(np.float32),
        vocabulary=np.array(vocabulary),
        idf=tfidf.idf_.astype(np.float32),
        lexical_coef=by_words.coef_.astype(np.float32),
        lexical_intercept=by_words.intercept_.astype(np.float32),
        lexical_weight=np.array(SETTINGS["lexical_weight"]),
        vector_c=np.array(SETTINGS["vector_c"]),
        lexical_c=np.array(SETTINGS["lexical_c"]),
    )

    # The run-time code must compute what scikit-learn computed, or the weights mean something else there.
    weight = SETTINGS["lexical_weight"]
    expected = np.exp(
        (1 - weight) * by_vector.predict_log_proba(vectors) + weight * by_words.predict_log_proba(counts)
    )
    expected /= expected.sum(axis=1, keepdims=True)
    shipped = load_topic_classifier(embedder.name, out).probabilities(vectors, texts)
    gap = float(np.abs(shipped - expected).max())
    if gap > 1e-4:
        raise SystemExit(f"run-time probabilities differ from scikit-learn's by {gap:.2e}")
    accuracy = float((shipped.argmax(axis=1) == labels).mean())
    print(f"{out}: {len(rows)} seed articles, {len(vocabulary)} terms, training accuracy {accuracy:.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=Path, default=SEED_PATH)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the ONNX model is cached")
    args = parser.parse_args(argv)
    train(args.seed, args.out, args.cache)


if __name__ == "__main__":
    main(sys.argv[1:])
