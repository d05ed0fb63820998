"""Extraction: publisher HTML in, clean article text, sanitised HTML and metadata out (`extract_article`).

Fetching the page and storing the result belong to other steps; this package does no I/O.
"""

from __future__ import annotations

from broadsheet.extract.article import extract_article
from broadsheet.extract.sanitize import sanitize_html

__all__ = ["extract_article", "sanitize_html"]
