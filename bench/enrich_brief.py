"""Story briefs and "ask about this story" on real multi-outlet news: ROUGE of the brief against Multi-News
reference summaries, beside two baselines; how well `found` separates answerable questions; and timings.

Reads ../shared/data/ai-dev/multinews/dev.jsonl.gz (Multi-News preprocessed text: lower-cased, tokenised
punctuation) and ai-dev/multinews_cased_longbench/dev.jsonl (the same task, original casing, 13 clusters);
prints "skipped" when they are absent. Needs `rouge-score` (bench only).

    .venv/bin/python bench/enrich_brief.py [--data DIR] [--limit N] [--embed KIND] [--json OUT]

- Brief: `story_brief` over each cluster, every document its own outlet; the agreed points, then each
  outlet's own points taken in turn, cut to 250 words; ROUGE-1/2/L F1 with stemming against the reference,
  the mean over clusters. Baselines cut to 250 words the same way: the lead sentences of the documents taken in
  turn (first of each, then second of each, ...), and LexRank (TF-IDF cosine graph at 0.1, PageRank with
  damping 0.85) over all the cluster's sentences, best first.
- Ask: questions made from each reference sentence (its content words) put to their own cluster (should be
  found) and to the next cluster (should not), plus invented questions on invented stories; precision and
  recall of `found` at the default threshold and across thresholds.
- Speed: a brief of a 10-article story (sentences embedded, then chosen), and an answer on stored float16
  sentence vectors (question embedded, retrieved, re-ranked); median of repeated runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from broadsheet.enrich.ask import ANSWER_THRESHOLD, answer_kind, answer_question, can_answer, rank_passages
from broadsheet.enrich.brief import Brief, StorySource, embed_sentences, story_brief
from broadsheet.enrich.embed import DEFAULT_KIND, load_embedder
from broadsheet.enrich.keypoints import Embed
from broadsheet.enrich.sentences import split_sentences

sys.path.insert(0, str(Path(__file__).resolve().parent))
from enrich import lexrank_order

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
LOWER = Path("ai-dev/multinews/dev.jsonl.gz")
CASED = Path("ai-dev/multinews_cased_longbench/dev.jsonl")
MEASURES = ("rouge1", "rouge2", "rougeL")
WORDS = 250

Vectors = list[NDArray[np.float16]]


@dataclass(frozen=True, slots=True)
class Cluster:
    sources: list[StorySource]
    reference: str


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def load(path: Path, limit: int | None) -> list[Cluster]:
    clusters = []
    for row in read_jsonl(path):
        documents = [text for text in row["articles"] if text.strip()]
        sources = [
            StorySource(i, f"document {i + 1}", None, split_sentences(text), "")
            for i, text in enumerate(documents)
        ]
        clusters.append(Cluster(sources, row["reference"]))
    return clusters[:limit]


def cut(texts: Iterable[str], words: int = WORDS) -> str:
    kept: list[str] = []
    for text in texts:
        kept.extend(text.split())
        if len(kept) >= words:
            break
    return " ".join(kept[:words])


# --- what is scored ----------------------------------------------------------------------------------------


def brief_texts(brief: Brief) -> list[str]:
    """The brief as a page shows it: the agreed points, then each outlet's own points, outlet by outlet."""
    return [point.text for point in brief.agreed] + [p.text for points in brief.only.values() for p in points]


def lead_in_turn(cluster: Cluster) -> list[str]:
    """First sentence of each document, then the second of each, and so on."""
    texts: list[str] = []
    for depth in range(max(len(source.sentences) for source in cluster.sources)):
        texts.extend(s.sentences[depth].text for s in cluster.sources if depth < len(s.sentences))
    return texts


def lexrank(cluster: Cluster, tokenize: Callable[[str], list[str]]) -> list[str]:
    """LexRank over all the cluster's sentences (bench/enrich.py's), best first."""
    sentences = [sentence.text for source in cluster.sources for sentence in source.sentences]
    return [sentences[i] for i in lexrank_order(sentences, tokenize)]


def rouge(clusters: list[Cluster], summaries: list[list[str]], scorer: Any) -> dict[str, float]:
    totals = dict.fromkeys(MEASURES, 0.0)
    for cluster, texts in zip(clusters, summaries, strict=True):
        scores = scorer.score(cluster.reference, cut(texts))
        for measure in MEASURES:
            totals[measure] += scores[measure].fmeasure
    return {measure: total / max(len(clusters), 1) for measure, total in totals.items()}


def vectors_of(clusters: list[Cluster], embed: Embed) -> list[Vectors]:
    return [[embed_sentences(source.sentences, embed) for source in c.sources] for c in clusters]


def briefs_of(clusters: list[Cluster], vectors: list[Vectors], embed: Embed, **options: Any) -> list[Brief]:
    return [
        story_brief(cluster.sources, embed, sentence_vectors=rows, **options)
        for cluster, rows in zip(clusters, vectors, strict=True)
    ]


# --- ask ---------------------------------------------------------------------------------------------------

# Invented stories and questions (no publisher's text): questions each story answers, and questions it does not.
INVENTED: list[tuple[list[str], list[str], list[str]]] = [
    (
        [
            "The council of Brennick approved a new tram line on Monday. The line will run 14 kilometres from the "
            "harbour to the university. Construction is due to start next spring and cost 310 million euros.",
            "Brennick's council voted 23 to 8 for the tram plan. Shop owners on Mill Street fear two years of "
            "roadworks. The mayor said the trams would carry 40,000 passengers a day.",
            "A new tram will link the harbour and the university in Brennick. The regional government pays half of "
            "the cost. Critics argue that electric buses would have been cheaper.",
        ],
        [
            "How much will the tram line cost?",
            "How long is the new line?",
            "How did the council vote?",
            "Who pays for the tram?",
            "How many passengers will the trams carry?",
            "When does construction start?",
        ],
        [
            "Who won the football match on Saturday?",
            "What is the weather forecast for the weekend?",
            "How many people died in the earthquake?",
            "What did the central bank do with interest rates?",
            "Which film won the prize at the festival?",
            "Is the new phone waterproof?",
        ],
    ),
    (
        [
            "A fire destroyed a textile warehouse in the port of Kessa overnight. Firefighters fought the blaze for "
            "nine hours. Nobody was injured, the fire brigade said.",
            "The Kessa warehouse fire started in a loading bay, investigators believe. Smoke forced the closure of "
            "the coastal motorway until noon. The owner estimates the damage at 12 million crowns.",
            "Police in Kessa have opened an inquiry into the cause of the warehouse fire. Residents were told to keep "
            "their windows shut because of the smoke.",
        ],
        [
            "Was anyone hurt in the fire?",
            "Where did the fire start?",
            "How long did firefighters fight the fire?",
            "Which road was closed?",
            "How much damage did the fire cause?",
            "Are the police investigating?",
        ],
        [
            "What did the prime minister say about taxes?",
            "How much does the new tram cost?",
            "Who is the new coach of the national team?",
            "When will the vaccine be available?",
            "What are the opening hours of the museum?",
            "Did the company's shares rise?",
        ],
    ),
]


# Questions on the same invented stories, about the same event, that their sentences do not answer (the
# ticket price, the architect, the date of the first tram...): harder than another story's questions.
ON_TOPIC_UNANSWERED: list[list[str]] = [
    [
        "How much will a single tram ticket cost?",
        "Who designed the trams?",
        "When will the first trams run?",
        "How many stops will the line have?",
        "Which company will build the line?",
        "How fast will the trams go?",
        "What did the opposition leader say about the vote?",
        "When was the tram plan first proposed?",
    ],
    [
        "How many firefighters fought the blaze?",
        "Who owns the warehouse?",
        "When will the motorway reopen for good?",
        "How many workers lose their jobs?",
        "What was stored in the warehouse?",
        "Was the warehouse insured?",
        "When was the warehouse built?",
        "How old is the warehouse?",
    ],
]


def invented_stories() -> list[tuple[list[StorySource], list[str], list[str]]]:
    stories = []
    for texts, answered, unanswered in INVENTED:
        sources = [
            StorySource(i, f"outlet {i + 1}", None, split_sentences(text), "") for i, text in enumerate(texts)
        ]
        stories.append((sources, answered, unanswered))
    return stories


def reference_questions(cluster: Cluster, count: int = 3, words: int = 14) -> list[str]:
    """Claims from the reference summary, cut to `words` words: what a reader might type about the story."""
    sentences = [s.text for s in split_sentences(cluster.reference) if len(s.text.split()) >= 6]
    return [" ".join(text.split()[:words]).rstrip(",.;:") for text in sentences[:count]]


def top_scores(embed: Embed, questions: list[tuple[str, list[StorySource], Vectors]]) -> list[float]:
    """The best passage score for each (question, story) pair: what `found` is decided on."""
    scores = []
    vectors = embed([question for question, _, _ in questions])
    for vector, (question, sources, rows) in zip(vectors, questions, strict=True):
        kind = answer_kind(question)
        ranked = [
            p for p in rank_passages(question, vector, sources, rows)
            if can_answer(kind, sources[p.source].sentences[p.sentence].text)
        ]  # fmt: skip
        scores.append(ranked[0].score if ranked else 0.0)
    return scores


def separation(relevant: list[float], unrelated: list[float], threshold: float) -> dict[str, float]:
    found_right = sum(score >= threshold for score in relevant)
    found_wrong = sum(score >= threshold for score in unrelated)
    missed = len(relevant) - found_right
    refused = len(unrelated) - found_wrong
    return {
        "threshold": threshold,
        "found_precision": found_right / max(found_right + found_wrong, 1),
        "found_recall": found_right / max(len(relevant), 1),
        "not_found_precision": refused / max(refused + missed, 1),
        "not_found_recall": refused / max(len(unrelated), 1),
    }


def ask_figures(clusters: list[Cluster], vectors: list[Vectors], embed: Embed) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    sets: dict[
        str, tuple[list[tuple[str, list[StorySource], Vectors]], list[tuple[str, list[StorySource], Vectors]]]
    ] = {}
    relevant, unrelated = [], []
    for sources, answered, unanswered in invented_stories():
        rows = [embed_sentences(source.sentences, embed) for source in sources]
        relevant += [(question, sources, rows) for question in answered]
        unrelated += [(question, sources, rows) for question in unanswered]
    sets["invented"] = (relevant, unrelated)
    on_topic = []
    for (sources, _answered, _unanswered), questions in zip(
        invented_stories(), ON_TOPIC_UNANSWERED, strict=True
    ):
        rows = [embed_sentences(source.sentences, embed) for source in sources]
        on_topic += [(question, sources, rows) for question in questions]
    sets["invented, unanswered on the same story"] = (relevant, on_topic)
    relevant, unrelated = [], []
    for i, cluster in enumerate(clusters):
        other = (i + 1) % len(clusters)
        for question in reference_questions(cluster):
            relevant.append((question, cluster.sources, vectors[i]))
            unrelated.append((question, clusters[other].sources, vectors[other]))
    sets["Multi-News reference claims"] = (relevant, unrelated)
    for name, (good, bad) in sets.items():
        good_scores, bad_scores = top_scores(embed, good), top_scores(embed, bad)
        figures[name] = {
            "questions": [len(good), len(bad)],
            "at_default": separation(good_scores, bad_scores, ANSWER_THRESHOLD),
            "sweep": [separation(good_scores, bad_scores, t / 100) for t in range(40, 101, 5)],
        }
    return figures


# --- speed -------------------------------------------------------------------------------------------------


def ten_article_story(clusters: list[Cluster]) -> list[StorySource]:
    """The ten longest articles of the set, as one story of ten outlets: the cost is what is measured here."""
    texts = sorted(
        (" ".join(s.text for s in source.sentences) for c in clusters for source in c.sources), key=len
    )[-10:]
    return [StorySource(i, f"outlet {i}", None, split_sentences(text), "") for i, text in enumerate(texts)]


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def speed_figures(clusters: list[Cluster], embed: Embed) -> dict[str, float]:
    story = ten_article_story(clusters)
    stored = [embed_sentences(source.sentences, embed) for source in story]
    questions = [q for c in clusters[:20] for q in reference_questions(c, 1)]
    return {
        "sentences": sum(len(source.sentences) for source in story),
        "brief_with_embedding_s": median_seconds(
            lambda: story_brief(
                story, embed, sentence_vectors=[embed_sentences(s.sentences, embed) for s in story]
            ),
            5,
        ),
        "brief_on_stored_vectors_s": median_seconds(
            lambda: story_brief(story, embed, sentence_vectors=stored), 5
        ),
        "ask_ms": 1000
        * statistics.median(
            median_seconds(partial(answer_question, q, story, stored, embed), 3) for q in questions
        ),
    }


# --- report ------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=None, help="clusters per set (default: all)")
    parser.add_argument("--embed", default=DEFAULT_KIND, help="embedder kind")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    missing = [str(args.data / path) for path in (LOWER, CASED) if not (args.data / path).exists()]
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
    embed = load_embedder(args.embed, args.cache).embed
    sets = {
        "Multi-News (lower-cased)": load(args.data / LOWER, args.limit),
        "Multi-News cased (LongBench)": load(args.data / CASED, args.limit),
    }
    vectors = {name: vectors_of(clusters, embed) for name, clusters in sets.items()}
    figures: dict[str, Any] = {"rouge": {}}
    counts = ", ".join(f"{name} {len(clusters)}" for name, clusters in sets.items())
    print(f"story brief, ROUGE-1/2/L F1 (rouge-score, stemming), {WORDS} words; clusters: {counts}")
    print(f"{'':34}" + "".join(f"{name:>32}" for name in sets))
    rows: dict[str, Callable[[str, list[Cluster]], list[list[str]]]] = {
        "brief (agreed, then each outlet's)": lambda name, clusters: [
            brief_texts(brief)
            for brief in briefs_of(
                clusters, vectors[name], embed, max_agreed=50, max_only=50, max_words=WORDS
            )
        ],
        "lead sentences in turn": lambda name, clusters: [lead_in_turn(c) for c in clusters],
        "LexRank": lambda name, clusters: [lexrank(c, tokenize) for c in clusters],
    }
    for label, summarise in rows.items():
        scores = {name: rouge(clusters, summarise(name, clusters), scorer) for name, clusters in sets.items()}
        figures["rouge"][label] = scores
        cells = "".join(f"{'/'.join(f'{s[m]:.3f}' for m in MEASURES):>32}" for s in scores.values())
        print(f"{label:34}{cells}")

    lower = next(iter(sets))
    default = briefs_of(sets[lower], vectors[lower], embed)
    figures["default_brief"] = {
        "agreed_points": statistics.mean(len(b.agreed) for b in default),
        "only_points": statistics.mean(sum(map(len, b.only.values())) for b in default),
        "words": statistics.mean(len(" ".join(brief_texts(b)).split()) for b in default),
    }
    print(
        "default brief (max_agreed=6, max_only=3) on {}: {agreed_points:.1f} agreed points, {only_points:.1f} "
        "outlet-only points, {words:.0f} words on average".format(lower, **figures["default_brief"])
    )

    figures["ask"] = ask_figures(sets[lower], vectors[lower], embed)
    for name, ask in figures["ask"].items():
        at = ask["at_default"]
        print(
            f"\nask, {name}: {ask['questions'][0]} answerable, {ask['questions'][1]} put to the wrong story; "
            f"threshold {at['threshold']:.2f}: found precision {at['found_precision']:.3f} recall "
            f"{at['found_recall']:.3f}, not-found precision {at['not_found_precision']:.3f} recall "
            f"{at['not_found_recall']:.3f}"
        )
        sweep = "  ".join(
            f"{s['threshold']:.2f}: {s['found_precision']:.2f}/{s['found_recall']:.2f}" for s in ask["sweep"]
        )
        print(f"  threshold: found precision/recall  {sweep}")

    figures["speed"] = speed_figures(sets[lower], embed)
    speed = figures["speed"]
    print(
        f"\nspeed, a 10-article story ({speed['sentences']:.0f} sentences), 2 cores: brief with sentence "
        f"embedding {speed['brief_with_embedding_s']:.2f} s, on stored vectors "
        f"{speed['brief_on_stored_vectors_s'] * 1000:.0f} ms; ask on stored float16 vectors "
        f"{speed['ask_ms']:.0f} ms (median)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
