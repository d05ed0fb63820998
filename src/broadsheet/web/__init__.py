"""The web reader: server-rendered pages, the JSON API and feeds out, on FastAPI."""

from __future__ import annotations

from broadsheet.web.app import create_app

__all__ = ["create_app"]
