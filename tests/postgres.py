"""A throwaway PostgreSQL cluster for the tests: Debian's own binaries, started on 127.0.0.1 at a free port
with trust authentication, fast and not durable (fsync off), and stopped at the end of the session.

Each test gets a database of its own, copied from a template that has already been migrated, so a test on
PostgreSQL costs about as much as one on a new SQLite file. PostgreSQL refuses to run as root: as root,
the server runs as the `postgres` user (`runuser`), on a directory that user owns.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

__all__ = ["PostgresCluster", "find_binaries"]

USER = "broadsheet"


def find_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (BROADSHEET_TEST_PG_BIN, or Debian's layout), or None."""
    named = os.environ.get("BROADSHEET_TEST_PG_BIN")
    if named:
        return Path(named)
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3].split(".")[0])
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One running cluster; `database()` hands out a new, migrated database's SQLAlchemy URL."""

    def __init__(self, binaries: Path, root: Path | None = None) -> None:
        """A new cluster in a temporary folder, or the one kept in `root` (made there when it is not yet),
        which `stop()` then leaves in place for the next run (benchmarks keep their filled databases so)."""
        self.binaries = binaries
        self.kept = root is not None
        self.root = root.resolve() if root is not None else Path(tempfile.mkdtemp(prefix="broadsheet-pg-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the server's user must reach its data directory below
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        self._names = itertools.count(1)
        self._template = ""
        existing = (self.data / "PG_VERSION").exists()
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            self.data.mkdir(exist_ok=True)
            owner = pwd.getpwnam("postgres")
            os.chown(self.data, owner.pw_uid, owner.pw_gid)
        if not existing:
            self._run(
                "initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"
            )
        elif (self.data / "postmaster.pid").exists():
            # A kept cluster's server outlived a run that was killed: stopped, to be started on a new port.
            # (A pid file a crashed server left behind is PostgreSQL's own to clear on start.)
            subprocess.run(
                [*self._as, str(binaries / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                cwd=self.root,
            )
        self.options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._start()

    def _start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            self.options,
            "-l",
            str(self.data / "server.log"),
            "-w",
            "start",
        )

    def restart(self, down_seconds: float = 0.0) -> None:
        """Stop the server as an administrator would (every connection cut), keep it down `down_seconds`,
        start it again on the same port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        time.sleep(down_seconds)
        self._start()

    def _run(self, program: str, *args: str) -> None:
        command = [*self._as, str(self.binaries / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if done.returncode:
            log = self.data / "server.log"
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr or done.stdout}"
                + (log.read_text() if log.exists() else "")
            )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)  # our own names, never user input

    def database(self, *, migrated: bool = True, name: str = "") -> str:
        """A new empty database's URL (named `name`, or test_N): migrated to the newest schema (copied from a
        template migrated once) unless `migrated` is false."""
        name = name or f"test_{next(self._names)}"
        if not migrated:
            self._execute(f"CREATE DATABASE {name}")
            return self.url(name)
        if not self._template:
            from broadsheet.store.db import connect, migrate

            self._execute("CREATE DATABASE template_migrated")
            engine = connect(self.url("template_migrated"))
            try:
                migrate(engine)
            finally:
                engine.dispose()
            self._template = "template_migrated"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {self._template}")
        return self.url(name)

    def rename(self, old: str, new: str) -> None:
        self._execute(f"DROP DATABASE IF EXISTS {new} WITH (FORCE)")
        self._execute(f"ALTER DATABASE {old} RENAME TO {new}")

    def drop(self, url: str) -> None:
        """Remove a database `database()` handed out, whoever is still connected to it."""
        name = url.rsplit("/", 1)[1]
        self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def has_database(self, name: str) -> bool:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as conn:
            return (
                conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
            )

    def stop(self) -> None:
        """Stop the server; a temporary cluster is removed, a kept one is shut down cleanly and kept."""
        if self.kept:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            return
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
