"""`extract_article`: one page in, one `Extracted` out; the order of the extraction steps lives here.

Owns the orchestration only: parse once, read metadata, find the body, clean it, render text and HTML.
"""

from __future__ import annotations

from lxml import etree

from broadsheet.errors import ExtractError
from broadsheet.extract.body import body_from_text, body_paragraphs, find_body
from broadsheet.extract.clean import clean_body, is_boilerplate
from broadsheet.extract.html import body_to_html
from broadsheet.extract.image import find_image_alt, first_figure_image
from broadsheet.extract.lead import add_lead, find_lead, find_marked_lead
from broadsheet.extract.load import parse_html
from broadsheet.extract.metadata import read_metadata
from broadsheet.models import Extracted

__all__ = ["MIN_TEXT_CHARS", "extract_article"]

#: Less text than this is a menu or a caption, not an article (the shortest news briefs run to a few sentences).
MIN_TEXT_CHARS = 50
#: The page text is replaced by JSON-LD articleBody when it is shorter than this share of it.
ARTICLE_BODY_SHARE = 0.5


def extract_article(html: str | bytes, url: str) -> Extracted:
    """Extract the main text, a sanitised HTML body and the metadata of one article page.

    Pure and picklable, so it can run in a process pool. Raises ExtractError (with the reason) when the page
    holds no article text: empty or binary input, a page that is not HTML, or a page with no main content.
    """
    try:
        return _extract(html, url)
    except (ValueError, TypeError, LookupError, RecursionError, etree.LxmlError) as exc:
        # A page that trips the parser or trafilatura is one failed page, not a failed crawl: say which and why.
        raise ExtractError(f"could not extract the page ({type(exc).__name__}: {exc})") from exc


def _prefer_article_body(paragraphs: list[str], article_body: str) -> bool:
    """Whether JSON-LD articleBody should replace the extracted text."""
    if sum(map(len, paragraphs)) < len(article_body) * ARTICLE_BODY_SHARE:
        return True  # the markup held far less than the publisher's structured copy: script-rendered pages
    # trafilatura's own last resort reads articleBody too, but flattens it into one paragraph.
    return (
        len(paragraphs) == 1
        and "\n" in article_body.strip()
        and paragraphs[0].split() == article_body.split()
    )


def _extract(html: str | bytes, url: str) -> Extracted:
    tree = parse_html(html)
    meta = read_metadata(tree, url)
    base = meta.base_url or url
    image, image_alt = meta.image, meta.image_alt
    if image and not image_alt:
        image_alt = find_image_alt(tree, image, base)
    elif not image:
        image, image_alt = first_figure_image(tree, base)

    body = find_body(tree)
    paragraphs: list[str] = []
    if body is not None:
        clean_body(body, meta.title)
        paragraphs = body_paragraphs(body)
    if meta.article_body and _prefer_article_body(paragraphs, meta.article_body):
        body = body_from_text(meta.article_body)
        clean_body(body, meta.title)
        paragraphs = body_paragraphs(body)
    if body is not None:
        so_far = " ".join(paragraphs)
        lead = find_lead(tree, meta.description, so_far) or find_marked_lead(tree, so_far)
        if lead and not is_boilerplate(lead):
            add_lead(body, lead)
            paragraphs = body_paragraphs(body)
    if body is None or sum(map(len, paragraphs)) < MIN_TEXT_CHARS:
        raise ExtractError(
            "no article text found on the page: only menus, links or boilerplate "
            "(it may be an index page, a paywall or a page rendered by scripts)"
        )

    return Extracted(
        text="\n\n".join(paragraphs),
        html=body_to_html(body, base),
        title=meta.title,
        authors=meta.authors,
        published=meta.published,
        updated=meta.updated,
        site_name=meta.site_name,
        icon=meta.icon,
        image=image,
        image_alt=image_alt,
        lang=meta.lang,
        canonical_url=meta.canonical_url,
        description=meta.description,
        tags=meta.tags,
        section=meta.section,
        genre=meta.genre,
    )
