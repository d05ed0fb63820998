"""An article's tags: `keyphrases` found in its title and text, merged by `article_tags` with the publisher's tags
and the top entities; `normalise_tag` is the key two tags are "the same" by.

Owns choosing and normalising tag names; finding entities is another step's job, tag pages and slugs the store's.

Keyphrases are statistical, in the spirit of YAKE but simpler. Candidates are names (each longest run of
capitalised words, connectors allowed inside: "Bank of England"; less a sentence-opening stopword and job titles
in front: "Foreign Minister Ana Ruiz" is "Ana Ruiz") and phrases (1-3 lowercase words between punctuation marks,
no stopword among them but a connector in the middle: "rule of law"); numbers, contractions and boilerplate
(wire credits, "Getty Images", "said", "reporter") are never part of one. Singular and plural count together, a
name's lone last word ("Johnson") counts for the full name, and a phrase that mostly occurs inside a longer one
gives way to it. A candidate must recur (a lone common word three times) or be in the title; its score grows
with its count (a title occurrence adds two), how early it first appears, its length, and being written as a name.

What each language gets: en, de, fr, es, it, pt and nl have a built-in stopword list (function words, reporting
verbs, weekdays, months, time words) and get names and phrases; any other language, or none given, gets names
only (capitalised runs, which works for every script with capitals). German capitalises every noun, so there its
nouns come out as one-word names, and a one-word name earns no name weight. Speed: bench/enrich_tags.py.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from broadsheet.slugs import slugify
from broadsheet.text import collapse_whitespace

__all__ = ["article_tags", "keyphrases", "normalise_tag"]

MAX_WORDS = 3  # in a phrase
MAX_NAME_WORDS = 5  # in a name: "Centers for Disease Control and Prevention" is longer, and no tag
MAX_TAG_CHARS = 80  # longer "tags" are sentences pasted into a keywords field
LENGTH_WEIGHT = (0.0, 1.0, 1.6, 1.9)  # by word count: a phrase occurs less often than its words
PROPER_WEIGHT = 1.5  # written as a name in most of its occurrences
TITLE_COUNT = 2  # a title occurrence counts as this many in the text
INSIDE_SHARE = 0.75  # a word found inside one longer candidate this share of its count gives way to it

# Words, with inner hyphens and apostrophes ("al-Malki", "O'Brien"), or single marks that end a phrase. Numbers
# are matched as words so that they break phrases, then dropped.
_TOKEN = re.compile(r"(?:[^\W\d_]\.){2,}|\w+(?:[-'’]\w+)*|[^\w\s]")  # "U.S." is one word
_SENTENCE_END = frozenset(".!?…")
_POSSESSIVE = ("'s", "’s")
_CONTRACTIONS = tuple(f"{mark}{end}" for mark in "'’" for end in ("ve", "re", "ll", "d", "m", "t"))


@dataclass(slots=True)
class _Candidate:
    words: tuple[str, ...]
    surface: str  # as first written in the text
    count: int = 0
    proper: int = 0  # occurrences written as a name (capitalised, not only as a sentence's first word)
    lowered: int = 0  # occurrences written in lowercase
    first: int = 0  # sentence index of the first occurrence
    in_title: bool = False
    score: float = 0.0


def keyphrases(title: str, text: str, lang: str, limit: int = 8) -> list[str]:
    """Up to `limit` key phrases of the article, best first, as written in the text (common nouns lowercased)."""
    stopwords = _STOPWORDS.get(lang)
    runs = _runs(text)
    headline = {
        tuple(w[1] for w in words[i:j])
        for _, words in _runs(title)
        for i in range(len(words))
        for j in range(i + 1, min(i + MAX_NAME_WORDS, len(words)) + 1)
    }
    # A phrase must recur (or be in the title) to be kept, so phrases are built of recurring words only.
    frequency = Counter(w[1] for _, words in runs for w in words)
    recurring = {word for word, count in frequency.items() if count > 1} | {k[0] for k in headline}
    found: dict[tuple[str, ...], _Candidate] = {}
    for sentence, words in runs:
        _count_names(words, sentence, stopwords or _ALL_STOPWORDS, found)
        if stopwords is not None:
            _count_phrases(words, sentence, stopwords, recurring, found, english=lang == "en")
    for key in headline & found.keys():
        found[key].in_title = True
    merged = _merge_forms(found.values())
    _fold_surnames(merged)
    kept = [c for c in merged if c.count >= _needed(c)]
    for cand in kept:
        cand.score = _score(cand, single_names=lang != "de")
    return [_display(c) for c in _pick(_fold_inner(kept), limit)]


Word = tuple[str, str, bool]  # as written, lowercased, capitalised (not as a sentence's first word)


def _runs(text: str) -> list[tuple[int, list[Word]]]:
    """(sentence index, words) for each run of words between punctuation marks, numbers and line breaks."""
    runs: list[tuple[int, list[Word]]] = []
    sentence = 0
    for line in text.splitlines():
        current: list[Word] = []
        starts = True
        for token in _TOKEN.findall(line):
            if not token[0].isalpha():  # a mark or a number ends the run
                if current:
                    runs.append((sentence, current))
                    current = []
                if token in _SENTENCE_END:
                    sentence += 1
                # After a quote, a bracket or a colon a capital says nothing; after a comma it does.
                starts = token != ","
                continue
            marked = "'" in token or "’" in token
            if marked and token.lower().endswith(_CONTRACTIONS):  # "you've", "don't": no subject
                if current:
                    runs.append((sentence, current))
                    current = []
                starts = False
                continue
            possessive = marked and token.endswith(_POSSESSIVE)
            word = token[:-2] if possessive else token
            current.append((word, word.lower(), not starts and word[0].isupper()))
            starts = False
            if possessive:  # "Johnson's plan": the name ends at the possessive
                runs.append((sentence, current))
                current = []
        if current:
            runs.append((sentence, current))
        sentence += 1  # a line break ends a headline, a caption or a list item
    return runs


def _add(found: dict[tuple[str, ...], _Candidate], run: Sequence[Word], sentence: int, *, name: bool) -> None:
    key = tuple(w[1] for w in run)
    cand = found.get(key)
    if cand is None:
        cand = found[key] = _Candidate(key, " ".join(w[0] for w in run), first=sentence)
    cand.count += 1
    if name:
        cand.proper += 1
        if not cand.surface[0].isupper():
            cand.surface = " ".join(w[0] for w in run)
    elif run[0][0][0].islower():
        cand.lowered += 1


def _count_names(
    words: list[Word], sentence: int, block: frozenset[str], found: dict[tuple[str, ...], _Candidate]
) -> None:
    """Count the names of one run of words: each longest run of capitalised words, connectors allowed inside
    ("Bank of England"), less a sentence's first word if it is a stopword ("The"), stopwords at its end
    ("Easter Monday" is "Easter") and job titles in front ("Foreign Minister Ana Ruiz" is "Ana Ruiz").
    A lone word at a sentence's start is no name: the phrase counter takes it."""
    i, n = 0, len(words)
    while i < n:
        if not words[i][0][0].isupper() or len(words[i][1]) < 2:
            i += 1
            continue
        j = i + 1
        while j < n and len(words[j][1]) > 1:
            if words[j][0][0].isupper():
                j += 1
            elif words[j][1] in _CONNECTORS and j + 1 < n and words[j + 1][0][0].isupper():
                j += 2
            else:
                break
        span = _trim_name(words[i:j], block)
        i = j
        if (
            span
            and len(span) <= MAX_NAME_WORDS
            and (len(span) > 1 or span[0][2])
            and not any(w[1] in _BOILERPLATE for w in span)
            and tuple(w[1] for w in span) not in _BOILERPLATE_NAMES
        ):
            _add(found, span, sentence, name=True)


def _trim_name(span: list[Word], block: frozenset[str]) -> list[Word]:
    if not span[0][2] and span[0][1] in block:
        span = span[1:]
    while span and not span[0][0][0].isupper():  # a connector left in front: "[But] the ICC"
        span = span[1:]
    while span and (span[-1][1] in block or span[-1][1] in _CONNECTORS or span[-1][1] in _ABBREVIATED):
        span = span[:-1]  # "Easter Monday" is "Easter", "Arkansas Gov[.]" is "Arkansas"
    # The name starts after the last title word: "Israeli Prime Minister Ana Ruiz" is "Ana Ruiz".
    titled = max((k + 1 for k, w in enumerate(span) if w[1] in _TITLES), default=0)
    rest = span[titled:]
    while rest and rest[0][1] in _CONNECTORS:
        rest = rest[1:]
    if titled and (len(rest) > 1 or (len(rest) == 1 and span[titled - 1][1] in _HONORIFICS)):
        return rest
    return span if rest else []  # titles alone ("President", "Prime Minister") name no one


def _count_phrases(
    words: list[Word],
    sentence: int,
    stopwords: frozenset[str],
    recurring: set[str],
    found: dict[tuple[str, ...], _Candidate],
    *,
    english: bool,
) -> None:
    """Count the phrases of one run of words that are not names: 1-3 recurring words, none capitalised but a
    sentence's first, neither starting nor ending with a stopword nor holding one inside. In English a lone
    word in -ed is a verb, not a subject ("warned")."""
    n = len(words)
    for i, first in enumerate(words):
        low = first[1]
        if first[2] or low in stopwords or low not in recurring or low in _BOILERPLATE or len(low) < 2:
            continue
        if not (english and low.endswith("ed")):
            _add(found, words[i : i + 1], sentence, name=False)
        for j in range(i + 2, min(i + MAX_WORDS, n) + 1):
            last = words[j - 1][1]
            if words[j - 1][2] or last not in recurring or last in _BOILERPLATE:
                break
            if last in stopwords:
                if j - i == MAX_WORDS - 1 and last in _CONNECTORS:
                    continue  # the middle of "dépôt de tramway", "rule of law"
                break
            _add(found, words[i:j], sentence, name=False)


def _needed(cand: _Candidate) -> int:
    """Occurrences a candidate needs: a name or a phrase recurs, a lone common word recurs thrice; one in the
    title need occur only once in the text, a lone common word twice."""
    name_or_phrase = len(cand.words) > 1 or _is_proper(cand)
    if cand.in_title:
        return 1 if name_or_phrase else 2
    return 2 if name_or_phrase else 3


def _is_proper(cand: _Candidate) -> bool:
    """Written as a name more often than in lowercase (a sentence's first word says neither)."""
    return cand.proper > cand.lowered


def _merge_forms(found: Iterable[_Candidate]) -> list[_Candidate]:
    """One candidate per singular form: "Palestinian" and "Palestinians" count together."""
    merged: dict[tuple[str, ...], _Candidate] = {}
    for cand in found:
        key = tuple(_singular(w) for w in cand.words)
        into = merged.get(key)
        if into is None:
            merged[key] = cand
            continue
        if cand.count > into.count:
            into.surface, into.words = cand.surface, cand.words
        into.count += cand.count
        into.proper += cand.proper
        into.lowered += cand.lowered
        into.first = min(into.first, cand.first)
        into.in_title = into.in_title or cand.in_title
    return list(merged.values())


def _fold_surnames(found: list[_Candidate]) -> None:
    """A lone name that ends a longer name ("Johnson" of "Boris Johnson") is that name said short: its count goes
    to the name (the most frequent, the shortest of equals, if several end with it) and the word is dropped.
    Before that, a name less frequent than the name it ends with is a title and that name: "Mayor Ana Ruiz"."""
    by_words = {cand.words: cand for cand in found}
    names: dict[str, _Candidate] = {}
    for cand in found:
        if len(cand.words) > 1 and _is_proper(cand):
            best = names.get(cand.words[-1])
            if best is None or (cand.count, -len(cand.words)) > (best.count, -len(best.words)):
                names[cand.words[-1]] = cand
    for cand in found:
        # "Mayor Ana Ruiz" said once, where "Ana Ruiz" is said as often: a title the trimming did not know.
        short = by_words.get(cand.words[1:]) if len(cand.words) > 2 and _is_proper(cand) else None
        if short is not None and len(short.words) > 1 and _is_proper(short) and cand.count <= short.count:
            short.count += cand.count
            short.proper += cand.proper
            short.first = min(short.first, cand.first)
            cand.count = 0
    for cand in found:
        if len(cand.words) == 1 and _is_proper(cand) and (full := names.get(cand.words[0])):
            full.count += cand.count
            full.proper += cand.proper
            full.lowered += cand.lowered
            full.first = min(full.first, cand.first)
            cand.count = 0
    found[:] = [c for c in found if c.count]


def _score(cand: _Candidate, *, single_names: bool) -> float:
    position = 1.0 + 1.0 / (1 + cand.first)  # the lead's terms (first sentences) count up to twice
    proper = _is_proper(cand) and (single_names or len(cand.words) > 1)
    return (
        (cand.count + TITLE_COUNT * cand.in_title)
        * position
        * LENGTH_WEIGHT[min(len(cand.words), MAX_WORDS)]
        * (PROPER_WEIGHT if proper else 1.0)
    )


def _fold_inner(kept: list[_Candidate]) -> list[_Candidate]:
    """Drop a candidate that mostly occurs inside one longer candidate ("climate" in "climate change")."""
    longer = [c for c in kept if len(c.words) > 1]
    return [
        c
        for c in kept
        if not any(
            len(o.words) > len(c.words) and o.count >= INSIDE_SHARE * c.count and _inside(c.words, o.words)
            for o in longer
        )
    ]


def _pick(kept: list[_Candidate], limit: int) -> list[_Candidate]:
    """The best candidates, none inside another that was picked."""
    picked: list[_Candidate] = []
    for cand in sorted(kept, key=lambda c: (-c.score, c.first)):
        if len(picked) == limit:
            break
        if not any(_inside(cand.words, p.words) or _inside(p.words, cand.words) for p in picked):
            picked.append(cand)
    return picked


def _display(cand: _Candidate) -> str:
    return cand.surface if _is_proper(cand) or not cand.lowered else cand.surface.lower()


def _inside(short: Sequence[str], long: Sequence[str]) -> bool:
    """Whether `short` is a run of consecutive words of `long` (a phrase is inside itself)."""
    n = len(short)
    return any(tuple(long[i : i + n]) == tuple(short) for i in range(len(long) - n + 1))


# --- merging ----------------------------------------------------------------------------------------------------

_INNER_DOT = re.compile(r"(?<=\w)\.(?=\w)|(?<=\b\w)\.$")


def _singular(word: str) -> str:
    """A rough singular for a key only (so both forms must map alike, not be correct): elections -> election,
    policies/policy -> polici, matches -> match; short words, "-ss", "-us", "-is" are left alone."""
    if word[-1] not in "sye" or len(word) <= 3 or not word.isalpha() or word in _INVARIANT:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "i"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("ie"):
        return word[:-1]
    if len(word) > 4 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "i"
    return word


_INVARIANT = frozenset(("news", "series", "species", "means", "always", "perhaps"))


def normalise_tag(tag: str) -> str:
    """The key two tags are one by: words of its slug (case, accents, punctuation and spacing folded, as the
    tag pages do), each made singular: "Elections" and "election" are "election"; "U.S." and "US" are "us"."""
    slug = slugify(_INNER_DOT.sub("", tag.strip()))
    return " ".join(_singular(word) for word in slug.split("-"))


def _casing_rank(name: str) -> int:
    """How well a name is written: "Boris Johnson" and "NATO" (2) over "boris johnson" (1) over "BORIS JOHNSON"."""
    letters = [c for c in name if c.isalpha()]
    if any(c.isupper() for c in letters) and any(c.islower() for c in letters):
        return 2
    if all(c.isupper() for c in letters):
        return 2 if len(letters) <= 5 else 0
    return 1


def _clean(tag: str) -> str:
    name = collapse_whitespace(tag).strip(" #;,.:")
    ok = name and len(name) <= MAX_TAG_CHARS and any(c.isalpha() for c in name)
    return name if ok else ""


def article_tags(
    *,
    publisher: Sequence[str],
    entities: Sequence[str],
    keyphrases: Sequence[str],
    limit: int = 10,
) -> list[str]:
    """At most `limit` tags: the publisher's first (editors chose them), then the entities, then the keyphrases.

    A tag the same as one before it (by `normalise_tag`) is dropped, its spelling kept if better cased. An entity
    or keyphrase whose words run inside an earlier entity or keyphrase ("Johnson" after "Boris Johnson") is
    dropped too, and so is a single word inside a publisher's tag; but "Boris Johnson" stays beside the
    publisher's "Boris Johnson resignation", which its tag page would not list with him."""
    names: list[str] = []
    keys: list[tuple[str, ...]] = []
    ranks: list[int] = []
    for rank, tags in enumerate((publisher, entities, keyphrases)):
        for raw in tags:
            if not (name := _clean(raw)):
                continue
            key = tuple(normalise_tag(name).split())
            if key in keys:
                at = keys.index(key)
                if _casing_rank(name) > _casing_rank(names[at]):
                    names[at] = name
                continue
            if rank and any(
                (other_rank or len(key) == 1) and _inside(key, other)
                for other, other_rank in zip(keys, ranks, strict=True)
            ):
                continue
            if len(names) < limit:
                names.append(name)
                keys.append(key)
                ranks.append(rank)
    return names


# --- word lists ---------------------------------------------------------------------------------------------------

# Function words, reporting verbs, weekdays, months and time words: none starts or ends a key phrase.
# fmt: off
_STOPWORD_TEXT = {
    "en": """a about above across after again against ago ahead all almost along already also although always am
        among an and another any anyone anything are around as at away back be because been before being below
        between both but by can cannot could did do does doing done down during each either else even ever every
        few for former from further get gets getting go goes going gone got had has have having he her here hers
        herself him himself his how however i if in including inside instead into is it its itself just last
        least less like made make makes many may me meanwhile might more most mostly much must my myself near
        nearly neither never next no nor not now of off often on once one only onto or other others our ours
        out over own per perhaps quite rather really same several shall she should since so some something
        soon still such than that the their theirs them themselves then there these they thing things this
        those though three through thus to together too took toward towards two under until up upon us very
        via was way we well were what whether which while who whom whose why will with within without would
        yet you your yours yourself mr mrs ms dr st prof sir said says say saying told tell tells telling
        according added asked announced reported claimed stated described believed think thought know known
        told want wanted see seen come came take taken give given put set used use using year years month months
        week weeks day days today yesterday tomorrow tonight morning evening afternoon night time times monday
        tuesday wednesday thursday friday saturday sunday january february march april june july august
        september october november december people lot lots part first second third new recent recently
        earlier later where when there here i'm i've i'd i'll it's that's he's she's they're we're don't
        doesn't didn't isn't wasn't can't won't four five six seven eight nine ten eleven twelve twenty
        thirty forty fifty hundred hundreds thousand thousands million millions billion billions dozen dozens
        half found left went began become became held kept met paid ran saw sent brought caught felt heard
        led meant spent stood wrote let help want need needs called call calls says mean means look looks
        tried try trying seemed seems seem told feel lately following including certain really""",
    "de": """aber alle allem allen aller alles als also am an ander andere anderen anders auch auf aus bei beim bereits
        bin bis bisher bist da dabei dadurch dafür dagegen daher damit dann daran darauf darum das dass davon
        dazu dem den denen denn der deren des deshalb dessen die dies diese diesem diesen dieser dieses doch dort
        du durch ein eine einem einen einer eines einige einmal er es etwa euch euer für gegen gewesen hab habe
        haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren ihrer im immer in indem
        ins ist ja jede jedem jeden jeder jedes jedoch jetzt kann kein keine keinem keinen keiner können könnte
        laut man mehr mein meine mit muss musste nach nachdem nicht nichts noch nun nur ob oder ohne schon sehr
        sei seien sein seine seinem seinen seiner seit sich sie sind so sollen soll sollte sondern sowie über
        um und uns unser unter viel viele vom von vor wann war waren warum was weil weiter welche welchem welchen
        welcher wenn wer werden wie wieder will wir wird wo wollen worden wurde wurden zu zum zur zwar zwei
        zwischen sagte sagt sagten erklärte betonte teilte mitteilte heute gestern morgen jahr jahre jahren
        monat woche tag tage tagen uhr montag dienstag mittwoch donnerstag freitag samstag sonntag januar
        februar märz april mai juni juli august september oktober november dezember herr frau prozent""",
    "fr": """à afin ai aient aille ainsi alors après as au aucun aucune aujourd aussi autre autres aux avait avaient
        avant avec avez avoir c ça car ce ceci cela celle celles celui cependant ces cet cette ceux chaque chez
        comme comment d dans de depuis des deux devant doit donc dont du elle elles en encore entre est et été
        être eu eux fait faire fois font hier il ils j je jusqu jusque l la là le les leur leurs lors lorsque
        lui m ma mais me même mes moi moins mon n ne ni nos notre nous on ont ou où par parce pas pendant peu
        peut plus plusieurs pour pourquoi qu quand que quel quelle quelles quels qui s sa sans se selon ses si
        sien son sont sous sur t ta te tes toi ton toujours tous tout toute toutes très trop tu un une vers
        vos votre vous y dit déclaré affirmé estimé explique expliqué indiqué annoncé an ans année années mois
        semaine jour jours lundi mardi mercredi jeudi vendredi samedi dimanche janvier février mars avril mai
        juin juillet août septembre octobre novembre décembre m mme monsieur madame""",
    "es": """a al algo algunos ante antes como con contra cual cuando de del desde donde durante e el él ella ellas
        ellos en entre era eran es esa esas ese eso esos esta está están estas este esto estos fue fueron ha han
        hasta hay la las le les lo los más me mi mientras muy nada ni no nos o os otra otras otro otros para pero
        poco por porque que qué quien quienes se sea ser si sí sido sin sobre su sus también tan tanto te tiene
        tienen todo todos tras tu un una uno unos y ya dijo afirmó aseguró explicó señaló indicó según año años
        mes meses semana día días hoy ayer lunes martes miércoles jueves viernes sábado domingo enero febrero
        marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre sr sra""",
    "it": """a ad agli ai al alla alle allo anche ancora che chi ci come con contro cui da dai dal dalla dalle degli
        dei del della delle dello di dopo e è ed era erano essere gli ha hanno i il in io la le lei lo loro lui
        ma mentre mi molto ne negli nei nel nella nelle nello no noi non nostro o per perché più poi però quale
        quando quanto quella quelle quelli quello questa queste questi questo se sarà sei si sia siamo sono
        stato su sua sue sui sul sulla suo suoi tra tutti tutto un una uno detto dice ha detto spiegato
        secondo anno anni mese settimana giorno giorni oggi ieri lunedì martedì mercoledì giovedì venerdì sabato
        domenica gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre""",
    "pt": """a à ao aos as às até com como da das de dela dele deles depois do dos e é ela elas ele eles em entre era
        essa esse esta está estão este eu foi foram há isso isto já la lhe mais mas me mesmo muito na nas não nem
        no nos nós num numa o os ou para pela pelas pelo pelos por porque quando que quem se sem ser seu seus
        só sobre sua suas também te tem têm um uma umas uns vai disse afirmou explicou segundo ano anos mês
        semana dia dias hoje ontem segunda terça quarta quinta sexta sábado domingo janeiro fevereiro março
        abril maio junho julho agosto setembro outubro novembro dezembro""",
    "nl": """aan al alle als bij dan dat de deze die dit door een en er had heb heeft hem het hij hoe hun ik in is je
        kan kon maar me meer met mij naar niet nog nu of om omdat ook op over te tegen toen tot u uit van veel
        voor want was wat we wel werd werden wie wij wil worden wordt zal ze zei zegt zich zij zijn zo zou
        volgens jaar jaren maand week dag dagen vandaag gisteren maandag dinsdag woensdag donderdag vrijdag
        zaterdag zondag januari februari maart april mei juni juli augustus september oktober november
        december""",
}
# fmt: on
_STOPWORDS = {lang: frozenset(words.split()) for lang, words in _STOPWORD_TEXT.items()}
_ALL_STOPWORDS = frozenset().union(*_STOPWORDS.values())
# Lowercase words that join the parts of a name: "Bank of England", "Charles de Gaulle", "Vincent van Gogh".
# Not "and": "Sierra Leone and Liberia" are two names far more often than "Bosnia and Herzegovina" is one.
_CONNECTORS = frozenset(("of", "de", "du", "des", "la", "le", "del", "della", "di", "da", "do", "dos", "das",
                         "van", "von", "der", "den"))  # fmt: skip
# Never part of a tag: credits, wire agencies, page furniture ("Shutterstock", "(CNN)", "Read more"); and names
# that are credits ("Getty Images", not "Gordon Getty").
_BOILERPLATE_NAMES = frozenset((("getty", "images"), ("associated", "press"), ("press", "association"),
                                ("daily", "mail"), ("mail", "online"), ("pa", "media"), ("pa", "wire")))  # fmt: skip
_BOILERPLATE = frozenset(("shutterstock", "alamy", "reuters", "afp", "ap", "dpa", "ansa", "efe", "lusa",
                          "anp", "cnn", "reporter", "reporters", "correspondent", "copyright", "photo", "photos",
                          "photograph", "pictured", "caption", "click", "subscribe", "newsletter", "advertisement",
                          "read", "updated", "published", "foto", "bild", "mailonline"))  # fmt: skip
# Job titles and honorifics in front of a name, dropped from it: "Foreign Minister Ana Ruiz" is "Ana Ruiz". They
# go only when two words of name are left ("State Department" stays whole), or one after an honorific
# ("President Okafor" is "Okafor").
_HONORIFICS = frozenset(("mr", "mrs", "ms", "miss", "dr", "sir", "dame", "lord", "lady", "president", "pm",
                         "senator", "sen", "rep", "gov", "governor", "king", "queen", "prince", "princess", "pope",
                         "judge", "gen", "general", "herr", "frau", "m", "mme", "señor", "señora", "sr", "sra",
                         "presidente", "präsident", "präsidentin", "président", "présidente", "premier"))  # fmt: skip
# Short forms written with a full stop, which ends the run of words: "Gov[.] Asa Hutchinson".
_ABBREVIATED = frozenset(("mr", "mrs", "ms", "dr", "gov", "sen", "rep", "gen", "lt", "col", "sgt", "capt", "prof",
                          "st", "jr", "sr", "m", "mme", "sra"))  # fmt: skip
_TITLES = _HONORIFICS | frozenset((
    "secretary", "state", "minister", "prime", "foreign", "home", "interior", "defence", "defense", "finance",
    "health", "vice", "deputy", "assistant", "chief", "executive", "chancellor", "attorney", "justice",
    "representative", "congressman", "congresswoman", "councillor", "councilman", "mayor", "ambassador",
    "commissioner", "officer", "detective", "sergeant", "sgt", "lt", "col", "colonel", "captain", "capt",
    "major", "admiral", "coach", "manager", "director", "chairman", "chairwoman", "chair", "ceo", "founder",
    "spokesman", "spokeswoman", "spokesperson", "professor", "prof", "doctor", "leader", "former", "late",
    "actor", "actress", "singer", "star", "agent", "special", "striker", "midfielder", "defender", "goalkeeper", "bundeskanzler",
    "kanzler", "kanzlerin", "ministerin", "ministre", "ministro", "ministra", "staatssekretär", "bürgermeister",
    "maire", "alcalde", "sindaco", "burgemeester", "bürgermeisterin", "župan", "županja", "predsednik",
    "predsednica", "ministrica", "premierminister", "staatssekretärin", "premiê", "primeiro", "primer", "ministerpräsident",
))  # fmt: skip
