"""``MetadataStore``: the typed reads and writes of projects, tasks, runs, actions and attempts.

Every method is one short transaction on the database thread; RPC handlers and the executor never
write SQL themselves.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from flyte.server._db import Database
from flyte.server._listing import SqlQuery


@dataclass(frozen=True)
class TaskRow:
    org: str
    project: str
    domain: str
    name: str
    version: str
    spec: bytes
    spec_digest: str
    short_name: str
    environment: str
    deployed_at: float


@dataclass(frozen=True)
class ActionRow:
    id: int
    run_id: int
    org: str
    project: str
    domain: str
    run_name: str
    run_base: str
    run_spec: bytes
    name: str
    parent: str | None
    task_org: str
    task_project: str
    task_domain: str
    task_name: str
    task_version: str
    task_spec: bytes
    input_uri: str
    phase: int
    attempts: int
    error: bytes | None
    abort_reason: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    updated_at: float
    action_type: int = 1
    group_name: str | None = None
    output_uri: str | None = None


@dataclass(frozen=True)
class RunRow:
    id: int
    org: str
    project: str
    domain: str
    name: str
    run_spec: bytes
    base_dir: str
    created_at: float
    root: ActionRow


@dataclass(frozen=True)
class AttemptRow:
    action_id: int
    attempt: int
    phase: int
    outputs_uri: str
    log_dir: str
    error: bytes | None
    exit_code: int | None
    started_at: float
    ended_at: float | None


@dataclass(frozen=True)
class NewRun:
    """Everything CreateRun records at once: the run and its root action."""

    org: str
    project: str
    domain: str
    name: str
    run_spec: bytes
    base_dir: str
    task_org: str
    task_project: str
    task_domain: str
    task_name: str
    task_version: str
    task_spec: bytes
    input_uri: str
    root_action: str
    phase: int


_ACTION_SELECT = """
    SELECT a.*, r.org AS org, r.project AS project, r.domain AS domain, r.name AS run_name,
           r.base_dir AS run_base, r.run_spec AS run_spec
    FROM actions a JOIN runs r ON r.id = a.run_id
"""

_RUN_SELECT = (
    "SELECT r.id AS r_id, r.run_spec AS r_run_spec, r.base_dir AS r_base_dir, r.created_at AS r_created_at, "
    "a.*, r.org AS org, r.project AS project, r.domain AS domain, r.name AS run_name, r.base_dir AS run_base, "
    "r.run_spec AS run_spec "
    "FROM runs r JOIN actions a ON a.run_id = r.id AND a.parent IS NULL"
)


# A child and its outputs: a trace's recorded ones, else its latest attempt's.
_CHILD_SELECT = _ACTION_SELECT.replace(
    "FROM actions a",
    ", (SELECT t.outputs_uri FROM attempts t WHERE t.action_id = a.id ORDER BY t.attempt DESC LIMIT 1) "
    "AS last_outputs FROM actions a",
)


def _child(row: sqlite3.Row) -> ChildRow:
    return ChildRow(_action(row), row["output_uri"] or row["last_outputs"] or "")


def _action(row: sqlite3.Row) -> ActionRow:
    return ActionRow(**{f: row[f] for f in ActionRow.__dataclass_fields__})


def _run(row: sqlite3.Row) -> RunRow:
    root = _action(row)
    return RunRow(
        id=row["r_id"],
        org=root.org,
        project=root.project,
        domain=root.domain,
        name=root.run_name,
        run_spec=row["r_run_spec"],
        base_dir=row["r_base_dir"],
        created_at=row["r_created_at"],
        root=root,
    )


@dataclass(frozen=True)
class NewChild:
    """A child action a running parent enqueues (a task to run, or a trace already finished)."""

    run_id: int
    name: str
    parent: str
    task_org: str
    task_project: str
    task_domain: str
    task_name: str
    task_version: str
    task_spec: bytes
    input_uri: str
    phase: int
    action_type: int
    group_name: str | None = None
    output_uri: str | None = None
    error: bytes | None = None
    started_at: float | None = None
    ended_at: float | None = None


@dataclass(frozen=True)
class ChildRow:
    """A child action and where its latest outputs are (a trace's recorded ones, or the last attempt's)."""

    action: ActionRow
    output_uri: str


class RunExistsError(Exception):
    """A run with this name already exists in the project and domain."""


class MetadataStore:
    """Typed access to the metadata database."""

    def __init__(self, db: Database):
        self.db = db

    # ---------------------------------------------------------------- tasks

    async def put_task(self, task: TaskRow) -> TaskRow:
        """Insert ``task`` unless that version exists; returns what is stored under its id."""

        def run(conn: sqlite3.Connection) -> TaskRow:
            _ensure_project(conn, task.org, task.project)
            conn.execute(
                "INSERT OR IGNORE INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.org,
                    task.project,
                    task.domain,
                    task.name,
                    task.version,
                    task.spec,
                    task.spec_digest,
                    task.short_name,
                    task.environment,
                    task.deployed_at,
                ),
            )
            stored = _get_task(conn, task.org, task.project, task.domain, task.name, task.version)
            assert stored is not None
            return stored

        return await self.db.transaction(run)

    async def get_task(self, org: str, project: str, domain: str, name: str, version: str) -> TaskRow | None:
        return await self.db.call(lambda c: _get_task(c, org, project, domain, name, version))

    async def list_tasks(self, query: SqlQuery) -> list[TaskRow]:
        sql = "SELECT * FROM tasks" + query.sql()
        rows = await self.db.read(lambda c: c.execute(sql, query.all_params()).fetchall())
        return [TaskRow(**dict(r)) for r in rows]

    async def count_tasks(self, where: list[str], params: list[Any]) -> int:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        row = await self.db.read(lambda c: c.execute(f"SELECT COUNT(*) FROM tasks {clause}", params).fetchone())
        return int(row[0])

    # ---------------------------------------------------------------- runs

    async def create_run(self, new: NewRun) -> RunRow:
        """Record a run and its root action in one transaction.

        Raises:
            RunExistsError: the name is taken in that project and domain.
        """

        def run(conn: sqlite3.Connection) -> RunRow:
            now = time.time()
            _ensure_project(conn, new.org, new.project)
            try:
                cur = conn.execute(
                    "INSERT INTO runs (org, project, domain, name, run_spec, base_dir, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (new.org, new.project, new.domain, new.name, new.run_spec, new.base_dir, now),
                )
            except sqlite3.IntegrityError:
                raise RunExistsError(new.name) from None
            conn.execute(
                "INSERT INTO actions (run_id, name, parent, task_org, task_project, task_domain, task_name, "
                "task_version, task_spec, input_uri, phase, created_at, updated_at) "
                "VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cur.lastrowid,
                    new.root_action,
                    new.task_org,
                    new.task_project,
                    new.task_domain,
                    new.task_name,
                    new.task_version,
                    new.task_spec,
                    new.input_uri,
                    new.phase,
                    now,
                    now,
                ),
            )
            found = _get_run(conn, new.org, new.project, new.domain, new.name)
            assert found is not None
            return found

        return await self.db.transaction(run)

    async def get_run(self, org: str, project: str, domain: str, name: str) -> RunRow | None:
        return await self.db.call(lambda c: _get_run(c, org, project, domain, name))

    async def list_runs(self, query: SqlQuery) -> list[RunRow]:
        sql = _RUN_SELECT + query.sql()
        rows = await self.db.read(lambda c: c.execute(sql, query.all_params()).fetchall())
        return [_run(r) for r in rows]

    # ---------------------------------------------------------------- actions

    async def get_action(self, org: str, project: str, domain: str, run: str, name: str) -> ActionRow | None:
        sql = _ACTION_SELECT + "WHERE r.org = ? AND r.project = ? AND r.domain = ? AND r.name = ? AND a.name = ?"
        row = await self.db.call(lambda c: c.execute(sql, (org, project, domain, run, name)).fetchone())
        return _action(row) if row else None

    async def get_action_by_id(self, action_id: int) -> ActionRow:
        row = await self.db.call(lambda c: c.execute(_ACTION_SELECT + "WHERE a.id = ?", (action_id,)).fetchone())
        if row is None:
            raise KeyError(action_id)
        return _action(row)

    async def list_actions(self, run_id: int, query: SqlQuery) -> list[ActionRow]:
        query.add("a.run_id = ?", run_id)
        sql = _ACTION_SELECT + query.sql()
        rows = await self.db.read(lambda c: c.execute(sql, query.all_params()).fetchall())
        return [_action(r) for r in rows]

    async def actions_in_phases(self, phases: tuple[int, ...]) -> list[ActionRow]:
        marks = ", ".join("?" * len(phases))
        sql = _ACTION_SELECT + f"WHERE a.phase IN ({marks}) ORDER BY a.id"
        rows = await self.db.read(lambda c: c.execute(sql, phases).fetchall())
        return [_action(r) for r in rows]

    async def update_action(
        self, action_id: int, attempt_end: tuple[int, int, bytes | None, int | None] | None = None, **values: Any
    ) -> None:
        """Set columns of an action (``phase=...``, ``error=...``); ``updated_at`` follows.

        ``attempt_end`` (attempt, phase, error, exit code) also records the end of that attempt, in
        the same transaction (the last attempt and the action end together).
        """
        now = values["updated_at"] = time.time()
        columns = ", ".join(f"{k} = ?" for k in values)

        def run(conn: sqlite3.Connection) -> None:
            if attempt_end is not None:
                _finish_attempt(conn, action_id, *attempt_end, now)
            conn.execute(f"UPDATE actions SET {columns} WHERE id = ?", [*values.values(), action_id])

        await self.db.transaction(run)

    async def set_abort_reason(self, action_id: int, reason: str) -> bool:
        """Record that the action is to be aborted; False if it had already ended or been aborted."""

        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE actions SET abort_reason = ?, updated_at = ? WHERE id = ? AND abort_reason IS NULL "
                "AND ended_at IS NULL",
                (reason, time.time(), action_id),
            )
            return cur.rowcount == 1

        return await self.db.transaction(run)

    async def enqueue_child(self, new: NewChild) -> tuple[ActionRow, bool]:
        """Record a child action unless one of that name exists in the run.

        Returns the stored action and whether this call created it: enqueueing an existing child
        again (a parent replayed after a crash or a retry) changes nothing.
        """

        def run(conn: sqlite3.Connection) -> tuple[ActionRow, bool]:
            now = time.time()
            cur = conn.execute(
                "INSERT OR IGNORE INTO actions (run_id, name, parent, task_org, task_project, task_domain, "
                "task_name, task_version, task_spec, input_uri, phase, error, created_at, started_at, ended_at, "
                "updated_at, action_type, group_name, output_uri) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.run_id,
                    new.name,
                    new.parent,
                    new.task_org,
                    new.task_project,
                    new.task_domain,
                    new.task_name,
                    new.task_version,
                    new.task_spec,
                    new.input_uri,
                    new.phase,
                    new.error,
                    now,
                    new.started_at,
                    new.ended_at,
                    now,
                    new.action_type,
                    new.group_name,
                    new.output_uri,
                ),
            )
            row = conn.execute(_ACTION_SELECT + "WHERE a.run_id = ? AND a.name = ?", (new.run_id, new.name)).fetchone()
            return _action(row), cur.rowcount == 1

        return await self.db.transaction(run)

    async def children(self, run_id: int, parent: str) -> list[ChildRow]:
        """Every child of ``parent`` in the run, oldest first, with its outputs' location."""
        sql = _CHILD_SELECT + "WHERE a.run_id = ? AND a.parent = ? ORDER BY a.id"
        rows = await self.db.read(lambda c: c.execute(sql, (run_id, parent)).fetchall())
        return [_child(r) for r in rows]

    async def children_by_id(self, action_ids: list[int]) -> list[ChildRow]:
        marks = ", ".join("?" * len(action_ids))
        sql = _CHILD_SELECT + f"WHERE a.id IN ({marks}) ORDER BY a.id"
        rows = await self.db.call(lambda c: c.execute(sql, action_ids).fetchall())
        return [_child(r) for r in rows]

    async def active_children(self, run_id: int, parent: str, phases: tuple[int, ...]) -> list[ActionRow]:
        marks = ", ".join("?" * len(phases))
        sql = _ACTION_SELECT + f"WHERE a.run_id = ? AND a.parent = ? AND a.phase IN ({marks}) ORDER BY a.id"
        rows = await self.db.call(lambda c: c.execute(sql, (run_id, parent, *phases)).fetchall())
        return [_action(r) for r in rows]

    # ---------------------------------------------------------------- attempts

    async def start_attempt(self, action_id: int, attempt: int, phase: int, outputs_uri: str, log_dir: str) -> None:
        now = time.time()

        def run(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO attempts (action_id, attempt, phase, outputs_uri, log_dir, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (action_id, attempt, phase, outputs_uri, log_dir, now),
            )
            conn.execute(
                "UPDATE actions SET attempts = ?, phase = ?, started_at = COALESCE(started_at, ?), updated_at = ? "
                "WHERE id = ?",
                (attempt, phase, now, now, action_id),
            )

        await self.db.transaction(run)

    async def finish_attempt(
        self, action_id: int, attempt: int, phase: int, error: bytes | None, exit_code: int | None
    ) -> None:
        now = time.time()
        await self.db.transaction(lambda c: _finish_attempt(c, action_id, attempt, phase, error, exit_code, now))

    async def attempts(self, action_id: int) -> list[AttemptRow]:
        rows = await self.db.call(
            lambda c: c.execute("SELECT * FROM attempts WHERE action_id = ? ORDER BY attempt", (action_id,)).fetchall()
        )
        return [AttemptRow(**dict(r)) for r in rows]


def _finish_attempt(
    conn: sqlite3.Connection,
    action_id: int,
    attempt: int,
    phase: int,
    error: bytes | None,
    exit_code: int | None,
    now: float,
) -> None:
    conn.execute(
        "UPDATE attempts SET phase = ?, error = ?, exit_code = ?, ended_at = ? WHERE action_id = ? AND attempt = ?",
        (phase, error, exit_code, now, action_id, attempt),
    )


def _ensure_project(conn: sqlite3.Connection, org: str, project: str) -> None:
    # Projects come into being on first use too, not only through the Project service.
    conn.execute(
        "INSERT OR IGNORE INTO projects (org, name, created_at, display_name) VALUES (?, ?, ?, ?)",
        (org, project, time.time(), project),
    )


def _get_task(conn: sqlite3.Connection, org: str, project: str, domain: str, name: str, version: str) -> TaskRow | None:
    row = conn.execute(
        "SELECT * FROM tasks WHERE org = ? AND project = ? AND domain = ? AND name = ? AND version = ?",
        (org, project, domain, name, version),
    ).fetchone()
    return TaskRow(**dict(row)) if row else None


def _get_run(conn: sqlite3.Connection, org: str, project: str, domain: str, name: str) -> RunRow | None:
    row = conn.execute(
        _RUN_SELECT + " WHERE r.org = ? AND r.project = ? AND r.domain = ? AND r.name = ?",
        (org, project, domain, name),
    ).fetchone()
    return _run(row) if row else None
