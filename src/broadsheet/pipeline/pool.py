"""The crawl's extraction processes: a pool whose workers die with the crawler.

Owns starting and restarting worker processes; not what they run (extract/) or when (pipeline.crawl).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Literal

__all__ = ["StartMethod", "extraction_pool"]

# "fork" shares the already-imported extractor; a process with threads of its own (the web server) uses
# "forkserver", whose workers start from a clean, single-threaded process.
StartMethod = Literal["fork", "forkserver"]


def _die_with_parent(parent: int | None) -> None:
    """Worker initializer: on Linux, ask the kernel to kill this worker when its parent dies, so a crawler
    killed with SIGKILL leaves no orphaned extraction processes behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def extraction_pool(workers: int, start_method: StartMethod = "fork") -> Executor:
    """Extraction is CPU-bound: in worker processes it runs beside the event loop instead of fighting it for
    the GIL."""
    context = multiprocessing.get_context(start_method)
    if start_method == "forkserver":
        context.set_forkserver_preload(["broadsheet.extract"])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_die_with_parent,
        # a forkserver's workers are its children, not ours; it exits when we do
        initargs=(os.getpid() if start_method == "fork" else None,),
    )
