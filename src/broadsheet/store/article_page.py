"""Everything the article page shows, read in one connection with a handful of statements built once.

The article page is the page readers land on from anywhere, and most article pages are read too rarely to be in
any cache, so this read is the one the reader's latency rests on. Each statement is a primary-key lookup or a
short walk down an index that stops after a few rows, whatever the size of the archive or of the story; the
SQLAlchemy statements are built at import (building one costs more than SQLite takes to answer it) and run as
`Prepared` statements (on SQLite, straight on the driver's cursor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, literal, select, tuple_, union_all

from broadsheet.errors import NotFoundError
from broadsheet.models import AIView, Article, ArticleCard, StoryCard
from broadsheet.store.articles import article_from_row
from broadsheet.store.cards import CARD_COLUMNS, ORIGINALS, card, cards_by_id
from broadsheet.store.enrichments import ai_view
from broadsheet.store.prepared import Prepared
from broadsheet.store.related import related_cards
from broadsheet.store.schema import articles, stories
from broadsheet.store.stories import STORY_COLUMNS, related_rows, story_card

__all__ = ["ArticlePage", "read_article_page"]


@dataclass(frozen=True, slots=True)
class ArticlePage:
    article: Article
    card: ArticleCard
    previous: ArticleCard | None  # the next older article of the same outlet (copies left out)
    following: ArticleCard | None  # the next newer one
    original: ArticleCard | None  # what this article is a copy of
    copies: list[ArticleCard]  # its copies on other sites, oldest first
    story: StoryCard | None  # None until the article is clustered
    related: list[ArticleCard]
    ai: AIView  # what enrichment made of it: key points, summary, entities, tags


_TIME = articles.c.sort_time
_AT = tuple_(bindparam("t", type_=_TIME.type), bindparam("id"))
# The card's columns first (card() reads them by position), then the rest of the article.
_ARTICLE = Prepared(
    select(*CARD_COLUMNS, *(c for c in articles.c if c.key not in {k.key for k in CARD_COLUMNS})).where(
        articles.c.id == bindparam("id")
    )
)
_SAME_OUTLET = select(*CARD_COLUMNS).where(articles.c.outlet_slug == bindparam("outlet"), ORIGINALS)
_OLDER = (
    _SAME_OUTLET.where(tuple_(_TIME, articles.c.id) < _AT)
    .order_by(_TIME.desc(), articles.c.id.desc())
    .limit(1)
)
_NEWER = _SAME_OUTLET.where(tuple_(_TIME, articles.c.id) > _AT).order_by(_TIME, articles.c.id).limit(1)
_COPIES = (
    select(*CARD_COLUMNS).where(articles.c.duplicate_of == bindparam("id")).order_by(_TIME, articles.c.id)
)
# The three as one statement (a round trip through SQLAlchemy costs more than SQLite's work on each), each row
# labelled with the list it belongs to.
_AROUND = Prepared(
    union_all(
        *(
            select(query.add_columns(literal(kind).label("kind")).subquery())
            for kind, query in (("older", _OLDER), ("newer", _NEWER), ("copy", _COPIES))
        )
    )
)
_STORY = Prepared(select(*STORY_COLUMNS, stories.c.related).where(stories.c.id == bindparam("story")))

# The story's other articles, newest first, down its (story_id, sort_time, id) index: never the article, its
# original (`o`, the article itself when it is none) or a copy of either.
_COVERAGE = (
    select(*CARD_COLUMNS)
    .where(
        articles.c.story_id == bindparam("story"),
        articles.c.id != bindparam("a"),
        articles.c.id != bindparam("o"),
        articles.c.duplicate_of.is_distinct_from(bindparam("a")),
        articles.c.duplicate_of.is_distinct_from(bindparam("o")),
    )
    .order_by(_TIME.desc(), articles.c.id.desc())
    .limit(bindparam("n"))
)
_OTHER_OUTLETS = Prepared(_COVERAGE.where(articles.c.outlet_slug != bindparam("outlet")))
_OWN_OUTLET = Prepared(_COVERAGE.where(articles.c.outlet_slug == bindparam("outlet")))


def read_article_page(engine: Engine, article_id: int, now: datetime, related: int = 6) -> ArticlePage:
    """The article `article_id` with its neighbours, copies, story and up to `related` related articles (see
    `_related`). Raises NotFoundError when there is no such article."""
    with engine.connect() as conn:
        row = _ARTICLE.first(conn, {"id": article_id})
        if row is None:
            raise NotFoundError(f"no article with id {article_id}")
        article, own = article_from_row(row), card(row)
        at = {"outlet": own.outlet_slug, "t": own.sort_time, "id": article_id}
        around: dict[str, list[ArticleCard]] = {"older": [], "newer": [], "copy": []}
        for r in _AROUND.rows(conn, at):
            around[r.kind].append(card(r))
        original = None
        if article.duplicate_of is not None:
            original = cards_by_id(conn, [article.duplicate_of]).get(article.duplicate_of)
        story, related_cards_ = _related(conn, article, own, now, related)
        ai = ai_view(conn, article_id, article.text)
    return ArticlePage(
        article=article,
        card=own,
        previous=next(iter(around["older"]), None),
        following=next(iter(around["newer"]), None),
        original=original,
        copies=sorted(around["copy"], key=lambda c: (c.sort_time, c.id)),  # UNION ALL keeps no order
        story=story,
        related=related_cards_,
        ai=ai,
    )


def _related(
    conn: Connection, article: Article, own: ArticleCard, now: datetime, limit: int
) -> tuple[StoryCard | None, list[ArticleCard]]:
    """The article's story, and its related articles: the story's articles from other outlets first, then
    more from its own outlet, then the headline articles of the closest other stories. An article not yet in a
    story gets its full-text neighbours instead."""
    assert article.id is not None
    if article.story_id is None:
        return None, related_cards(conn, article.id, limit)
    row = _STORY.first(conn, {"story": article.story_id})
    if row is None:  # its story was dissolved by a recluster that has not finished yet
        return None, related_cards(conn, article.id, limit)
    params = {
        "story": row.id,
        "a": article.id,
        "o": article.duplicate_of or article.id,
        "outlet": own.outlet_slug,
        "n": limit,
    }
    found = [card(r) for r in _OTHER_OUTLETS.rows(conn, params)]
    if len(found) < limit:
        found += [card(r) for r in _OWN_OUTLET.rows(conn, {**params, "n": limit - len(found)})]
    if len(found) < limit:
        near = related_rows(conn, row.id, row.related, limit - len(found))
        heads = [r.headline_id for r in near if r.headline_id is not None]
        by_id = cards_by_id(conn, heads)
        found += [by_id[i] for i in heads if i in by_id]
    return story_card(row, now), found
