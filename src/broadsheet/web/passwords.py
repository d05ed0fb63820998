"""The slow password hashes of signing in and up, on threads of their own so that a burst of sign-ins cannot
starve the pages. Owns the queue; not the hashing itself (`readers/passwords.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import HTTPException

__all__ = ["BUSY", "PasswordWork"]

BUSY = "The server is busy checking other sign-ins; try again in a few seconds."
T = TypeVar("T")


NICENESS = 10  # how much lower than the page threads the password threads run (Linux: per thread)


def _yield_to_pages() -> None:
    """Run this password thread at a lower CPU priority: when sign-ins and page reads want the same cores, the
    pages go first (argon2 runs outside the interpreter lock, so the scheduler's priority is what decides).
    Where threads cannot have their own priority, nothing changes."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)


class PasswordWork:
    """Password hashes (argon2id, deliberately ~35 ms of CPU and 19 MiB each) on threads of their own, a few
    waiting at most: a burst of sign-ins queues here, or is told to come back, while the page threads go on
    serving readers."""

    def __init__(self, threads: int = 1, max_waiting: int = 16) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="password", initializer=_yield_to_pages)
        self._waiting = 0  # counted on the event loop's thread only
        self.max_waiting = threads + max_waiting

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on a password thread; HTTPException 503 when too many are already waiting."""
        if self._waiting >= self.max_waiting:
            raise HTTPException(503, BUSY, {"Retry-After": "5"})
        self._waiting += 1
        try:
            return await asyncio.wrap_future(self._pool.submit(work))
        finally:
            self._waiting -= 1

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._pool.shutdown(wait=False, cancel_futures=True)
