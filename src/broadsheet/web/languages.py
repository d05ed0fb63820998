"""Languages as readers see them: an article's language code shown by the language's own name, marked up so
that screen readers read it (and headlines in it) in that language. Detection is enrich/language.py's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Query
from markupsafe import Markup, escape

from broadsheet.text import primary_language

__all__ = ["NAMES", "LangFilter", "Language", "label", "lang_attribute", "language_name", "languages_of"]

#: A language filter in a page's query (`?lang=pt`); anything else is answered 400 like any bad parameter.
LangFilter = Annotated[
    str | None, Query(max_length=16, pattern=r"^[A-Za-z-]+$", description="An ISO 639-1 code: en, pt, de...")
]

# Each language by its own name, as a reader of that language looks for it in a list (the codes
# enrich/language.py detects, and Norwegian Bokmål, which publishers declare).
NAMES = {
    "af": "Afrikaans", "ar": "العربية", "az": "Azərbaycanca", "be": "Беларуская", "bg": "Български",
    "bn": "বাংলা", "bs": "Bosanski", "ca": "Català", "cs": "Čeština", "cy": "Cymraeg", "da": "Dansk",
    "de": "Deutsch", "el": "Ελληνικά", "en": "English", "eo": "Esperanto", "es": "Español", "et": "Eesti",
    "eu": "Euskara", "fa": "فارسی", "fi": "Suomi", "fr": "Français", "ga": "Gaeilge", "gl": "Galego",
    "he": "עברית", "hi": "हिन्दी", "hr": "Hrvatski", "hu": "Magyar", "hy": "Հայերեն", "id": "Bahasa Indonesia",
    "is": "Íslenska", "it": "Italiano", "ja": "日本語", "ka": "ქართული", "kk": "Қазақша", "ko": "한국어",
    "lt": "Lietuvių", "lv": "Latviešu", "mk": "Македонски", "ml": "മലയാളം", "mn": "Монгол", "mr": "मराठी",
    "ms": "Bahasa Melayu", "mt": "Malti", "nb": "Norsk bokmål", "nl": "Nederlands", "nn": "Norsk nynorsk",
    "no": "Norsk", "pa": "ਪੰਜਾਬੀ", "pl": "Polski", "ps": "پښتو", "pt": "Português", "ro": "Română",
    "ru": "Русский", "si": "සිංහල", "sk": "Slovenčina", "sl": "Slovenščina", "sq": "Shqip", "sr": "Српски",
    "sv": "Svenska", "sw": "Kiswahili", "ta": "தமிழ்", "te": "తెలుగు", "th": "ไทย", "tl": "Tagalog",
    "tr": "Türkçe", "uk": "Українська", "ur": "اردو", "uz": "Oʻzbekcha", "vi": "Tiếng Việt", "zh": "中文",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Language:
    """One language of a list's articles, as its filter offers it."""

    code: str  # as stored on the articles, what `?lang=` names
    name: str
    count: int


def language_name(code: str) -> str:
    """The language's own name ("pt-BR" -> "Português"); the code itself for one not in NAMES, "" for a value
    that is not a language tag."""
    primary = primary_language(code)
    return NAMES.get(primary, primary)


def label(code: str) -> Markup:
    """The language's name marked with its code (`lang`), and isolated (`dir`) so that a right-to-left name
    does not reorder the text around it; empty for an unknown language."""
    primary = primary_language(code)
    if not primary:
        return Markup("")
    return Markup(
        f'<span class="lang" lang="{escape(primary)}" dir="auto">{escape(language_name(code))}</span>'
    )


def lang_attribute(code: str, page_language: str) -> Markup:
    """` lang="xx"` for an element whose text is in language `code` when that is not the page's; else empty."""
    primary = primary_language(code)
    if not primary or primary == primary_language(page_language):
        return Markup("")
    return Markup(f' lang="{escape(primary)}"')


def languages_of(counts: dict[str, int]) -> list[Language]:
    """Articles per language code (`StoryStore.languages`) as a filter lists them: most articles first, values
    that are not language tags left out."""
    found = [Language(code, language_name(code), n) for code, n in counts.items() if primary_language(code)]
    return sorted(found, key=lambda lang: (-lang.count, lang.name))
