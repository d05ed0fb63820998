"""Story clustering quality and speed: broadsheet's clusterer next to the plain baseline, on real labelled news.

Reads ../shared/data/clustering-dev (ecbplus_dev.jsonl: 462 full-text articles, two events of one kind per
topic, no dates; uci_news_6k.jsonl: 6 366 headlines from 10-12 March 2014 in 87 Google News stories;
og2021_dev.jsonl: 5 874 real headlines in 9 languages, 688 stories, times without a zone, read as UTC).
"FILE:undated" streams a file with its times removed and its order shuffled (seed 0): UCI's stories each
arrive as one burst of seconds, so its times alone give them away; settings are chosen on UCI undated.
Articles carry their language and, unless --no-multilingual, a multilingual E5 vector, as the product does
(stories across languages); cross-language recall is printed for files in several languages.

    .venv/bin/python bench/clustering.py [--data DIR] [--files F ...] [--embedder KIND] [--cache DIR]
        [--set NAME=VALUE ...] [--baseline] [--synthetic N] [--tail N] [--json OUT]

Each file is streamed in publish order (ties by id; articles without a date share one), embedded from title
+ lead (`embedding_text`) by the embedder KIND (default the ONNX int8 MiniLM; vectors cached under
--cache/vectors), and scored against its gold stories with B-cubed and pairwise precision/recall/F1.
- articles/s: the clusterer alone (text features and embeddings precomputed); text features and embedding
  are timed apart.
- baseline: MiniLM on title + lead, online centroid assignment at one cosine threshold, 3-day window (the
  figures in NOTES.md came from it with thresholds 0.6 for ECB+ and 0.4 for UCI).
- --synthetic N: speed with N articles already clustered, on invented streams over simulated days: "stories"
  (vectors scattered around story centres, story-shaped words and names) and "random" (unrelated random unit
  vectors: every article a story of its own, the most open stories a window can hold); the rate is measured on
  the --tail articles that follow.
- --set threshold=0.25 (any ClusterConfig field; durations in hours) runs another configuration.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import numpy as np
from numpy.typing import NDArray

from broadsheet.cluster import (
    ArticleFeatures,
    ClusterConfig,
    ClusterItem,
    Score,
    StoryClusterer,
    article_features,
    b_cubed,
    cluster_stream,
    pairwise,
)
from broadsheet.enrich import reference_mean
from broadsheet.enrich.embed import DEFAULT_KIND, E5_KIND, KINDS, MAX_TOKENS, embedding_text, load_embedder
from broadsheet.pipeline.stories import MULTILINGUAL_TOKENS, multilingual_text
from broadsheet.store.stories import TEXT_CHARS

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "clustering-dev"
DEFAULT_CACHE = REPO_ROOT / ".cache" / "models"
DATASETS = ("og2021_dev.jsonl", "uci_news_6k.jsonl:undated", "uci_news_6k.jsonl", "ecbplus_dev.jsonl")
SHARED_DATE = datetime(2000, 1, 1, tzinfo=UTC)  # for articles without a date (ECB+)
BASELINE_THRESHOLDS = {"ecbplus_dev.jsonl": 0.6, "uci_news_6k.jsonl": 0.4, "og2021_dev.jsonl": 0.7}

Vectors = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Article:
    key: str
    title: str
    text: str
    published: datetime
    outlet: str
    story: str
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Quality:
    b_cubed: Score
    pairwise: Score
    stories: int
    cross_recall: float | None = None

    def row(self, label: str) -> str:
        b, p = self.b_cubed, self.pairwise
        cross = "" if self.cross_recall is None else f" | cross-language recall {self.cross_recall:.3f}"
        return (
            f"  {label:<28} B3 P {b.precision:.3f} R {b.recall:.3f} F1 {b.f1:.3f} | "
            f"pairwise P {p.precision:.3f} R {p.recall:.3f} F1 {p.f1:.3f} | {self.stories} stories{cross}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "b_cubed": {**asdict(self.b_cubed), "f1": self.b_cubed.f1},
            "pairwise": {**asdict(self.pairwise), "f1": self.pairwise.f1},
            "stories": self.stories,
            "cross_recall": self.cross_recall,
        }


# --- data ----------------------------------------------------------------------------------------------------


def load_articles(path: Path) -> list[Article]:
    """The file's articles in stream order: publish time, then id. A time without a zone is UTC; a path
    ending ":undated" gives the file's articles without times, shuffled (seed 0)."""
    file, _, variant = str(path).partition(":")
    if variant:
        whole = load_articles(Path(file))
        order = np.random.default_rng(0).permutation(len(whole)).tolist()
        return [replace(whole[k], published=SHARED_DATE) for k in order]
    articles = []
    for line in Path(file).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        published = row.get("published") or ""
        when = datetime.fromisoformat(published.replace("Z", "+00:00")) if published else SHARED_DATE
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        article = Article(
            row["id"],
            row["title"],
            row["text"],
            when,
            row.get("outlet", ""),
            row["story"],
            row.get("lang") or "en",
        )
        articles.append(article)
    return sorted(articles, key=lambda a: (a.published, a.key))


def embed_articles(articles: Sequence[Article], kind: str, cache: Path) -> tuple[Vectors, float]:
    """Title + lead vectors, from the vector cache when this kind already embedded these very texts (in any
    order: an undated file's shuffled articles reuse its vectors)."""
    order = sorted(range(len(articles)), key=lambda i: articles[i].key)
    if order != list(range(len(articles))) and any(a.published == SHARED_DATE for a in articles):
        ranked, seconds = embed_articles([articles[i] for i in order], kind, cache)
        back = np.empty(len(order), dtype=np.int64)
        back[order] = np.arange(len(order))
        return ranked[back], seconds
    text = multilingual_text if kind == E5_KIND else embedding_text  # as the stories step embeds them
    texts = [text(a.title, a.text) for a in articles]
    tokens = MULTILINGUAL_TOKENS if kind == E5_KIND else MAX_TOKENS
    digest = hashlib.sha256("\n\0".join([kind, str(tokens), *texts]).encode()).hexdigest()[:16]
    cached = cache / "vectors" / f"{kind}-{digest}.npy"
    if cached.exists():
        return np.load(cached), 0.0
    embedder = load_embedder(kind, cache, max_tokens=tokens)
    started = time.perf_counter()
    vectors = embedder.embed(texts)
    seconds = time.perf_counter() - started
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.save(cached, vectors)
    return vectors, seconds


def extract_features(articles: Sequence[Article]) -> tuple[list[ArticleFeatures], float]:
    started = time.perf_counter()
    # As the stories step reads them: the first TEXT_CHARS characters of each text (store/stories.py).
    features = [article_features(a.title, a.text[:TEXT_CHARS]) for a in articles]
    return features, time.perf_counter() - started


def items_for(
    articles: Sequence[Article],
    vectors: Vectors,
    features: Sequence[ArticleFeatures],
    multilingual: Vectors | None = None,
) -> list[ClusterItem]:
    """Clusterer input; article ids are positions in stream order, so ties keep the file's id order."""
    return [
        ClusterItem(
            i,
            a.published,
            a.title,
            vectors[i],
            a.text,
            a.outlet,
            features=features[i],
            lang=a.lang,
            multilingual=None if multilingual is None else multilingual[i],
        )
        for i, a in enumerate(articles)
    ]


# --- scoring -------------------------------------------------------------------------------------------------


def quality(labels: Sequence[object], articles: Sequence[Article]) -> Quality:
    gold = [a.story for a in articles]
    return Quality(
        b_cubed(labels, gold), pairwise(labels, gold), len(set(labels)), cross_recall(labels, articles)
    )


def cross_recall(labels: Sequence[object], articles: Sequence[Article]) -> float | None:
    """The share of same-story pairs in different languages put in one story; None for a file in one language."""
    if len({a.lang for a in articles}) < 2:
        return None

    def cross_pairs(groups: dict[Any, Counter[str]]) -> float:
        return sum((sum(c.values()) ** 2 - sum(n * n for n in c.values())) / 2 for c in groups.values())

    by_gold: dict[Any, Counter[str]] = defaultdict(Counter)
    by_both: dict[Any, Counter[str]] = defaultdict(Counter)
    for label, a in zip(labels, articles, strict=True):
        by_gold[a.story][a.lang] += 1
        by_both[(label, a.story)][a.lang] += 1
    gold_pairs = cross_pairs(by_gold)
    return cross_pairs(by_both) / gold_pairs if gold_pairs else 1.0


@functools.cache
def language_origin(cache: Path = DEFAULT_CACHE) -> Vectors:
    """The multilingual encoder's reference mean, as the stories step takes it (enrich/origin.py)."""
    return reference_mean(load_embedder(E5_KIND, cache), cache)


def run_clusterer(
    items: Sequence[ClusterItem], config: ClusterConfig, cache: Path = DEFAULT_CACHE
) -> tuple[list[int], float, int, int]:
    """Final story of each article, clusterer seconds, merges, splits."""
    origin = language_origin(cache) if any(item.multilingual is not None for item in items) else None
    started = time.perf_counter()
    result = cluster_stream(items, config, language_origin=origin)
    seconds = time.perf_counter() - started
    return [result.labels[item.id] for item in items], seconds, result.merges, result.splits


def baseline(
    articles: Sequence[Article], vectors: Vectors, threshold: float, window_days: float = 3
) -> list[int]:
    """Online centroid assignment at one cosine threshold within a window of days since a story's last article."""
    sums: list[Vectors] = []
    centroids = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    last: list[float] = []
    labels = []
    for article, vector in zip(articles, vectors, strict=True):
        t = article.published.timestamp()
        cosines = centroids @ vector
        cosines[np.array(last) < t - window_days * 86400] = -np.inf
        best = int(np.argmax(cosines)) if len(cosines) else -1
        if best >= 0 and cosines[best] >= threshold:
            sums[best] = sums[best] + vector
            centroids[best] = sums[best] / np.linalg.norm(sums[best])
            last[best] = t
        else:
            best = len(sums)
            sums.append(vector.copy())
            centroids = np.vstack([centroids, vector[None, :]])
            last.append(t)
        labels.append(best)
    return labels


# --- synthetic streams ---------------------------------------------------------------------------------------


def synthetic_items(n: int, kind: str, per_day: int = 3000, seed: int = 7) -> Iterator[ClusterItem]:
    """`n` invented articles over n / per_day simulated days, in publish order, with precomputed features;
    made one at a time, so that memory measured around the clusterer is the clusterer's."""
    rng = np.random.default_rng(seed)
    dim, vocabulary = 384, 50_000
    start = datetime(2030, 1, 1, tzinfo=UTC)
    days = n / per_day
    if kind == "random":
        stories = np.arange(n)
        times = np.sort(rng.uniform(0, days * 86400, n))
        centres = None
    else:
        story_count = max(1, n // 5)
        stories = rng.integers(0, story_count, n)
        centres = rng.standard_normal((story_count, dim)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        begins = rng.uniform(0, days * 86400, story_count)
        times = begins[stories] + rng.exponential(6 * 3600, n)
    order = np.argsort(times, kind="stable")
    for rank, i in enumerate(order.tolist()):
        story = int(stories[i])
        noise = rng.standard_normal(dim).astype(np.float32)
        vector = noise if centres is None else centres[story] + noise / np.sqrt(dim)
        topic = np.random.default_rng(story).integers(0, vocabulary, 30)
        terms = np.concatenate([rng.choice(topic, 40), rng.integers(0, vocabulary, 60)])
        keys, counts = np.unique(terms, return_counts=True)
        names = {f"name{story}-{j}": 1 for j in range(3)} | {f"name{int(rng.integers(0, 9999))}": 1}
        features = ArticleFeatures(dict(zip(keys.tolist(), counts.tolist(), strict=True)), names, 200)
        published = start + timedelta(seconds=float(times[i]))
        yield ClusterItem(
            rank, published, "", vector / np.linalg.norm(vector), features=features, outlet=f"o{rank % 50}"
        )


def _rss_mb() -> float:
    """Resident memory now (Linux), or the peak where /proc is missing."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * resource.getpagesize() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_speed(n: int, tail: int, kind: str, config: ClusterConfig) -> dict[str, float]:
    items = synthetic_items(n + tail, kind)
    before = _rss_mb()
    clusterer = StoryClusterer(config)
    started = time.perf_counter()
    for count, item in enumerate(itertools.islice(items, n), start=1):
        clusterer.add(item)
        if count % 1000 == 0:
            clusterer.close_quiet()
    warm = time.perf_counter() - started
    rest = list(items)  # made before the clock starts
    started = time.perf_counter()
    for item in rest:
        clusterer.add(item)
    seconds = time.perf_counter() - started
    clusterer.close_quiet()
    open_ids = clusterer.open_ids()
    return {
        "clustered": n,
        "tail": tail,
        "tail_per_second": tail / seconds,
        "warmup_per_second": n / warm if warm else 0.0,
        "open_stories": len(open_ids),
        "open_articles": sum(clusterer.snapshot(s).article_count for s in open_ids),
        "clusterer_mb": _rss_mb() - before,
    }


# --- command line --------------------------------------------------------------------------------------------


def parse_settings(pairs: Sequence[str]) -> ClusterConfig:
    """ClusterConfig with NAME=VALUE overrides; durations (gap, half_life) in hours (half_life `none`: the gap)."""
    known = {f.name for f in fields(ClusterConfig)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known:
            raise SystemExit(f"unknown setting {name!r}: choose from {', '.join(sorted(known))}")
        if name in ("gap", "half_life", "headline_half_life"):
            changes[name] = None if value.lower() == "none" else timedelta(hours=float(value))
        elif name == "split_sizes":
            low, high = value.split(",")
            changes[name] = (int(low), int(high))
        elif name in ("min_body_words", "candidates", "split_min_part", "max_story_terms"):
            changes[name] = int(value)
        else:
            changes[name] = float(value)
    return replace(ClusterConfig(), **changes)


def bench_file(path: Path, args: argparse.Namespace, config: ClusterConfig) -> dict[str, Any]:
    articles = load_articles(path)
    vectors, embed_seconds = embed_articles(articles, args.embedder, args.cache)
    multilingual = None if args.no_multilingual else embed_articles(articles, E5_KIND, args.cache)[0]
    features, feature_seconds = extract_features(articles)
    items = items_for(articles, vectors, features, multilingual)
    labels, seconds, merges, splits = run_clusterer(items, config, args.cache)
    result = quality(labels, articles)
    dated = sum(a.published != SHARED_DATE for a in articles)
    print(
        f"{path.name}: {len(articles)} articles ({dated} dated), {len({a.story for a in articles})} gold stories"
    )
    print(result.row("broadsheet"))
    print(
        f"  {'':<28} {len(articles) / seconds:,.0f} articles/s clustering, {merges} merges, {splits} splits; "
        f"text features {len(articles) / feature_seconds:,.0f} articles/s; "
        + (
            f"embedding {len(articles) / embed_seconds:,.0f} articles/s"
            if embed_seconds
            else "embedding cached"
        )
    )
    report: dict[str, Any] = {
        "articles": len(articles),
        "broadsheet": result.as_dict(),
        "articles_per_second": len(articles) / seconds,
        "merges": merges,
        "splits": splits,
        "features_per_second": len(articles) / feature_seconds,
        "embeddings_per_second": len(articles) / embed_seconds if embed_seconds else None,
    }
    if args.baseline:
        threshold = BASELINE_THRESHOLDS.get(path.name, 0.5)
        base = quality(baseline(articles, vectors, threshold), articles)
        print(base.row(f"baseline (cosine {threshold})"))
        report["baseline"] = {"threshold": threshold, **base.as_dict()}
    return report


def through_import(
    path: Path, cache: Path, multilingual: bool = True, embedder: str = DEFAULT_KIND
) -> dict[str, Any]:
    """The whole product path: `broadsheet import` (dedupe, store, embed, cluster) into a fresh home, then
    `broadsheet export`, scored by each exported article's `story_id`. A row the import took for an article
    already stored (the same text at another address of the site) is found among that article's `urls`, in
    its story; one not found at all is scored as a story of its own.

    The import is timed whole (the process started, the models loaded), and without the time its stories
    step says it spent loading models: the rate the product's target (100 headlines/s) is set for."""
    articles = load_articles(path)
    with tempfile.TemporaryDirectory() as tmp:
        home, data = Path(tmp) / "home", Path(tmp) / "in.jsonl"
        with data.open("w", encoding="utf-8") as out:
            for a in articles:
                record = {"url": f"https://{_host(a.outlet)}/bench/{quote(a.key, safe='')}", "title": a.title,
                          "text": a.text, "published": a.published.isoformat(), "outlet": a.outlet or "unknown",
                          "lang": a.lang}  # fmt: skip
                out.write(json.dumps(record) + "\n")
        # Enrichment is off: its language detection would only repeat the labels passed in, and its other steps
        # (entities, key points) would swamp the stories step this measures (bench/enrich.py times them).
        env = {**os.environ, "BROADSHEET_MODELS_DIR": str(cache), "BROADSHEET_LOG_LEVEL": "WARNING",
               "BROADSHEET_ENRICH": "false", "BROADSHEET_EMBEDDING_MODEL": embedder,
               "BROADSHEET_STORIES_MULTILINGUAL": "false" if multilingual is False else "true"}  # fmt: skip
        command = [sys.executable, "-m", "broadsheet", "--home", str(home)]
        started = time.perf_counter()
        printed = subprocess.run(
            [*command, "import", str(data)], check=True, env=env, stdout=subprocess.PIPE, text=True
        ).stdout
        seconds = time.perf_counter() - started
        exported = subprocess.run(
            [*command, "export"], check=True, env=env, capture_output=True, text=True
        ).stdout
    story_of: dict[str, int] = {}
    for line in exported.splitlines():
        row = json.loads(line)
        # A row whose text another row of the same site already had is that article at another address (one
        # of its `urls`): it is in the article's story.
        for url in [row["url"], *row.get("urls", ())]:
            if "/bench/" in url:  # stored addresses are canonical: the key's quoted "/" may come back plain
                story_of[unquote(url.split("/bench/", 1)[1])] = row["story_id"]
    labels = [story_of.get(a.key, -1 - i) for i, a in enumerate(articles)]
    result = quality(labels, articles)
    print(result.row("broadsheet import + export"))
    loading = _load_seconds(printed)
    print(f"  whole import (store, embed, cluster): {len(articles) / seconds:,.0f} articles/s "
          f"({seconds:.1f} s), {len(articles) / (seconds - loading):,.0f} articles/s without loading the "
          f"models ({loading:.1f} s); {sum(1 for v in labels if v < 0)} articles not exported")  # fmt: skip
    return {
        **result.as_dict(),
        "import_articles_per_second": len(articles) / seconds,
        "import_articles_per_second_without_load": len(articles) / (seconds - loading),
        "import_seconds": seconds,
        "import_load_seconds": loading,
    }


def _load_seconds(printed: str) -> float:
    """The seconds `broadsheet import`'s stories step says it spent loading models (none said: 0)."""
    found = re.search(r"^stories: .*models loaded in ([0-9.]+) s", printed, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _host(outlet: str) -> str:
    name = "".join(c for c in outlet.lower() if c.isalnum())[:40] or "unknown"
    return f"{name}.example"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"data directory (default {DEFAULT_DATA})"
    )
    parser.add_argument(
        "--files", nargs="*", default=list(DATASETS), help="JSONL files in the data directory"
    )
    parser.add_argument("--embedder", choices=sorted(KINDS), default=DEFAULT_KIND)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="exported ONNX models and vectors")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a setting")
    parser.add_argument("--baseline", action="store_true", help="also score the plain centroid baseline")
    parser.add_argument(
        "--synthetic", type=int, default=0, metavar="N", help="speed with N already clustered"
    )
    parser.add_argument("--tail", type=int, default=5000, help="articles timed after the N (default 5000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--no-multilingual", action="store_true", help="English model only: no language-aware stories"
    )
    parser.add_argument(
        "--through-import",
        action="store_true",
        help="also run each file through `broadsheet import` + `export`",
    )
    args = parser.parse_args(argv)
    config = parse_settings(args.set)
    report: dict[str, Any] = {"config": {f.name: str(getattr(config, f.name)) for f in fields(config)}}

    data: Path = args.data.resolve()
    paths = [data / name for name in args.files]
    present = [p for p in paths if Path(str(p).partition(":")[0]).exists()]
    if not present:
        print(f"skipped: no clustering data at {data}")
    for path in present:
        report[path.name] = bench_file(path, args, config)
        if args.through_import:
            report[path.name]["through_import"] = through_import(
                path, args.cache, not args.no_multilingual, args.embedder
            )
    if args.synthetic:
        for kind in ("stories", "random"):
            figures = synthetic_speed(args.synthetic, args.tail, kind, config)
            print(
                f"synthetic {kind}: {args.synthetic:,} clustered, then {figures['tail_per_second']:,.0f} "
                f"articles/s over {args.tail:,} more ({figures['warmup_per_second']:,.0f}/s while filling); "
                f"{figures['open_stories']:,} stories / {figures['open_articles']:,} articles open; "
                f"memory grew by {figures['clusterer_mb']:,.0f} MB"
            )
            report[f"synthetic_{kind}"] = figures
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
