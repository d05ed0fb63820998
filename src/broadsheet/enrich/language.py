"""An article's language, detected from its title and text with py3langid (a naive Bayes model in the wheel).

Owns detection only: a publisher's declared language is the caller's to weigh, storing the result the store's.
"""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["LANGUAGES", "detect_language", "load_identifier"]

# ISO 639-1 codes of the languages widely published as news on the web. The model knows 140, among them
# regional languages and pidgins whose headlines look like a big neighbour's: allowed in, they take English
# headlines for Nigerian Pidgin and Spanish or Portuguese ones for Extremaduran or Aragonese (bench/enrich.py).
LANGUAGES = (
    "af", "ar", "az", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "eo", "es", "et",
    "eu", "fa", "fi", "fr", "ga", "gl", "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "ka", "kk",
    "ko", "lt", "lv", "mk", "ml", "mn", "mr", "ms", "mt", "nl", "nn", "no", "pa", "pl", "ps", "pt", "ro",
    "ru", "si", "sk", "sl", "sq", "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "uz", "vi",
    "zh",
)  # fmt: skip
MIN_LETTERS = 8  # fewer letters than this ("OK", "COVID-19") say too little about a language
MIN_CONFIDENCE = 0.1  # the model's probability, tempered by the text's length; below it, no answer
MAX_CHARS = (
    1200  # of the text, after the title: enough to decide (a few paragraphs), and the cost grows with length
)
MIXED_SHARE = 0.6  # the winning language must cover this share of the letters of the sample's paragraphs
CHUNK_LETTERS = 40  # paragraphs shorter than this are not judged on their own


def detect_language(title: str, text: str) -> str:
    """The ISO 639-1 code of the language `title` and `text` are written in, or "" when unsure: too few
    letters to tell, a low probability, or paragraphs in different languages with none clearly the main one."""
    sample = "\n".join(part for part in (title.strip(), text[:MAX_CHARS].strip()) if part)
    if _letters(sample) < MIN_LETTERS:
        return ""
    identifier = load_identifier()
    language, confidence = identifier.classify(sample)
    if confidence < MIN_CONFIDENCE:
        return ""
    chunks = [line for line in sample.splitlines() if _letters(line) >= CHUNK_LETTERS]
    if len(chunks) >= 2:
        weights: dict[str, int] = {}
        for chunk in chunks:
            chunk_language = identifier.classify(chunk)[0]
            weights[chunk_language] = weights.get(chunk_language, 0) + _letters(chunk)
        if weights.get(language, 0) < MIXED_SHARE * sum(weights.values()):
            return ""
    return str(language)


def _letters(text: str) -> int:
    return sum(map(str.isalpha, text))


@cache
def load_identifier() -> Any:
    """The model, loaded once per process (on first use, or ahead of it by a caller that loads its models
    together) and restricted to LANGUAGES."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages([code for code in LANGUAGES if code in identifier.labels])
    return identifier
