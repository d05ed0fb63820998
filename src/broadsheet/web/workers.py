"""Several server processes on one port (`serve --workers N`), each with a listening socket of its own.

uvicorn's own `--workers` shares one listening socket among its processes: whichever is awake takes the next
connection, and a browser's (or a proxy's) kept-alive connection then stays with it. Under load one process
ends up doing nearly all the work: with 50 kept-alive clients and two workers, one used ten times the CPU of
the other (bench/web.py, 2026-11-26). Here each process opens its own socket on the port with SO_REUSEPORT, and
the kernel spreads new connections evenly over them. A worker that dies is started again; SIGINT or SIGTERM
stops them all, each finishing the requests it has in hand.

Where SO_REUSEPORT does not spread connections (it exists only on Linux in that sense), uvicorn's shared socket
is used instead.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from broadsheet.config import load_settings
from broadsheet.errors import WorkersFailedError
from broadsheet.web.server import ServerConfig, run, server_config

__all__ = ["balanced_sockets_supported", "run_shared_socket", "run_workers"]

log = logging.getLogger(__name__)
BACKLOG = 2048
PR_SET_PDEATHSIG = 1  # prctl(2)
STOP_SECONDS = 30.0  # how long a worker may take to finish its requests before it is killed
QUICK_EXIT_SECONDS = 10.0  # a worker gone this soon after starting failed to start (port taken, bad settings)
QUICK_EXITS = 3  # this many failed starts in a row stop the server


def balanced_sockets_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an IPv6 address, IPv4 otherwise, as uvicorn decides for one process: so `--host localhost`
    listens on 127.0.0.1 with any number of workers (the first address the resolver gives may be ::1)."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on host:port that shares the port with the other workers' sockets."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def check_port_free(host: str, port: int) -> None:
    """Raise WorkersFailedError when something listens on host:port already. The workers' sockets share the
    port with any other SO_REUSEPORT socket of this user (a second `serve` would silently take half the
    connections), so the parent first binds it alone."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed connection's TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            raise WorkersFailedError(
                f"cannot serve on {host}: no such address ({exc.strerror}); give --host an address or name of "
                "this machine (127.0.0.1, or 0.0.0.0 for every interface)"
            ) from exc
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise WorkersFailedError(
                    f"cannot serve on {host}:{port}: port already in use ({exc.strerror}); stop what listens "
                    "there or choose another port with --port"
                ) from exc
            raise WorkersFailedError(
                f"cannot serve on {host}:{port}: {exc.strerror}; give --host an address of this machine "
                "(127.0.0.1, or 0.0.0.0 for every interface)"
            ) from exc


def _die_with_parent(parent: int) -> None:
    """Ask Linux to end this worker when the process that started it dies, however it dies (a SIGKILLed
    parent would otherwise leave workers serving the port, and a restarted server would share it with them)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM) != 0 or os.getppid() != parent:
        os._exit(1)  # could not ask, or the parent is already gone


def _worker(factory: str, host: str, port: int, log_level: str, parent: int) -> None:
    _die_with_parent(parent)
    sock = listening_socket(host, port)
    # Settings from BROADSHEET_*, as the app reads them (app_from_environment): the parent set the home.
    run(server_config(factory, load_settings(), factory=True, log_level=log_level), sockets=[sock])


def run_shared_socket(config: ServerConfig) -> None:
    """uvicorn's own `config.workers` processes sharing one listening socket, where SO_REUSEPORT does not
    spread connections; each worker gets its own copy of the config, with its own connection counts."""
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[config.bind_socket()]).run()


def run_workers(factory: str, host: str, port: int, workers: int, log_level: str) -> None:
    """Run `workers` processes serving the app `factory` ("module:function") on host:port until SIGINT or
    SIGTERM; a worker that exits on its own is replaced."""
    check_port_free(host, port)
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()

    started: dict[int, float] = {}
    quick_exits = 0

    def start() -> BaseProcess:
        process = context.Process(
            target=_worker, args=(factory, host, port, log_level, os.getpid()), daemon=False
        )
        process.start()
        started[id(process)] = time.monotonic()
        return process

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if process.is_alive():
                    continue
                lived = time.monotonic() - started.pop(id(process))
                quick_exits = quick_exits + 1 if lived < QUICK_EXIT_SECONDS else 0
                if quick_exits >= QUICK_EXITS:
                    raise WorkersFailedError(
                        f"server workers exited {quick_exits} times within {QUICK_EXIT_SECONDS:.0f} s of "
                        "starting (see the errors above: is the port already in use?)"
                    )
                log.warning("server worker %s exited with status %s; starting another", process.pid,
                            process.exitcode)  # fmt: skip
                processes[i] = start()
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in hand, then exits
        deadline = time.monotonic() + STOP_SECONDS  # one deadline for all, not STOP_SECONDS each
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
