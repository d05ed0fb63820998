"""The `broadsheet` console script: runs the command tree in `commands/` and turns errors into one clear line.

Errors a user can act on print as `error: ...` on stderr with exit status 1; Ctrl-C and SIGTERM exit 130.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

from rich.text import Text

from broadsheet.commands import app
from broadsheet.commands.common import err
from broadsheet.errors import BroadsheetError

__all__ = ["main"]


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM behaves like Ctrl-C: committed work is kept, the rest stops cleanly. (`crawl` installs its own
    # handlers for a graceful stop of the polling loop.)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except BroadsheetError as exc:
        err.print(Text.assemble(("error:", "bold red"), f" {exc}"))
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; everything already stored is kept")
        sys.exit(130)
