"""What the story clusterer reads in an article besides its embedding: body terms and named things.

Pure functions of the text; turning them into weights (IDF) and comparing them is the clusterer's job.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass

from broadsheet.dedupe.fingerprint import words

__all__ = [
    "HASH_BITS",
    "STOP_WORDS",
    "ArticleFeatures",
    "article_features",
    "body_terms",
    "hash_term",
    "named_things",
    "strip_label",
]

HASH_BITS = 20  # 1M buckets: collisions among the few thousand terms alive at once are rare and harmless
_HASH_MASK = (1 << HASH_BITS) - 1

# Function words of English (and the commonest of a few other languages), plus reporting verbs and words of
# time that every news story uses: they tell nothing about which event an article is about.
_STOP_WORDS_TEXT = """
    a about above after again against ago all also although am among an and another any are around as at be
    because been before being below between both but by can could did do does doing done down during each
    either else even ever every few for from further had has have having he her here hers herself him
    himself his how however i if in into is it its itself just least less like made make many may me might
    more most much must my myself neither no nor not now of off on once one only or other others our ours
    ourselves out over own per rather same shall she should since so some such than that the their theirs
    them themselves then there these they this those though through thus to too under until up upon us very
    was we were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours yourself said says say saying told tells according reported reports report
    reportedly new news just get got today yesterday tomorrow week weeks year years day days time times
    monday tuesday wednesday thursday friday saturday sunday first last next still since back well way mr
    mrs ms dr st i'm i've i'd i'll der die das und ist nicht ein eine mit von zu den dem des auf für im le
    la les un une et est du des en pour que qui dans par sur el los las y por con para se lo il di che
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Words that may sit inside a name ("Bank of America", "Charles de Gaulle") but never begin or end one.
_CONNECTORS = frozenset({"of", "de", "du", "da", "di", "del", "der", "van", "von", "la", "le", "&"})
_WORD_RE = re.compile(r"[^\W\d_][\w'’.-]*|&", re.UNICODE)
_SENTENCE_END_RE = re.compile(r"[.!?:;\"“”«»()\[\]|]+\s*$|\n\s*$")
_POSSESSIVE_RE = re.compile(r"['’]s?$")
_TITLE_CASE_SHARE = 0.85  # a title this capitalised is in Title Case (or capitals): case says nothing


# A format label before a headline ("The Latest: ...", "Olympics Latest: ...", "LIVE | ...", "VIDEO - ...",
# "EN DIRECT : ..."): it says how the outlet presents the piece, not what happened, and a live blog's
# "The Latest:" repeated over a day of unrelated updates made them look alike (og2021: a third of the English
# false joins). Labels in the languages the stories were measured in; up to three words may come first
# ("Tokyo 2020 LIVE:"), and the whole label is at most five words.
_LABELS = (
    "the latest|latest|live|live updates?|live blog|breaking|breaking news|updated?|updates|watch|video|"
    "photos?|gallery|in pictures|opinion|analysis|explainer|podcast|exclusive|factbox|fact check|"
    "en direct|direct|vidéo|exclusif|analyse|"  # French
    "en vivo|en directo|directo|vídeo|última hora|urgente|opinión|análisis|exclusiva|"  # Spanish
    "ao vivo|opinião|análise|exclusivo|fotos|"  # Portuguese
    "liveticker|live-ticker|eilmeldung|kommentar|exklusiv|"  # German
    "diretta|in diretta|ultima ora|esclusiva|"  # Italian
    "v živo|"  # Slovenian
    "видео|онлайн|срочно|прямая трансляция|фото|"  # Russian
    "فيديو|عاجل|بالصور|مباشر|"  # Arabic
    "视频|快讯|直播"  # Chinese
)
_LABEL_RE = re.compile(
    rf"^\s*(?:[^\W_][\w.'’-]*\s+){{0,3}}?(?:{_LABELS})(?:\s*[:|–—-]\s+|\s*：\s*)(?=\S)",
    re.IGNORECASE | re.UNICODE,
)
_LABEL_WORDS = 5


def strip_label(headline: str) -> str:
    """The headline without a leading format label ("The Latest: Storm closes port" -> "Storm closes port");
    unchanged when it has none, or when nothing would be left."""
    match = _LABEL_RE.match(headline)
    if match is None or len(match.group().split()) > _LABEL_WORDS:
        return headline
    return headline[match.end() :]


@dataclass(frozen=True, slots=True)
class ArticleFeatures:
    """An article's text features: hashed terms of title and body with their counts, named things with
    theirs, and how many words the body has beyond the title (0 for a headline alone)."""

    terms: dict[int, int]
    names: dict[str, int]
    body_words: int = 0


def hash_term(term: str) -> int:
    """A term's bucket: crc32 is stable across processes and versions, so stored vectors stay comparable."""
    return zlib.crc32(term.encode("utf-8")) & _HASH_MASK


def body_terms(text: str) -> Counter[str]:
    """Lower-cased content words (accents folded, stop-words and one-letter words dropped) with their counts.

    Numbers stay: a year or a death toll tells two events of one kind apart."""
    return Counter(w for w in words(text) if len(w) > 1 and w not in STOP_WORDS)


# A word as names are read from it: as written, cleaned and lower-cased, and whether it begins a sentence.
_Token = tuple[str, str, bool]


def _clean(word: str) -> str:
    return _POSSESSIVE_RE.sub("", word.rstrip(".-")).casefold()


def _tokens(text: str) -> list[_Token]:
    """Words with a flag telling whether each begins a sentence (where capitals say nothing)."""
    out: list[_Token] = []
    last_end = 0
    previous = ""
    for match in _WORD_RE.finditer(text):
        word = match.group()
        between = text[last_end : match.start()]
        if not out:
            starts = True
        elif previous.endswith("."):
            starts = len(previous) > 3  # "Dr. Smith", "U.S. Navy": an abbreviation's dot ends no sentence
        else:
            starts = between != " " and bool(_SENTENCE_END_RE.search(between))
        out.append((word, _clean(word), starts))
        last_end = match.end()
        previous = word
    return out


def _is_title_case(tokens: list[_Token]) -> bool:
    content = [w for w, folded, _ in tokens if len(w) > 3 and folded not in STOP_WORDS]
    if len(content) < 3:
        return False
    return sum(w[0].isupper() for w in content) >= _TITLE_CASE_SHARE * len(content)


def _phrases(tokens: list[_Token], confirmed: set[str], case_is_news: bool) -> list[str]:
    """Runs of capitalised words (connectors allowed inside), as lower-cased phrases.

    A capital that only marks a sentence's start is believed when the text also capitalises the word
    mid-sentence, or when the next word is capitalised too ("Maria Lopez said"). In a Title Case headline
    (`case_is_news` false) every word needs that confirmation."""
    found: list[str] = []
    run: list[str] = []
    doubtful = False  # the run's first word is capitalised only because it starts a sentence

    def flush() -> None:
        while run and run[-1] in _CONNECTORS:
            run.pop()
        if run and not (doubtful and len(run) == 1):
            found.append(" ".join(run))
        run.clear()

    for word, folded, starts in tokens:
        if run and not starts and word.casefold() in _CONNECTORS:
            run.append(word.casefold())
            continue
        capital = word[0].isupper() and len(folded) > 1 and folded not in STOP_WORDS
        if capital and not case_is_news and folded not in confirmed:
            capital = False
        if not capital or starts:
            flush()
        if capital:
            if not run:
                doubtful = starts and folded not in confirmed
            run.append(folded)
            if _POSSESSIVE_RE.search(word):
                flush()  # "Apple's Tim Cook": two names
    flush()
    return found


def named_things(title: str, text: str) -> Counter[str]:
    """Names of people, places, organisations and products: capitalised phrases ("Port Alder", "Bank of
    England"), lower-cased, with their counts. No model: capitals at a sentence start or in a Title Case
    headline count only for words the text also capitalises mid-sentence; a headline alone in Title Case
    gives its capitalised content words one by one, since nothing can tell its names from the rest."""
    body_tokens = _tokens(_body(title, text))
    title_tokens = _tokens(title)
    title_case = _is_title_case(title_tokens)
    if title_case and not body_tokens:
        return Counter(
            folded
            for word, folded, _ in title_tokens
            if word[0].isupper() and len(folded) > 1 and folded not in STOP_WORDS
        )
    confirmed = {folded for word, folded, starts in body_tokens if not starts and word[0].isupper()}
    names = Counter(_phrases(title_tokens, confirmed, not title_case))
    names.update(_phrases(body_tokens, confirmed, True))
    return names


def article_features(title: str, text: str) -> ArticleFeatures:
    """Hashed term counts of title and body, and named things: everything the clusterer needs from text.
    A format label before the title is not read (`strip_label`)."""
    body = _body(title, text)
    title = strip_label(title)
    counts = body_terms(title + "\n" + body)
    terms: dict[int, int] = {}
    for term, n in counts.items():
        key = hash_term(term)
        terms[key] = terms.get(key, 0) + n
    return ArticleFeatures(terms=terms, names=dict(named_things(title, text)), body_words=len(body.split()))


def _body(title: str, text: str) -> str:
    """The text without the title it often repeats as its first line."""
    stripped = text.lstrip()
    return stripped[len(title) :] if title and stripped.startswith(title) else stripped
