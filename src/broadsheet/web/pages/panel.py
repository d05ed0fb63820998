"""The article page's AI panel: which key points, summary sentences and entities it shows, and the article
body with an anchor at each sentence they cite.

Only what can be traced is shown: a point or summary sentence whose source sentence has no anchor in the body
(not found in it) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from broadsheet.enrich import split_sentences
from broadsheet.models import AIView, Article, Cited, EntityRef, Point
from broadsheet.web.citations import mark_sentences, paragraphs_html

__all__ = ["Panel", "build_panel"]

ENTITY_TYPES = (
    ("person", "People"),
    ("organisation", "Organisations"),
    ("place", "Places"),
    ("other", "Other"),
)
MAX_ENTITIES = 12
MAX_ANCHORS = 400  # sentences of a body given anchors: more is a very long page, whose later ones go without


@dataclass(frozen=True, slots=True)
class Panel:
    body: Markup  # the article body, with an anchor at every cited sentence
    key_points: tuple[Point, ...]
    summary: tuple[Cited, ...]
    written: tuple[Point, ...]  # the summary as the optional LLM wrote it; shown instead of `summary`
    written_by: str
    numbers: dict[int, int]  # sentence index -> the citation number shown, in text order
    entities: tuple[tuple[str, tuple[EntityRef, ...]], ...]  # (heading, entities of that type)
    tags: tuple[str, ...]

    @property
    def shown(self) -> bool:
        return bool(self.key_points or self.summary or self.written or self.entities)


def build_panel(article: Article, ai: AIView, *, written: bool = False) -> Panel:
    """Every sentence of the body gets its anchor (`#s-N`), so a citation from anywhere (this panel, a story
    brief, an answer) lands on its sentence; the panel keeps what found its anchor. With `written` (the
    optional LLM is on for summaries), the written summary replaces the extracted one when it has one."""
    cited = {s.index: s.text for s in split_sentences(article.text)[:MAX_ANCHORS]}
    cited.update((c.sentence, c.text) for p in ai.key_points for c in p.citations)
    cited.update((c.sentence, c.text) for c in ai.summary)
    claims = ai.written if written else ()
    cited.update((c.sentence, c.text) for p in claims for c in p.citations)
    body, placed = mark_sentences(article.html or paragraphs_html(article.text), cited)
    points = tuple(p for p in ai.key_points if all(c.sentence in placed for c in p.citations))
    claims = tuple(p for p in claims if all(c.sentence in placed for c in p.citations))
    summary = ai.summary if all(c.sentence in placed for c in ai.summary) and not claims else ()
    used = sorted(
        {c.sentence for p in (*points, *claims) for c in p.citations} | {c.sentence for c in summary}
    )
    entities = tuple(
        (heading, of_type)
        for type_, heading in ENTITY_TYPES
        if (of_type := tuple(e for e in ai.entities[:MAX_ENTITIES] if e.type == type_))
    )
    return Panel(
        body=body,
        key_points=points,
        summary=summary,
        written=claims,
        written_by=ai.written_by if claims else "",
        numbers={sentence: n for n, sentence in enumerate(used, start=1)},
        entities=entities,
        tags=ai.tags or article.tags,
    )
