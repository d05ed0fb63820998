"""An article's kind (`article_kind`): news, opinion, analysis, live blog or review, from its markup and the cues
publishers leave in URLs, section names, headlines, tags, bylines and the text.

Owns the decision only; reading the markup's genre and section off the page is `extract/metadata.py`'s job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from broadsheet.slugs import slugify

__all__ = ["KINDS", "article_kind"]

#: "news": a report of what happened (the default: when nothing says otherwise, a piece is news).
#: "opinion": an author's or the paper's view: columns, op-eds, editorials, letters.
#: "analysis": context rather than a report: analysis, explainers, backgrounders.
#: "live": a live blog, updated as events unfold ("live updates", "as it happened").
#: "review": a critic's verdict on a film, book, show, record, product or restaurant.
KINDS = ("news", "opinion", "analysis", "live", "review")

# Words a publisher labels a piece with, in the languages broadsheet sees most (en, de, fr, es, it, pt, nl, sl),
# as slugs (lowercase, accents off): "Opinión" and "opinion" are one label. They count as a whole path segment,
# section, tag, or headline label ("Opinion: ...", "... | Editorial", "... – as it happened").
_LABELS: dict[str, frozenset[str]] = {
    "live": frozenset((
        "live", "live-updates", "live-update", "live-blog", "liveblog", "live-news", "live-coverage",
        "as-it-happened", "as-it-happens", "liveticker", "live-ticker", "en-direct", "direct",
        "en-directo", "directo", "en-vivo", "in-diretta", "diretta", "ao-vivo", "minuto-a-minuto", "v-zivo",
    )),
    "opinion": frozenset((
        "opinion", "opinions", "comment", "commentary", "editorial", "editorials", "op-ed", "oped", "op-eds",
        "column", "columns", "columnists", "letters", "guest-essay", "viewpoint", "meinung", "meinungen",
        "kommentar", "kommentare", "leitartikel", "gastbeitrag", "kolumne", "kolumnen", "standpunkt", "tribune",
        "tribunes", "editoriaux", "chronique", "chroniques", "point-de-vue", "tribuna", "tribunas", "columna",
        "columnas", "columnistas", "editoriales", "opinione", "opinioni", "editoriale", "editoriali", "commento",
        "commenti", "opiniao", "opinioes", "coluna", "colunas", "colunistas", "opinie", "commentaar",
        "mnenje", "mnenja", "komentar", "komentarji", "kolumna", "kolumne", "uvodnik",
    )),
    "analysis": frozenset((
        "analysis", "news-analysis", "analyses", "explainer", "explainers", "explained", "analyse", "analysen",
        "hintergrund", "decryptage", "analisis", "analisi", "analise", "analiza",
    )),
    "review": frozenset((
        "review", "reviews", "kritik", "kritiken", "critique", "critiques", "critica", "criticas", "critiche",
        "recensione", "recensioni", "recensie", "recensies", "recenzija", "recenzije", "resena", "resenas",
    )),
}  # fmt: skip
# Section paths that name an opinion desk without the word: the Guardian's, the Independent's, The Atlantic's,
# Le Monde's, Le Figaro's, Die Welt's.
_OPINION_PATHS = frozenset(("commentisfree", "voices", "ideas", "idees", "vox", "debatte"))
# Slug phrases that make a live blog's URL or headline wherever they stand in it; and those that do at its end
# only ("Guerre en Ukraine, en direct", not "match diffusé en direct sur ...").
_LIVE_SLUG = re.compile(r"(?:^|-)(?:live-updates?|live-blog|liveblog|as-it-happened|live-?ticker)(?:-|$)")
_LIVE_END = re.compile(r"(?:^|-)(?:en-direct|en-directo|en-vivo|in-diretta|ao-vivo|v-zivo)$")
# Words before a final "live"/"review" that make it a verb ("where to live:", "court to review –"), or a
# review that is an inquiry ("police review:"), not a critic's.
_NOT_A_LABEL = frozenset((
    "to", "we", "you", "they", "i", "can", "could", "will", "would", "must", "should", "may", "might", "where",
    "who", "still", "now", "not", "never", "and", "or", "people", "under", "for", "of", "a", "an", "the",
    "judicial", "court", "government", "police", "safety", "pay", "spending", "policy", "independent",
    "public", "official", "internal", "annual", "strategic", "defence", "defense", "case", "legal", "rapid",
    "budget", "tax", "security", "price", "rate", "fee", "nhs", "peer",
))  # fmt: skip
# Headline separators between a label and the headline: colon, bar, dashes with spaces around them.
_TITLE_PARTS = re.compile(r"\s*[:|]\s*|\s+[-–—]\s+")
_CAPS_LABEL = re.compile(r"^([^\W\d_a-z]+(?: [^\W\d_a-z]+)?)\.\s")  # "DIRECT. Guerre en Ukraine"
_STARS = re.compile(r"[★☆✩✭✮✯]{3,}|\b[1-5]\s?/\s?5\s+stars\b|\b[1-5]\s+stars?\s+out\s+of\s+5\b", re.I)
_PAPER_VIEW = re.compile(r"^the\s+\w+\s+view\s+on\b", re.I)  # "The Guardian view on ...": its editorials
_EDITORS = re.compile(r"\beditorial\s+board\b|^(?:the\s+)?editors$|^editorial$", re.I)
_DISCLAIMER = re.compile(
    r"\bviews\s+expressed\s+(?:in\s+this\s+(?:commentary|column|article|piece|op-?ed)|here)\b"
    r"|\bthis\s+is\s+an\s+opinion\s+(?:piece|column)\b",
    re.I,
)
# A live blog's entries open with the clock time: "10.42 GMT", "9:05am", "14:30 Uhr".
_ENTRY_TIME = re.compile(r"^\s*\d{1,2}(?:[:.]|h)\d{2}\s*(?:am|pm|[A-Z]{2,4}|Uhr)?\b")
LIVE_ENTRIES = 6  # at least this many paragraphs opening with a time ...
LIVE_SHARE = 0.3  # ... that make up this share of the paragraphs
TEXT_EDGE = 600  # characters at each end of the text where opinion disclaimers stand


def article_kind(
    *,
    url: str,
    title: str,
    genre: str,
    section: str,
    tags: Sequence[str],
    author: str = "",
    text: str = "",
) -> str:
    """One of KINDS. The markup's genre wins; then the URL path, the section, the headline, the tags, the byline
    and last the text (an opinion disclaimer, a run of time-stamped entries); "news" when none says otherwise."""
    if genre in KINDS:
        return genre
    return (
        _kind_of_url(url)
        or _kind_of_section(section)
        or _kind_of_title(title)
        or next((kind for tag in tags if (kind := _kind_of_label(slugify(tag)))), "")
        or ("opinion" if _EDITORS.search(author.strip()) else "")
        or _kind_of_text(text)
        or "news"
    )


def _kind_of_label(slug: str) -> str:
    return next((kind for kind, labels in _LABELS.items() if slug in labels), "")


def _kind_of_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.hostname and parts.hostname.startswith("opinion."):
        return "opinion"
    segments = [slugify(unquote(s)) for s in parts.path.split("/") if s.strip()]
    for segment in segments[:-1]:
        if kind := _kind_of_label(segment) or ("opinion" if segment in _OPINION_PATHS else ""):
            return kind
    return "live" if segments and _LIVE_SLUG.search(segments[-1]) else ""


def _kind_of_section(section: str) -> str:
    """A section named by a label ("Comment", "Liveblog"), or starting or ending with one word of one ("Opinion -
    Columnists", "Book reviews"): not for live, where "Live sport" is a desk that also reports."""
    slug = slugify(section) if section.strip() else ""
    if kind := _kind_of_label(slug):
        return kind
    words = slug.split("-")
    for word in (words[0], words[-1]):
        if (kind := _kind_of_label(word)) and kind != "live":
            return kind
    return ""


def _kind_of_title(title: str) -> str:
    """A label at either end of the headline, a final "live"/"review" before its colon or dash ("Election live:
    ...", "The Lantern Roof review – ..."), star ratings, or a paper's own view."""
    text = title.strip()
    if not text:
        return ""
    if _PAPER_VIEW.search(text):
        return "opinion"
    if (caps := _CAPS_LABEL.match(text)) and (kind := _kind_of_label(slugify(caps.group(1)))):
        return kind
    parts = [p for p in _TITLE_PARTS.split(text) if p.strip()]
    if _LIVE_END.search(slugify(parts[0])) or _LIVE_END.search(slugify(text)):
        return "live"
    if len(parts) > 1:
        for part in (parts[0], parts[-1]):
            if kind := _kind_of_label(slugify(part.strip(" .!"))):
                return kind
        words = slugify(parts[0]).split("-")
        if len(words) > 1 and words[-1] in ("live", "review") and words[-2] not in _NOT_A_LABEL:
            return words[-1]
    if _LIVE_SLUG.search(slugify(text)):
        return "live"
    return "review" if _STARS.search(text) else ""


def _kind_of_text(text: str) -> str:
    if not text:
        return ""
    if _DISCLAIMER.search(text[:TEXT_EDGE]) or _DISCLAIMER.search(text[-TEXT_EDGE:]):
        return "opinion"
    paragraphs = [p for p in text.split("\n") if p.strip()]
    timed = sum(1 for p in paragraphs if _ENTRY_TIME.match(p))
    return "live" if timed >= LIVE_ENTRIES and timed >= LIVE_SHARE * len(paragraphs) else ""
