"""Boilerplate phrases publishers put around articles, as regular expressions, in the languages broadsheet meets
most (English, German, French, Spanish, Portuguese, Italian, Dutch).

Owns the vocabulary only; when a block is short enough for a phrase to condemn it is decided in `clean.py`.
"""

from __future__ import annotations

import re

__all__ = [
    "BYLINE_RE",
    "CREDITS",
    "DATE_LABEL_RE",
    "DATE_RE",
    "NAVIGATION_RE",
    "PROMPTS",
    "READ_ALSO_RE",
    "RELATED_RE",
    "Guarded",
]

_I = re.I | re.U

# "By Jane Doe", "Von Max Muster | 3. März", "Par Jean Dupont", "Por Ana Ruiz": a byline line.
BYLINE_RE = re.compile(r"^(?i:by|von|par|por|door|di)\s*:?\s+[A-ZÀ-ÖØ-Þ][\w'’.-]*(?:\s+\S+){0,8}$")

# A heading that introduces teasers for other stories ("Related articles", "Mehr zum Thema", "À lire aussi").
RELATED_RE = re.compile(
    r"^(?:"
    r"related(?:\s+(?:articles?|posts?|stories|content|coverage|reading|topics|links|tutorials|news))?"
    r"|(?:more|other|latest|recent|top|popular|recommended|trending)\s+(?:stories|articles|posts|news|reads)\b.*"
    r"|(?:read|see)\s+(?:more|also|next)|more\s+(?:on|about|from)\s+(?:this|the)\b.*|recommended(?:\s+for\s+you)?"
    r"|you\s+(?:may|might)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)"
    r"|(?:previous|next)\s+(?:article|post|story)|(?:vorherige[rs]?|nächste[rs]?)\s+(?:artikel|beitrag)\b.*"
    r"|vorschau\s+auf\s+den\s+nächsten\s+artikel|article\s+(?:précédent|suivant)"
    r"|(?:das|dies)(?:\s+\w+)?\s+könnte\s+(?:sie|dich|euch)\s+(?:auch\s+)?interessieren|auch\s+interessant"
    r"|(?:lesen\s+sie|lies)\s+(?:auch|mehr|weiter)\b.*|mehr\s+zum\s+thema\b.*|(?:weitere|ähnliche|verwandte)(?:\s+\w+)?\s+"
    r"(?:artikel|beiträge|themen|nachrichten|meldungen|news|geschichten)\b.*|empfohlene\s+(?:artikel|beiträge)"
    r"|mehr\s+(?:themen|artikel|beiträge|nachrichten)|more\s+(?:topics|headlines)|schon\s+gelesen|zum\s+weiterlesen|passend\s+(?:dazu|zum\s+thema)|meistgelesen\w*|top[- ]themen\b.*"
    r"|(?:à|a)\s+lire\s+(?:aussi|également)|lire\s+aussi|sur\s+le\s+même\s+sujet|articles?\s+similaires"
    r"|dans\s+la\s+même\s+rubrique|(?:notas?|noticias|artículos|contenidos?|temas)\s+relacionad[oa]s"
    r"|contenido\s+relacionado|te\s+puede\s+interesar|también\s+te\s+puede\s+interesar|más\s+(?:noticias|sobre)\b.*"
    r"|(?:leia|veja)\s+(?:também|mais)|(?:matérias|notícias)\s+relacionadas|leggi\s+anche|potrebbe\s+interessarti"
    r"|articoli\s+correlati|lees\s+ook|gerelateerde\s+artikelen"
    r")\s*[:.!?»›>]*$",
    _I,
)

# An inline "read also" line: the marker, punctuation, then a headline (mid-article links to other stories).
READ_ALSO_RE = re.compile(
    r"^[\W_]{0,3}(?:"
    r"read\s+(?:also|more|next)|also\s+read|see\s+also|related|more|watch|"
    r"lesen\s+sie\s+(?:auch|hier|mehr)|auch\s+lesen|lies\s+auch|mehr\s+dazu|mehr\s+zum\s+thema|siehe\s+auch|"
    r"(?:à\s+|a\s+)?lire\s+(?:aussi|également)|voir\s+aussi|"
    r"le[ae]\s+(?:también|más|además)|lea|ver\s+también|vea\s+también|puedes\s+ver|(?:te|le)\s+puede\s+interesar|"
    r"mira|mire|leia\s+(?:também|mais)|veja\s+(?:também|mais)|saiba\s+mais|leggi\s+anche|lees\s+ook"
    r")\s*[:»›>|–-]\s*\S.*$"
    r"|^>>.{10,200}<<$",  # a teaser link set off by chevrons
    _I,
)


class Guarded:
    """Patterns each guarded by a lowercase literal that every match contains.

    One regex of eighty alternatives costs ~0.3 ms per paragraph in Python's engine; a substring test per
    keyword first, and the regex only on a hit, costs a few microseconds.
    """

    def __init__(self, entries: tuple[tuple[str, str], ...]) -> None:
        self._entries = tuple((keyword, re.compile(pattern, _I)) for keyword, pattern in entries)

    def search(self, text: str) -> bool:
        lowered = text.lower()
        return any(keyword in lowered and regex.search(text) for keyword, regex in self._entries)


# Newsletter, subscription, paywall, donation, comment, social-media and app prompts; disclosures and notices.
PROMPTS = Guarded(
    (
        ("newsletter", r"newsletter"),
        ("subscri", r"\bsubscribe\b|\bsubscriber\b"),
        ("sign", r"\bsign\s+up\b"),
        ("log", r"\blog\s*in\s+(?:to|for)\b"),
        ("donate", r"\bdonate\b"),
        ("support", r"\bsupport(?:ing)?\s+(?:our|us)\b"),
        (
            "follow",
            r"\bfollow\s+(?:us|\w+\s+on|[\w\s]{1,30}?\s+on\s+(?:twitter|facebook|instagram|linkedin|tiktok|youtube))\b",
        ),
        ("edition", r"\bdaily\s+edition\b"),
        ("editor", r"\bletters?\s+to\s+the\s+editor\b"),
        ("compensation", r"\bwe\s+(?:may\s+)?(?:receive|earn)\s+(?:a\s+)?compensation\b"),
        ("commission", r"\bwe\s+(?:may\s+)?(?:receive|earn)\s+(?:a\s+)?commission\b"),
        ("agree", r"\byou\s+agree\s+to\s+our\b"),
        ("akzeptieren", r"\bakzeptieren\s+sie\s+unsere\b"),
        ("cancel", r"\bcancel(?:a)?\s+(?:anytime|cuando\s+quieras)\b"),
        (
            "kommentar",
            r"\bhinterlass\w*\s+(?:\w+\s+)?einen\s+kommentar\b|\bkommentare?\s+(?:insgesamt|anzeigen|schreiben)\b",
        ),
        ("kommentar", r"\bkeine\s+kommentare\b|in\s+den\s+kommentaren"),
        ("comment", r"\b(?:view|show|load|no|post\s+a|leave\s+a)\s+comments?\b|\bcommentaires?\s*\(\d+\)"),
        ("inhalt", r"\bum\s+den\s+inhalt\s+.{0,40}zu\s+laden\b|\bexterne[rn]?\s+inhalte?\b"),
        ("external", r"\bload\s+(?:the\s+)?external\s+content\b"),
        ("klicken", r"\b(?:einfach\s+)?hier\s+klicken\b"),
        ("click", r"\bclick\s+here\s+to\b"),
        ("abonn", r"\babonnieren\b|\babonnez"),
        ("jetzt", r"\bjetzt\s+(?:registrieren|anmelden|testen)\b"),
        ("eingeloggt", r"nicht\s+eingeloggt|^eingeloggt"),
        ("unterstütze", r"\bunterstütze\b"),
        ("bezahlschranke", r"\bbezahlschranke\b"),
        ("inscri", r"\binscrivez"),
        ("compte", r"créez\s+votre\s+compte"),
        ("suite", r"pour\s+lire\s+la\s+suite"),
        ("illimité", r"accéder\s+en\s+illimité"),
        ("suscr", r"suscr[íi]b|\bsuscripción\b"),
        ("guenos", r"\bs[ií]guenos\b"),
        ("miembro", r"\bhazte\s+miembro\b"),
        ("member", r"\bbecome\s+a\s+member\b"),
        ("mitglied", r"\bmitglied\s+werden\b"),
        (" an", r"\bmelden?\s+(?:sie\s+)?(?:dich|sich)\s+(?:jetzt\s+)?an\b"),
        ("gewähr", r"\bohne\s+gewähr\b"),
        ("app", r"\bdownload\s+(?:the|our)\b.{0,40}\bapps?\b"),
        ("android", r"\bios\s+(?:and|und|&|y|et)\s+android\b"),
        (":", r"^(?:tel(?:efon)?|phone|fax|e-?mail)\.?\s*:"),
        ("anspr", r"^ansprechpartner\w*\b.{0,40}$"),
        ("kontakt", r"^(?:presse)?kontakt\b.{0,40}$"),
        ("contact", r"^(?:press\s+|media\s+)?contact\b.{0,40}$"),
        ("canal", r"canal\s+de\s+(?:youtube|telegram|whatsapp)"),
        ("assin", r"\bassine\b|\bassinantes?\b"),
        ("affiliate", r"\baffiliate[- ]links?\b"),
        ("", r"^\W*(?:werbung|anzeige|advertisement|sponsored|publicidad|publicité)\s*(?:$|[:.|*–-])"),
        ("bewert", r"\bartikel\s+bewerten\b|\bbewerten\s*:"),
        ("drucken", r"rezept\s+drucken"),
        ("geladen", r"\bwird\s+geladen\b"),
        ("teilen", r"\bteilen\s+mit\s*:"),
        ("share", r"\bshare\s+this\b"),
        ("reserved", r"\ball\s+rights\s+reserved\b"),
        ("vorbehalten", r"\balle\s+rechte\s+vorbehalten\b"),
        ("réservés", r"\btous\s+droits\s+réservés\b"),
        ("reservados", r"\bderechos\s+reservados\b"),
        ("copyrighted", r"copyrighted"),
        ("b", r"\b(?:pdf|docx?|xlsx?|zip)\s*[|(,]\s*\d+(?:[.,]\d+)?\s*[kmg]i?b\b"),  # a file download line
    )
)

# Image credits and captions with a credit: "Foto: dpa", "(Photo: Reuters)", "© AFP", "Credit: ...".
CREDITS = Guarded(
    (
        ("©", r"©"),
        ("(c)", r"\(c\)\s"),
        (
            ":",
            r"\b(?:foto|fotos|photo|photos|picture|bild|bilder|image|images|titelbild|beitragsbild|credits?|"
            r"crédits?(?:\s+photos?)?|copyright|quelle|source|fuente|fonte|abbildung|abb\.|figure|fig\.|"
            r"screenshot|illustration)\s*\d{0,3}\s*:\s*\S",
        ),
        ("illustrative", r"\bimage\s+illustrative\b"),
        ("getty", r"\bgetty\s+images\b"),
        ("shutterstock", r"\bshutterstock\b"),
        ("istock", r"\bistock\b"),
        ("alliance", r"\bpicture[- ]alliance\b"),
    )
)

_MONTHS = (
    r"jan(?:uary|uar|vier)?|feb(?:ruary|ruar)?|févr(?:ier)?|mar(?:ch|s)?|märz|apr(?:il)?|avr(?:il)?|may|mai|"
    r"june?|juni|juin|july?|juli|juillet|aug(?:ust)?|août|sep(?:t(?:ember)?)?|oct(?:ober)?|okt(?:ober)?|"
    r"nov(?:ember)?|dec(?:ember)?|dez(?:ember)?|déc(?:embre)?|enero|febrero|marzo|abril|mayo|junio|julio|"
    r"agosto|septiembre|octubre|noviembre|diciembre"
)
# Dates and times as publishers print them: 2026-03-03, 03.03.2026, 3/3/26, 3. März 2026, March 3, 10:02 PM.
DATE_RE = re.compile(
    rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}(?:T[\d:.+-]+Z?)?\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b|"
    rf"\b\d{{1,2}}\.?\s+(?:{_MONTHS})\.?(?:\s+\d{{4}})?\b|\b(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?(?:\s+\d{{4}})?\b|"
    rf"\b\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*(?:[ap]\.?m\.?|uhr|h)?\b",
    _I,
)
# Words that may surround a date on a date-only line.
DATE_LABEL_RE = re.compile(
    r"\b(?:updated|published|posted|modified|last|date|on|at|am|um|uhr|stand|letzte|änderung|aktualisiert|"
    r"veröffentlicht|erstellt|categor(?:y|ies)|kategorie|rubrik|publié|mis\s+à\s+jour|le|à|actualizado|publicado|el|de|a\s+las|ore|il|"
    r"mon|tue|wed|thu|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    r"montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|cet|cest|mez|gmt|utc|[ap]m|\d+)\b",
    _I,
)

# Navigation leftovers: "Back to top", "Zurück zur Übersicht", "Retour à la liste".
NAVIGATION_RE = re.compile(
    r"^(?:back\s+to|return\s+to|go\s+to|zurück(?:\s+zu[rm]?|\s+nach)?|retour\s+(?:à|au)|volver\s+a|voltar\s+(?:ao|à)|"
    r"torna\s+(?:a|al)|terug\s+naar|nach\s+oben|to\s+top|top\s+of\s+page|(?:\W+\s*)?weiter\s+zu[mr]?)\b.{0,40}$",
    _I,
)
