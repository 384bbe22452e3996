"""The SQLite database: WAL, migrations applied once and in order, a newer schema refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flyte.server._db import SchemaTooNewError, migrate, open_connection, schema_version
from flyte.server._migrations import MIGRATIONS

LATEST = max(v for v, _ in MIGRATIONS)


def test_a_new_database_gets_every_migration_in_wal_mode(tmp_path: Path):
    conn = open_connection(tmp_path / "flyte.db")
    try:
        assert schema_version(conn) == LATEST
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"projects", "tasks", "runs", "actions", "attempts", "schema_migrations"} <= tables
    finally:
        conn.close()


def test_reopening_applies_nothing_and_keeps_the_data(tmp_path: Path):
    conn = open_connection(tmp_path / "flyte.db")
    conn.execute("INSERT INTO projects (org, name, created_at) VALUES ('', 'p', 0)")
    conn.close()
    conn = open_connection(tmp_path / "flyte.db")
    try:
        assert migrate(conn) == []
        # flytesnacks, the default project, comes with the schema.
        assert [tuple(r) for r in conn.execute("SELECT name FROM projects ORDER BY name")] == [("flytesnacks",), ("p",)]
    finally:
        conn.close()


def test_migrations_are_numbered_in_order_without_gaps():
    assert [v for v, _ in MIGRATIONS] == list(range(1, LATEST + 1))


def test_a_database_from_a_newer_server_is_refused_with_what_to_do(tmp_path: Path):
    path = tmp_path / "flyte.db"
    open_connection(path).close()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO schema_migrations VALUES (?, 0)", (LATEST + 1,))
    raw.commit()
    raw.close()
    with pytest.raises(SchemaTooNewError, match="upgrade flyte-server"):
        open_connection(path)


def test_a_failing_migration_leaves_no_trace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import flyte.server._db as db

    broken = (*MIGRATIONS, (LATEST + 1, "CREATE TABLE half (x INTEGER); THIS IS NOT SQL"))
    monkeypatch.setattr(db, "MIGRATIONS", broken)
    path = tmp_path / "flyte.db"
    with pytest.raises(sqlite3.OperationalError):
        open_connection(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == LATEST
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half'").fetchone() is None
    finally:
        conn.close()
