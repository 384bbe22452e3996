"""The SQLite database: opened in WAL mode, migrated on open.

Writes and point lookups (``call``, ``transaction``) run on the event loop's thread through one
connection: each is a few statements on indexed rows that take microseconds, less than handing
them to a thread and back would cost, and running them in order on one thread serializes every
write (SQLite allows one writer) with no lock of our own. Queries that may scan many rows
(``read``: listings, counts, a parent's children) run on a thread of their own through a second,
read-only connection, so a large listing never stalls the loop; WAL lets it read while the loop
writes, and it sees every write the loop has committed.
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
    """An open database: the loop's connection, and a reader thread with its own connection.

    Example:
        >>> db = Database.open(Path("/tmp/x.db"))  # doctest: +SKIP
        >>> await db.call(lambda c: c.execute("SELECT 1").fetchone()[0])  # doctest: +SKIP
        1
    """

    def __init__(self, conn: sqlite3.Connection, reader: sqlite3.Connection | None = None):
        self._conn = conn
        self._reader = reader
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flyte-server-db-read")

    @classmethod
    def open(cls, path: Path) -> Database:
        conn = open_connection(path)
        reader = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA busy_timeout=5000")
        return cls(conn, reader)

    async def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` now, on the loop's thread (for writes and lookups by key)."""
        return fn(self._conn)

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run the read-only query ``fn(connection)`` on the reader thread (for scans of many rows)."""
        if self._reader is None:
            return fn(self._conn)
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, self._reader)

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` inside one transaction: all of its writes land, or none."""
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        if self._reader is not None:
            self._reader.close()
        self._conn.close()
