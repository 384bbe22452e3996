"""The local cache: task outputs keyed by (task, cache version, inputs), shared across processes.

A SQLite file under the user's flyte directory, so a second ``flyte run`` on the same machine
reuses what the first computed. WAL mode lets concurrent runs read while one writes.
"""

from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outputs (
    key TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    version TEXT NOT NULL,
    created REAL NOT NULL,
    value BLOB NOT NULL
)
"""


class LocalCacheStore:
    """Get and put pickled task outputs by cache key."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            import sqlite3  # only runs that use the cache pay for it

            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
            self._local.db = db
        return db

    def get(self, key: str, max_age_s: float | None = None) -> tuple[bool, Any]:
        row = self._db().execute("SELECT created, value FROM outputs WHERE key = ?", (key,)).fetchone()
        if row is None:
            return False, None
        created, blob = row
        if max_age_s is not None and time.time() - created > max_age_s:
            return False, None
        try:
            return True, pickle.loads(blob)
        except Exception:  # written by code whose classes moved or changed: treat as a miss
            return False, None

    def put(self, key: str, task: str, version: str, value: Any) -> None:
        try:
            blob = pickle.dumps(value, protocol=5)
        except Exception:  # unpicklable outputs are simply not cached
            return
        self._db().execute(
            "INSERT OR REPLACE INTO outputs (key, task, version, created, value) VALUES (?, ?, ?, ?, ?)",
            (key, task, version, time.time(), blob),
        )

    def clear(self) -> None:
        self._db().execute("DELETE FROM outputs")
