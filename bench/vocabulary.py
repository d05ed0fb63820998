"""Invented vocabulary shared by the benchmarks that generate articles (ingest, web)."""

from __future__ import annotations

__all__ = ["WORDS"]

# fmt: off
WORDS: list[str] = ["council", "harbour", "river", "station", "minister", "budget", "vote", "bridge", "storm", "school", "hospital", "market", "union", "rail", "court", "police", "museum", "festival", "farmers", "election", "airport", "energy", "water", "housing", "tax", "report", "season", "coach", "league", "village", "mayor", "plan", "study", "scientists", "company", "workers", "strike", "prices", "road", "weather", "fire", "rescue", "island", "coast", "valley", "city", "region", "border", "trade", "talks", "agreement", "officials", "residents", "protest", "delay", "repair", "record", "year", "library", "ferry", "orchard", "tram", "chess", "wind", "solar", "grid", "theatre", "opera", "stadium", "marathon", "bakery", "vineyard"]
# fmt: on
