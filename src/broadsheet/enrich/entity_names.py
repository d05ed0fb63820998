"""Names of entities as text: re-casing shouted lines before recognition, trimming titles and possessives off a
name, the key two names share when they are the same, and folding "Mr Johnson" into "Boris Johnson".

Pure text work, no model: finding names in text is `entities`' job, storing them the store's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from broadsheet.slugs import slugify

__all__ = [
    "ENTITY_TYPES",
    "Folded",
    "fold_names",
    "is_word",
    "lead_end",
    "lower_case_words",
    "name_key",
    "name_spans",
    "reading_spans",
    "recase",
]

ENTITY_TYPES = ("person", "organisation", "place", "other")

# A run of letters: the unit that re-casing looks up ("O'NEILL" is "O" and "NEILL", "U.S." is "U" and "S").
_LETTERS = re.compile(r"[^\W\d_]+")
_LINE = re.compile(r"[^\n]+")
_WORD = re.compile(r"\S+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|\n")
# Words a shouted headline shares with every text: not seen in its body, they still read as lower case.
_FUNCTION_WORDS = frozenset((
    "a", "an", "the", "and", "or", "but", "nor", "of", "in", "on", "at", "to", "for", "from", "by", "with",
    "as", "into", "over", "after", "before", "up", "down", "out", "off", "than", "vs", "is", "are", "was",
    "were", "be", "been", "has", "have", "had", "will", "would", "can", "could", "may", "not", "no", "its",
    "his", "her", "their", "our", "says", "say", "said",
))  # fmt: skip
# A tie of votes goes to the first of these: a place name labelled once a place and once an organisation is
# more often the place.
_TIE_ORDER = ("person", "place", "organisation", "other")
SHOUTED_SHARE = (
    0.5  # a line is shouted when at least this share of its words (of 2+ letters) are all capitals
)

# Honorifics and offices that stand before a person's name but are not part of it. Royal and religious titles
# ("Queen Elizabeth", "Pope Francis") are how those people are named, so they stay.
_TITLES = frozenset((
    "mr", "mrs", "ms", "mx", "miss", "dr", "doctor", "prof", "professor", "sir", "dame", "lord", "lady",
    "president", "vice", "prime", "minister", "chancellor", "secretary", "senator", "sen", "rep",
    "representative", "congressman", "congresswoman", "governor", "gov", "mayor", "judge", "justice",
    "general", "gen", "colonel", "col", "captain", "capt", "lieutenant", "lt", "sergeant", "sgt", "major",
    "maj", "admiral", "adm", "commander", "officer", "detective", "det", "inspector", "insp", "constable",
    "rev", "reverend", "coach", "manager", "chairman", "chairwoman", "chief", "executive", "ceo",
    "spokesman", "spokeswoman", "spokesperson", "former", "late", "st",
))  # fmt: skip
_CALENDAR = frozenset((
    "january", "february", "march", "april", "june", "july", "august", "september", "october", "november",
    "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
))  # fmt: skip
_VERSUS = frozenset(("v", "v.", "vs", "vs."))
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)")
# Lower-case words inside people's names ("Ludwig van Beethoven", "Osama bin Laden"); any other ends the name.
_PARTICLES = frozenset((
    "van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "ter", "ten",
    "bin", "ibn", "bint", "al", "el", "y", "e", "zu", "af", "st",
))  # fmt: skip
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)
_EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}<>,;:!?*#|/\\—–-"
_OPENING = "\"'“‘«([{"
_DASHES = frozenset(("-", "--", "–", "—"))
_INITIALISM_SKIP = frozenset(("of", "the", "and", "for", "de", "du", "des", "la", "le", "&"))


@dataclass(frozen=True, slots=True)
class Folded:
    """One entity after folding: its display `name`, its `type` by majority vote and its summed `mentions`."""

    name: str
    type: str
    mentions: int


# --- re-casing ---------------------------------------------------------------------------------------------


def recase(text: str) -> str:
    """`text` with its shouted lines ("CRICKET - LEICESTERSHIRE TAKE OVER", "LONDON 1996-08-30") in ordinary
    case, so that a recogniser trained on ordinary text reads them: each all-capitals word takes the casing
    the same word has elsewhere in `text`, and a word seen nowhere else is capitalised (a function word
    lower-cased). Acronyms written in capitals in the body ("NATO") stay. Same length, same offsets."""
    shouted = [line for line in _LINE.finditer(text) if _is_shouted(line.group())]
    if not shouted:
        return text
    casing = _casing(text, {(line.start(), line.end()) for line in shouted})
    out = list(text)
    for line in shouted:
        for word in _LETTERS.finditer(line.group()):
            letters = word.group()
            if len(letters) < 2 or not letters.isupper():
                continue
            cased = casing.get(letters.casefold()) or _default_case(letters)
            if len(cased) == len(letters):
                start = line.start() + word.start()
                out[start : start + len(letters)] = cased
    return "".join(out)


def _is_shouted(line: str) -> bool:
    words: list[str] = [word for word in _LETTERS.findall(line) if len(word) >= 2]
    capitals = sum(word.isupper() for word in words)
    return capitals > 0 and capitals >= SHOUTED_SHARE * len(words)


def _casing(text: str, shouted: set[tuple[int, int]]) -> dict[str, str]:
    """The usual casing of each word outside the shouted lines; a word's casing at the start of a sentence
    counts only when the word is never seen elsewhere."""
    inside: dict[str, Counter[str]] = {}
    opening: dict[str, Counter[str]] = {}
    for line in _LINE.finditer(text):
        if (line.start(), line.end()) in shouted:
            continue
        previous_end = -1
        body = line.group()
        for word in _LETTERS.finditer(body):
            before = body[previous_end : word.start()] if previous_end >= 0 else ""
            starts = previous_end < 0 or any(mark in before for mark in '.!?:"“')
            table = opening if starts else inside
            table.setdefault(word.group().casefold(), Counter())[word.group()] += 1
            previous_end = word.end()
    found = {key: forms.most_common(1)[0][0] for key, forms in opening.items()}
    found.update({key: forms.most_common(1)[0][0] for key, forms in inside.items()})
    return found


def _default_case(word: str) -> str:
    if word.casefold() in _FUNCTION_WORDS:
        return word.lower()
    return word[0] + word[1:].lower()


# --- the part of an article that is read -------------------------------------------------------------------


def lead_end(text: str, start: int, words: int) -> int:
    """Where the lead of `text` ends: at the end of the sentence that holds the `words`-th word after `start`,
    or at most half as many words again further on."""
    for count, word in enumerate(_WORD.finditer(text, start), 1):
        if count == words:
            cut = word.end()
            limit = _word_end(text, cut, words // 2)
            stop = _SENTENCE_END.search(text, cut - 1, limit)
            return stop.end() if stop else limit
    return len(text)


def reading_spans(text: str, start: int, lead_words: int) -> list[tuple[int, int]]:
    """The parts of `text` worth a recogniser's time: everything up to the end of the lead (`lead_end`), then
    each later sentence that names something not named before it, that is, holds a capitalised word that may
    be a name (`_capitalised`) and that neither the lead nor an earlier kept sentence holds. A sentence of names seen before adds only mentions, which are counted
    anyway. Spans in text order, adjacent ones joined."""
    end = lead_end(text, start, lead_words)
    spans = [(0, end)]
    if end >= len(text):
        return spans
    lower_case = lower_case_words(text)
    seen = _capitalised(text, 0, end, lower_case)
    at = end
    while at < len(text):
        sentence_end = _sentence_end(text, at)
        names = _capitalised(text, at, sentence_end, lower_case)
        if names - seen:
            seen |= names
            if spans[-1][1] == at:
                spans[-1] = (spans[-1][0], sentence_end)
            else:
                spans.append((at, sentence_end))
        at = sentence_end
    return spans


def _sentence_end(text: str, start: int) -> int:
    """Where the sentence from `start` ends: after a line break, or after a full stop, question or exclamation
    mark that does not end a number or an initial ("4. Anja Ruecker", "A. Ranatunga", "U.S.")."""
    at = start
    while stop := _SENTENCE_END.search(text, at):
        before = text[max(start, stop.start() - 40) : stop.start()].split()
        word = before[-1].rsplit(".", 1)[-1] if before else ""
        if text[stop.start()] == "\n" or not (word.isdigit() or len(word) == 1):
            return stop.end()
        at = stop.end()
    return len(text)


def _capitalised(text: str, start: int, end: int, lower_case: frozenset[str]) -> set[str]:
    """The names `text[start:end]` (a sentence or more) may hold: its capitalised words, possessives and final
    full stops dropped ("CNN's", "CNN." are "CNN"), but not "I", months and weekdays (dates, not names), nor a
    word that opens the sentence, a quotation or what follows a colon or dash when `lower_case` holds its
    first letters ("But", "It's", "We're")."""
    found = set()
    opens = True
    for match in _WORD.finditer(text, start, end):
        raw = match.group()
        word = raw.strip(_EDGE_PUNCTUATION)
        if word[:1].isupper():
            letters = _LETTERS.match(word)
            head = (letters.group() if letters else word).lower()
            opening = opens or raw[0] in _OPENING
            if not ((opening and head in lower_case) or head == "i" or head in _CALENDAR):
                found.add(_name_form(word))
        if any(char.isalnum() for char in word):
            opens = raw[-1] == ":"
        elif raw in _DASHES:
            opens = True
    return found


def _name_form(word: str) -> str:
    form = word[: possessive.start()] if (possessive := _POSSESSIVE.search(word)) else word
    return form.rstrip(".") or word


def _word_end(text: str, start: int, words: int) -> int:
    end = start
    for count, word in enumerate(_WORD.finditer(text, start), 1):
        end = word.end()
        if count == words:
            break
    else:
        return len(text)
    return end


# --- names -------------------------------------------------------------------------------------------------


def name_spans(surface: str, type_: str) -> list[tuple[int, int]]:
    """The spans of `surface` (a span the model labelled `type_`) that are names: cut at line breaks, at words without letters
    ("Somerset 83", "Partick 1 St Mirren 1", "CRICKET - ESSEX"), at "v" or "vs", before a final ordinal, and
    for a person at a lower-case word other than a particle ("Yorkshire at Headingley"); each piece
    trimmed of quotes and brackets at its edges, a possessive "'s", a leading month or weekday ("August"),
    a leading "the" and, for a person, leading titles ("Mr", "President", "Prime Minister"). Pieces without
    a letter are dropped; a title alone ("President") stays whole."""
    spans = []
    start = None
    words = list(_WORD.finditer(surface))
    for i, word in enumerate(words):
        if start is not None and "\n" in surface[words[i - 1].end() : word.start()]:
            spans.append((start, words[i - 1].end()))
            start = None
        if _cuts(word.group(), type_, last=i == len(words) - 1):
            if start is not None:
                spans.append((start, words[i - 1].end()))
            start = None
        elif start is None:
            start = word.start()
    if start is not None:
        spans.append((start, words[-1].end()))
    trimmed = [_trim(surface, first, last, type_) for first, last in spans]
    return [(first, last) for first, last in trimmed if any(c.isalpha() for c in surface[first:last])]


def _cuts(word: str, type_: str, *, last: bool) -> bool:
    """Whether `word` separates names rather than belongs to one."""
    if not any(char.isalpha() for char in word) or word.casefold() in _VERSUS:
        return True
    if last and _ORDINAL.fullmatch(word):  # a scorer's minute: "Gordon Durie 75th"
        return True
    return type_ == "person" and word.islower() and word not in _PARTICLES


def lower_case_words(text: str) -> frozenset[str]:
    """The words `text` writes in lower case: a capitalised "Attendance" or "Soccer" that is also written
    "attendance" in the same text is a word at the start of a line, not a name."""
    return frozenset(word for word in _LETTERS.findall(text) if word.islower())


def is_word(name: str, lower_case: frozenset[str]) -> bool:
    """Whether `name` is one ordinary word (a capitalised word of `lower_case`), not an acronym or a name."""
    return name.isalpha() and not name.isupper() and name.lower() in lower_case


def _trim(surface: str, start: int, end: int, type_: str) -> tuple[int, int]:
    while start < end and (surface[start].isspace() or surface[start] in _EDGE_PUNCTUATION):
        start += 1
    while end > start and (surface[end - 1].isspace() or surface[end - 1] in _EDGE_PUNCTUATION):
        end -= 1
    possessive = _POSSESSIVE.search(surface, start, end)
    if possessive and possessive.start() > start:
        end = possessive.start()
    words = list(_WORD.finditer(surface, start, end))
    drop = 0
    if type_ != "person":  # "August Wilson" is a person, "August National Association" an organisation
        while drop < len(words) - 1 and words[drop].group().rstrip(".").casefold() in _CALENDAR:
            drop += 1
    else:
        while drop < len(words) - 1 and words[drop].group().rstrip(".").casefold() in _TITLES:
            drop += 1
    if type_ != "person" and len(words) - drop > 1 and words[drop].group().casefold() == "the":
        drop += 1
    if drop:
        start = words[drop].start()
    return start, end


@lru_cache(maxsize=8192)
def name_key(name: str) -> str:
    """What two spellings of one name share: case, accents, dots of initialisms and punctuation folded
    ("U.S." and "US", "Al-Qaeda" and "al Qaeda"). It is also the name's URL slug."""
    return slugify(name.replace(".", ""))


def fold_names(names: Sequence[tuple[str, str, int]]) -> tuple[list[Folded], list[int]]:
    """Fold `names` ((name, type, weight) each, the weight counted as mentions and as votes for the type;
    type "" for a mention that does not vote)
    into entities: the same key is one entity; a shorter name that ends a longer person's name ("Johnson",
    "Mr Johnson") or, said of a person, starts it ("Boris") joins that person when only one person fits;
    an all-capitals initialism ("ICC") joins the one organisation it abbreviates. Returns the entities,
    most mentioned first, and for each name the index of its entity."""
    keys: dict[str, int] = {}
    groups: list[_Group] = []
    name_keys = [name_key(name) for name, _, _ in names]
    for index, ((name, type_, weight), key) in enumerate(zip(names, name_keys, strict=True)):
        if key not in keys:
            keys[key] = len(groups)
            groups.append(_Group(key, index))
        groups[keys[key]].add(name, type_, weight)
    parent = list(range(len(groups)))
    people = [g for g, group in enumerate(groups) if len(group.words) > 1 and group.type() == "person"]
    for g, group in enumerate(groups):
        fits = [p for p in people if p != g and _joins(group, groups[p])]
        if len(fits) == 1:
            parent[g] = fits[0]
        elif not fits and len(group.words) == 1 and group.is_initialism():
            bodies = [h for h, other in enumerate(groups) if h != g and other.abbreviates(group.words[0])]
            if len(bodies) == 1:
                parent[g] = bodies[0]
    roots = [_root(parent, g) for g in range(len(groups))]
    for g, group in enumerate(groups):
        if roots[g] != g:
            groups[roots[g]].absorb(group)
    order = sorted(set(roots), key=lambda g: (-groups[g].weight, groups[g].first))
    position = {g: i for i, g in enumerate(order)}
    folded = [Folded(groups[g].display(), groups[g].type(), groups[g].weight) for g in order]
    return folded, [position[roots[keys[key]]] for key in name_keys]


def _root(parent: list[int], g: int) -> int:
    """Each fold goes to a name of more words, so following the links ends."""
    while parent[g] != g:
        g = parent[g]
    return g


def _joins(short: _Group, person: _Group) -> bool:
    if len(short.words) >= len(person.words):
        return False
    if person.words[-len(short.words) :] == short.words:
        return True
    return short.type() == "person" and person.words[: len(short.words)] == short.words


class _Group:
    """The spellings of one key with their votes."""

    __slots__ = ("first", "forms", "key", "votes", "weight", "words")

    def __init__(self, key: str, first: int) -> None:
        self.key = key
        self.words = key.split("-")
        self.first = first
        self.forms: Counter[str] = Counter()
        self.votes: Counter[str] = Counter()
        self.weight = 0

    def add(self, name: str, type_: str, weight: int) -> None:
        self.forms[" ".join(name.split())] += weight
        self.votes[type_] += weight
        self.weight += weight

    def absorb(self, other: _Group) -> None:
        """Take `other`'s mentions; its spellings and votes do not change this name or type."""
        self.weight += other.weight
        self.first = min(self.first, other.first)

    def type(self) -> str:
        return max(_TIE_ORDER, key=lambda t: (self.votes[t], -_TIE_ORDER.index(t)))

    def display(self) -> str:
        """The most used spelling; among equals one with lower-case letters ("Leicestershire" over
        "LEICESTERSHIRE"), then the longest."""
        return max(self.forms, key=lambda form: (self.forms[form], form != form.upper(), len(form)))

    def is_initialism(self) -> bool:
        form = self.display().replace(".", "")
        return 2 <= len(form) <= 6 and form.isalpha() and form.isupper()

    def abbreviates(self, initials: str) -> bool:
        words = [w for w in self.display().split() if w.casefold() not in _INITIALISM_SKIP]
        return (
            len(words) > 1 and self.type() != "person" and "".join(w[0] for w in words).casefold() == initials
        )
