"""Enrichment quality and speed on real news: key points (ROUGE against reference summaries), citations,
language detection, and articles per second for the whole per-article enrichment.

Reads ../shared/data (ai-dev/cnn_dailymail/dev.jsonl, ai-dev/bbc_news_summary/dev.jsonl.gz,
clustering-dev/og2021_dev.jsonl); prints "skipped" when they are absent. Needs `rouge-score` (bench only).

    .venv/bin/python bench/enrich.py [--data DIR] [--limit N] [--embed KIND|none] [--json OUT]

- Key points: `digest` on `split_sentences` of each article, the points joined by newlines, against the
  reference (CNN/DM highlights; BBC's gold extractive summary), ROUGE-1/2/L F1 with stemming, the mean over
  articles. Rows: ours with TF-IDF similarities (the default), ours with MiniLM sentence embeddings (`--embed`),
  LEAD-3 (the first three sentences; a dateline standing alone is joined to the sentence after it) and
  LexRank-3 (TF-IDF cosine graph at 0.1, PageRank with damping 0.85, top three in text order). The summary
  paragraph (`Digest.summary`, fewer sentences) is scored the same way for reference.
- Citations: the share of key points whose text is found at their sentence's span of the article, verbatim.
- Language: `detect_language(title, "")` on og2021_dev titles, accuracy overall and per language.
- Speed: language + sentences + key points per article, one article at a time, best of three passes; with
  `--embed` also with the sentence embeddings and with the article's title + lead embedding (`embedding_text`)
  that stories need. Peak RSS of the process.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from broadsheet.enrich.embed import DEFAULT_KIND, Embedder, embedding_text, load_embedder
from broadsheet.enrich.keypoints import Embed, digest
from broadsheet.enrich.language import detect_language
from broadsheet.enrich.sentences import Sentence, split_sentences

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
CNN = Path("ai-dev/cnn_dailymail/dev.jsonl")
BBC = Path("ai-dev/bbc_news_summary/dev.jsonl.gz")
OG2021 = Path("clustering-dev/og2021_dev.jsonl")
MEASURES = ("rouge1", "rouge2", "rougeL")

# What a method shows for an article: (the index of the cited sentence, the text shown for it).
Chooser = Callable[["Article", list[Sentence]], list[tuple[int, str]]]


@dataclass(frozen=True, slots=True)
class Article:
    title: str
    text: str
    reference: str


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def load_sets(data: Path, limit: int | None) -> dict[str, list[Article]]:
    cnn = [Article("", row["article"], row["reference"]) for row in read_jsonl(data / CNN)]
    bbc = [
        Article(
            row["title"],
            row["article"],
            row["reference"] if row["reference_sentence_idx"] else row["reference_raw"],
        )
        for row in read_jsonl(data / BBC)
    ]
    return {"CNN/DM": cnn[:limit], "BBC": bbc[:limit]}


# --- baselines ---------------------------------------------------------------------------------------------


def lead3(article: Article, sentences: list[Sentence]) -> list[tuple[int, str]]:
    """The first three sentences; a dateline standing alone ("(CNN)") goes with the sentence after it."""
    chosen: list[tuple[int, str]] = []
    full = 0
    for sentence in sentences:
        chosen.append((sentence.index, sentence.text))
        if len(sentence.text.split()) > 3 or sentence.index == len(sentences) - 1:
            full += 1
        if full == 3:
            break
    return chosen


def lexrank_order(texts: list[str], tokenize: Callable[[str], list[str]]) -> list[int]:
    """LexRank (Erkan & Radev 2004): TF-IDF cosine graph at threshold 0.1, PageRank with damping 0.85; the
    indices of `texts`, best first (bench/enrich_brief.py ranks a whole cluster's sentences with it too)."""
    if not texts:
        return []
    bags = [Counter(tokenize(text)) for text in texts]
    document_frequency = Counter(term for bag in bags for term in bag)
    vocabulary = {term: i for i, term in enumerate(document_frequency)}
    vectors = np.zeros((len(bags), max(len(vocabulary), 1)))
    for row, bag in enumerate(bags):
        for term, count in bag.items():
            vectors[row, vocabulary[term]] = count * math.log(len(bags) / document_frequency[term])
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    graph = (vectors @ vectors.T > 0.1).astype(np.float64)
    graph /= np.maximum(graph.sum(axis=1, keepdims=True), 1.0)
    n = len(bags)
    transition = 0.15 / n + 0.85 * graph
    rank = np.full(n, 1.0 / n)
    for _ in range(100):
        updated = transition.T @ rank
        if np.abs(updated - rank).sum() < 1e-9:
            break
        rank = updated
    return [int(i) for i in np.argsort(-rank, kind="stable")]


def lexrank3(
    article: Article, sentences: list[Sentence], tokenize: Callable[[str], list[str]]
) -> list[tuple[int, str]]:
    """LexRank's top three sentences, in text order."""
    best = lexrank_order([s.text for s in sentences], tokenize)[:3]
    return [(i, sentences[i].text) for i in sorted(best)]


def ours(embed: Embed | None) -> Chooser:
    def choose(article: Article, sentences: list[Sentence]) -> list[tuple[int, str]]:
        return [(point.sentence, point.text) for point in digest(article.title, sentences, embed).key_points]

    return choose


def our_summary(article: Article, sentences: list[Sentence]) -> list[tuple[int, str]]:
    return [(index, sentences[index].text) for index in digest(article.title, sentences).summary]


# --- measures ----------------------------------------------------------------------------------------------


def rouge_row(sets: dict[str, list[Article]], chooser: Chooser, scorer: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    cited = found = 0
    for name, articles in sets.items():
        totals = dict.fromkeys(MEASURES, 0.0)
        for article in articles:
            sentences = split_sentences(article.text)
            chosen = chooser(article, sentences)
            for index, shown in chosen:
                cited += 1
                span = sentences[index]
                found += article.text[span.start : span.end] == shown
            prediction = "\n".join(shown for _, shown in chosen)
            scores = scorer.score(article.reference, prediction)
            for measure in MEASURES:
                totals[measure] += scores[measure].fmeasure
        row[name] = {measure: total / max(len(articles), 1) for measure, total in totals.items()}
    row["citations"] = found / cited if cited else 1.0
    return row


def language_figures(path: Path) -> dict[str, Any]:
    rows = list(read_jsonl(path))
    detect_language("warm up the model", "")
    started = time.perf_counter()
    guesses = [detect_language(row["title"], "") for row in rows]
    seconds = time.perf_counter() - started
    per_language: dict[str, list[int]] = {}
    for row, guess in zip(rows, guesses, strict=True):
        tally = per_language.setdefault(row["lang"], [0, 0])
        tally[0] += guess == row["lang"]
        tally[1] += 1
    return {
        "titles": len(rows),
        "accuracy": sum(right for right, _ in per_language.values()) / len(rows),
        "unsure": sum(guess == "" for guess in guesses),
        "per_language": {code: right / total for code, (right, total) in sorted(per_language.items())},
        "titles_per_second": len(rows) / seconds,
    }


def speed(articles: list[Article], sentence_embed: Embed | None, article_embedder: Embedder | None) -> float:
    """Articles per second for language + sentences + key points (on `sentence_embed`'s vectors when given),
    plus the article's title + lead vector when `article_embedder` is given; best of three passes."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        for article in articles:
            detect_language(article.title, article.text)
            digest(article.title, split_sentences(article.text), sentence_embed)
            if article_embedder is not None:
                article_embedder.embed([embedding_text(article.title, article.text)])
        best = min(best, time.perf_counter() - started)
    return len(articles) / best


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- report ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="articles per summary set (default: all)")
    parser.add_argument("--embed", default=DEFAULT_KIND, help="embedder kind for the MiniLM rows, or 'none'")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    missing = [str(args.data / path) for path in (CNN, BBC, OG2021) if not (args.data / path).exists()]
    if missing:
        print(f"skipped: data not found: {', '.join(missing)}")
        return 0
    try:
        from rouge_score import rouge_scorer, tokenizers  # type: ignore[import-untyped]
    except ImportError:
        print("skipped: rouge-score is not installed (.venv/bin/pip install rouge-score)")
        return 0

    scorer = rouge_scorer.RougeScorer(list(MEASURES), use_stemmer=True)
    tokenize = tokenizers.DefaultTokenizer(use_stemmer=True).tokenize
    sets = load_sets(args.data, args.limit)
    embedder = None if args.embed == "none" else load_embedder(args.embed, args.cache)
    choosers: dict[str, Chooser] = {"ours (TF-IDF)": ours(None)}
    if embedder is not None:
        choosers[f"ours ({args.embed} sentences)"] = ours(embedder.embed)
    choosers["ours, summary paragraph"] = our_summary
    choosers["LEAD-3"] = lead3
    choosers["LexRank-3"] = lambda article, sentences: lexrank3(article, sentences, tokenize)
    figures: dict[str, Any] = {"key_points": {}}

    counts = ", ".join(f"{name} {len(articles)}" for name, articles in sets.items())
    print(f"key points, ROUGE-1/2/L F1 (rouge-score, stemming) against the references; articles: {counts}")
    print(f"{'':28}" + "".join(f"{name:>22}" for name in sets) + f"{'citations found':>18}")
    for label, chooser in choosers.items():
        row = rouge_row(sets, chooser, scorer)
        figures["key_points"][label] = row
        cells = "".join(f"{'/'.join(f'{row[name][m]:.3f}' for m in MEASURES):>22}" for name in sets)
        print(f"{label:28}{cells}{100 * row['citations']:>17.1f}%")

    language = language_figures(args.data / OG2021)
    figures["language"] = language
    per_language = ", ".join(f"{code} {share:.3f}" for code, share in language["per_language"].items())
    print(
        f"\nlanguage, og2021_dev titles: accuracy {language['accuracy']:.4f} on {language['titles']} "
        f"({language['unsure']} unsure), {language['titles_per_second']:.0f} titles/s\n  {per_language}"
    )

    articles = [article for articles in sets.values() for article in articles]
    rates = {"language + sentences + key points (TF-IDF)": speed(articles, None, None)}
    if embedder is not None:
        rates[f"  the same + title/lead vector ({args.embed})"] = speed(articles, None, embedder)
        rates[f"  the same, key points on {args.embed} sentence vectors"] = speed(
            articles[:200], embedder.embed, None
        )
    figures["speed"] = rates
    print(f"\nspeed, one article at a time, {len(articles)} articles:")
    for label, rate in rates.items():
        print(f"  {label}: {rate:.1f} articles/s")
    figures["peak_rss_mib"] = peak_rss_mib()
    print(f"peak RSS {figures['peak_rss_mib']:.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
