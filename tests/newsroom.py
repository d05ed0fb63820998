"""Invented publishers for tests: article pages and feeds about events that never happened.

Every outlet, person and place here is made up. `Story` renders as a publisher's page (with the usual
navigation, share buttons and related links around the text) and as a feed item.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

__all__ = ["Story", "article_page", "make_stories", "rss"]

_PLACES = [
    "Port Alder",
    "Veltra",
    "Marrowby",
    "Quillon",
    "Haskett Bay",
    "Orrin Vale",
    "Tamsworth",
    "Lindqvist",
]
_FIRST = ["Mara", "Tobin", "Ilse", "Corran", "Yeva", "Anselm"]
_TOPICS = [
    (
        "ferry terminal",
        "closes for repairs",
        "the pilings under the east ramp had rotted faster than expected",
    ),
    (
        "library",
        "reopens after flood",
        "volunteers dried more than four thousand books in the old drill hall",
    ),
    ("tram line", "extension approved", "the council voted seven to two after a long evening session"),
    (
        "orchard festival",
        "draws record crowds",
        "growers sold out of cider pears before noon on the first day",
    ),
    ("school board", "names new head", "the appointment ends a search that lasted almost a year"),
    ("harbour bridge", "fails inspection", "engineers found cracks in two of the cable anchors"),
    ("chess club", "wins national cup", "the youngest player on the team is eleven years old"),
    ("wind farm", "plan withdrawn", "the developer cited the cost of a new grid connection"),
]


@dataclass
class Story:
    slug: str
    title: str
    paragraphs: list[str]
    author: str
    published: datetime
    image: str = ""
    image_alt: str = ""
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def make_stories(count: int, *, seed: int = 0, start: datetime | None = None) -> list[Story]:
    """`count` distinct invented stories, newest last."""
    start = start or datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    stories = []
    for i in range(count):
        place = _PLACES[(i + seed) % len(_PLACES)]
        thing, event, detail = _TOPICS[(i * 3 + seed) % len(_TOPICS)]
        n = i + seed * 1000
        paragraphs = [
            f"The {thing} in {place} {event}, officials said on day {n} of the month-long review.",
            f"According to the town's records, {detail}, and the matter had been raised at {n % 7 + 2} "
            f"public meetings before the decision in item {n}.",
            f"Residents interviewed near the {thing} were divided: some welcomed the news, while others said "
            f"the town should have acted sooner and asked who would pay for case number {n}.",
            f"A spokesperson for the {place} council promised a full statement by the end of the week and said "
            f"a public consultation would open soon after, under reference {n * 17}.",
        ]
        stories.append(
            Story(
                slug=f"{place.lower().replace(' ', '-')}-{thing.replace(' ', '-')}-{n}",
                title=f"{place} {thing} {event} ({n})",
                paragraphs=paragraphs,
                author=f"{_FIRST[n % len(_FIRST)]} {chr(65 + n % 26)}. Quill",
                published=start + timedelta(hours=i),
                image=f"/images/{n}.jpg",
                image_alt=f"The {thing} in {place}",
                tags=[place, thing.title()],
            )
        )
    return stories


def article_page(story: Story, base: str, *, outlet: str = "The Alder Gazette") -> str:
    """A publisher's article page with boilerplate around the story, JSON-LD and OpenGraph metadata."""
    esc = html.escape
    body = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(story.title)} | {esc(outlet)}</title>
<link rel="canonical" href="{base}/news/{story.slug}">
<link rel="icon" href="/favicon.png">
<meta property="og:site_name" content="{esc(outlet)}">
<meta property="og:title" content="{esc(story.title)}">
<meta property="og:image" content="{base}{story.image}">
<meta property="article:published_time" content="{story.published.isoformat()}">
{"".join(f'<meta property="article:tag" content="{esc(t)}">' for t in story.tags)}
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"{esc(story.title)}","datePublished":"{story.published.isoformat()}",
"author":{{"@type":"Person","name":"{esc(story.author)}"}},
"publisher":{{"@type":"Organization","name":"{esc(outlet)}"}}}}</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/local">Local</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>{esc(story.title)}</h1>
<p class="byline">By {esc(story.author)}</p>
<figure><img src="{base}{story.image}" alt="{esc(story.image_alt)}"><figcaption>{esc(story.image_alt)}</figcaption></figure>
{body}
<div class="share">Share this article: <a href="https://social.invalid/share">Post</a></div>
</article>
<aside class="related"><h2>More from {esc(outlet)}</h2><ul><li><a href="/news/other">Other story</a></li></ul></aside>
</main><footer>Copyright {esc(outlet)}</footer></body></html>"""


def rss(
    stories: Sequence[Story], base: str, *, title: str = "The Alder Gazette", summaries: bool = True
) -> str:
    items = []
    for story in stories:
        summary = f"<description>{html.escape(story.paragraphs[0])}</description>" if summaries else ""
        items.append(
            f"<item><title>{html.escape(story.title)}</title><link>{base}/news/{story.slug}</link>"
            f"<guid>{base}/news/{story.slug}</guid><pubDate>{format_datetime(story.published)}</pubDate>"
            f"{summary}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>{base}/</link><description>Invented news</description>"
        f"{''.join(items)}</channel></rss>"
    )
