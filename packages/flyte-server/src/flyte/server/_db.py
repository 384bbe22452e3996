"""The SQLite database: opened in WAL mode, migrated on open, used from one thread.

Every statement runs on a single dedicated thread, which serializes access (SQLite allows one
writer) and keeps the event loop free: callers ``await db.call(fn)`` with a function that gets
the connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from flyte.server._migrations import MIGRATIONS

T = TypeVar("T")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer server than this one."""


def open_connection(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    Raises:
        SchemaTooNewError: the database has migrations this server does not know.
    """
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last ones.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    migrate(conn)
    return conn


def schema_version(conn: sqlite3.Connection) -> int:
    """The highest migration applied, 0 for an empty database."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection) -> list[int]:
    """Apply the migrations the database lacks, each in its own transaction; returns their numbers."""
    current = schema_version(conn)
    known = max(v for v, _ in MIGRATIONS)
    if current > known:
        raise SchemaTooNewError(
            f"the database is at schema version {current} but this flyte-server knows only up to {known}; "
            "upgrade flyte-server or point --data-dir at another folder"
        )
    applied = []
    for version, sql in MIGRATIONS:
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


class Database:
    """An open database and the one thread that uses it.

    Example:
        >>> db = Database.open(Path("/tmp/x.db"))  # doctest: +SKIP
        >>> await db.call(lambda c: c.execute("SELECT 1").fetchone()[0])  # doctest: +SKIP
        1
    """

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flyte-server-db")

    @classmethod
    def open(cls, path: Path) -> Database:
        return cls(open_connection(path))

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, self._conn)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` inside one transaction: all of its writes land, or none."""

        def run(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.call(run)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._conn.close()
