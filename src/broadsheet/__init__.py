"""broadsheet: a self-hostable AI news aggregator.

The package is laid out as the pipeline: sources -> fetch -> extract -> dedupe -> store (-> serve).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
