"""ProjectService: create, get, list and update projects.

A project also comes into being when a task is deployed or a run created in it; ``flytesnacks``
(the SDK's default) exists from the start. Every project has the three standard domains.
List filters use Flyte admin's string form, ``eq(state,0)+contains(name,ml)``.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from connectrpc.request import RequestContext
from flyteidl2.common import list_pb2
from flyteidl2.project import project_service_pb2 as pb
from flyteidl2.project.project_service_connect import ProjectService
from flyteidl2.task import run_pb2

from flyte.server import _names as names
from flyte.server._db import Database
from flyte.server._listing import DEFAULT_LIMIT, MAX_LIMIT
from flyte.server._rpc_errors import already_exists, invalid_argument, not_found
from flyte.server._state import ServerState

DOMAINS = ("development", "staging", "production")
MAX_DESCRIPTION = 1000

# filter field -> (column, how a filter value becomes a SQL value)
_FIELDS: dict[str, tuple[str, Any]] = {
    "id": ("name", str),
    "name": ("display_name", str),
    "state": ("state", int),
    "created_at": ("created_at", float),
}
_COMPARISONS = {"eq": "=", "ne": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_FILTER_RE = re.compile(r"^\s*(\w+)\(\s*(\w+)\s*,\s*(.*?)\s*\)\s*$")


@dataclass(frozen=True)
class ProjectRow:
    org: str
    name: str
    created_at: float
    display_name: str
    description: str
    labels: bytes | None
    state: int


def _message(row: ProjectRow) -> pb.Project:
    return pb.Project(
        id=row.name,
        name=row.display_name or row.name,
        org=row.org,
        description=row.description,
        labels=run_pb2.Labels.FromString(row.labels) if row.labels else None,
        state=row.state,  # type: ignore[arg-type]
        domains=[pb.Domain(id=d, name=d) for d in DOMAINS],
    )


def parse_filters(text: str) -> tuple[list[str], list[Any]]:
    """``eq(state,0)+contains(name,ml)`` -> SQL conditions and their parameters."""
    where: list[str] = []
    params: list[Any] = []
    for part in filter(None, (p.strip() for p in text.split("+"))):
        match = _FILTER_RE.match(part)
        if match is None:
            raise invalid_argument(f"project filter {part!r} is not understood: expected function(field,value)")
        function, field, raw = match.groups()
        if field not in _FIELDS:
            raise invalid_argument(f"cannot filter projects on {field!r}; known fields: {', '.join(sorted(_FIELDS))}")
        column, convert = _FIELDS[field]
        try:
            if function in _COMPARISONS:
                where.append(f"{column} {_COMPARISONS[function]} ?")
                params.append(convert(raw))
            elif function == "contains":
                where.append(f"{column} LIKE ? ESCAPE '\\'")
                params.append("%" + raw.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
            elif function == "value_in":
                values = [convert(v) for v in raw.split(";") if v]
                where.append(f"{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
            else:
                raise invalid_argument(
                    f"unknown project filter function {function!r}; expected one of "
                    f"{', '.join([*_COMPARISONS, 'contains', 'value_in'])}"
                )
        except ValueError:
            raise invalid_argument(f"{raw!r} is not a valid value for project field {field!r}") from None
    return where, params


class ProjectStore:
    """The ``projects`` table (on the database thread)."""

    def __init__(self, db: Database):
        self._db = db

    async def create(self, row: ProjectRow) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO projects (org, name, created_at, display_name, description, labels, state) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.org, row.name, row.created_at, row.display_name, row.description, row.labels, row.state),
            )
            return cur.rowcount == 1

        return await self._db.transaction(run)

    async def get(self, org: str, name: str) -> ProjectRow | None:
        sql = "SELECT * FROM projects WHERE org = ? AND name = ?"
        row = await self._db.call(lambda c: c.execute(sql, (org, name)).fetchone())
        return ProjectRow(**{f: row[f] for f in ProjectRow.__dataclass_fields__}) if row else None

    async def update(self, org: str, name: str, **values: Any) -> bool:
        columns = ", ".join(f"{k} = ?" for k in values)

        def run(conn: sqlite3.Connection) -> bool:
            sql = f"UPDATE projects SET {columns} WHERE org = ? AND name = ?"
            return conn.execute(sql, [*values.values(), org, name]).rowcount == 1

        return await self._db.transaction(run)

    async def list(self, where: list[str], params: list[Any], order: str, limit: int, offset: int) -> list[ProjectRow]:
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT * FROM projects {clause} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = await self._db.call(lambda c: c.execute(sql, [*params, limit + 1, offset]).fetchall())
        return [ProjectRow(**{f: r[f] for f in ProjectRow.__dataclass_fields__}) for r in rows]


def _checked(project: pb.Project) -> pb.Project:
    names.check_project(project.id)
    names.check_org(project.org)
    if len(project.description) > MAX_DESCRIPTION:
        raise invalid_argument(f"a project description has at most {MAX_DESCRIPTION} characters")
    if len(project.name) > 255:
        raise invalid_argument("a project name has at most 255 characters")
    if project.state not in pb.ProjectState.values():
        raise invalid_argument(f"unknown project state {project.state}")
    return project


class ProjectServiceImpl(ProjectService):
    def __init__(self, state: ServerState):
        self._projects = ProjectStore(state.store.db)

    async def create_project(
        self, request: pb.CreateProjectRequest, ctx: RequestContext[Any, Any]
    ) -> pb.CreateProjectResponse:
        project = _checked(request.project)
        row = ProjectRow(
            org=project.org,
            name=project.id,
            created_at=time.time(),
            display_name=project.name or project.id,
            description=project.description,
            labels=project.labels.SerializeToString(deterministic=True) if project.HasField("labels") else None,
            state=project.state,
        )
        if not await self._projects.create(row):
            raise already_exists(f"project {project.id!r} already exists")
        return pb.CreateProjectResponse()

    async def update_project(
        self, request: pb.UpdateProjectRequest, ctx: RequestContext[Any, Any]
    ) -> pb.UpdateProjectResponse:
        project = _checked(request.project)
        # Like Flyte admin: the request is the project as it should be from now on.
        changed = await self._projects.update(
            project.org,
            project.id,
            display_name=project.name or project.id,
            description=project.description,
            labels=project.labels.SerializeToString(deterministic=True) if project.HasField("labels") else None,
            state=project.state,
        )
        if not changed:
            raise not_found(f"project {project.id!r} does not exist")
        return pb.UpdateProjectResponse()

    async def get_project(self, request: pb.GetProjectRequest, ctx: RequestContext[Any, Any]) -> pb.GetProjectResponse:
        row = await self._projects.get(names.check_org(request.org), names.check_project(request.id))
        if row is None:
            raise not_found(f"project {request.id!r} does not exist")
        return pb.GetProjectResponse(project=_message(row))

    async def list_projects(
        self, request: pb.ListProjectsRequest, ctx: RequestContext[Any, Any]
    ) -> pb.ListProjectsResponse:
        where, params = parse_filters(request.filters)
        where.insert(0, "org = ?")
        params.insert(0, names.check_org(request.org))
        order = "name"
        if request.HasField("sort_by") and request.sort_by.key:
            if request.sort_by.key not in _FIELDS:
                raise invalid_argument(f"cannot sort projects by {request.sort_by.key!r}")
            direction = "ASC" if request.sort_by.direction == list_pb2.Sort.ASCENDING else "DESC"
            order = f"{_FIELDS[request.sort_by.key][0]} {direction}, name"
        if request.limit < 0:
            raise invalid_argument(f"limit must not be negative, got {request.limit}")
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        if request.token and not request.token.isdigit():
            raise invalid_argument(f"page token {request.token!r} was not issued by this server")
        offset = int(request.token or 0)
        rows = await self._projects.list(where, params, order, limit, offset)
        token = str(offset + limit) if len(rows) > limit else ""
        return pb.ListProjectsResponse(projects=pb.Projects(projects=[_message(r) for r in rows[:limit]], token=token))
