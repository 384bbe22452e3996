"""``ListRequest`` (filters, sort, limit, token) -> a SQL WHERE / ORDER BY / LIMIT for one table.

Each list RPC names the fields a client may filter and sort on and the column behind each;
anything else is an INVALID_ARGUMENT naming the field, never silently ignored. The page token
is the offset of the next page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flyteidl2.common import list_pb2, phase_pb2

from flyte.server._rpc_errors import invalid_argument

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

F = list_pb2.Filter


def parse_phase(value: str) -> int:
    """``"4"``, ``"RUNNING"`` or ``"ACTION_PHASE_RUNNING"``."""
    if value.isdigit():
        return int(value)
    name = value.upper()
    name = name if name.startswith("ACTION_PHASE_") else f"ACTION_PHASE_{name}"
    try:
        return int(phase_pb2.ActionPhase.Value(name))
    except ValueError:
        raise invalid_argument(f"unknown phase {value!r}") from None


def parse_time(value: str) -> float:
    """An RFC 3339 time or Unix seconds."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid_argument(f"{value!r} is not an RFC 3339 time") from None


@dataclass(frozen=True)
class Field:
    """A filterable, sortable field: its SQL column and how a filter value becomes a SQL value."""

    column: str
    convert: Callable[[str], Any] = str
    text: bool = True  # CONTAINS / ENDS_WITH make sense


@dataclass
class SqlQuery:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order_by: str = ""
    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def add(self, clause: str, *params: Any) -> None:
        self.where.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        where = f" WHERE {' AND '.join(self.where)}" if self.where else ""
        return f"{where} ORDER BY {self.order_by} LIMIT ? OFFSET ?"

    def all_params(self) -> list[Any]:
        # One more row than asked tells whether there is a next page.
        return [*self.params, self.limit + 1, self.offset]


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clause(f: list_pb2.Filter, spec: Field) -> tuple[str, list[Any]]:
    col = spec.column
    values = list(f.values)
    fn = f.function
    if fn in (F.EXISTS, F.NOT_EXISTS):
        return (f"{col} IS {'NOT ' if fn == F.EXISTS else ''}NULL", [])
    if not values:
        raise invalid_argument(f"filter on {f.field!r} needs at least one value")
    if fn in (F.VALUE_IN, F.VALUE_NOT_IN):
        marks = ", ".join("?" * len(values))
        return (f"{col} {'NOT ' if fn == F.VALUE_NOT_IN else ''}IN ({marks})", [spec.convert(v) for v in values])
    if len(values) != 1:
        raise invalid_argument(f"filter {F.Function.Name(fn)} on {f.field!r} takes one value, got {len(values)}")
    value = values[0]
    comparisons = {
        F.EQUAL: "=",
        F.NOT_EQUAL: "!=",
        F.GREATER_THAN: ">",
        F.GREATER_THAN_OR_EQUAL: ">=",
        F.LESS_THAN: "<",
        F.LESS_THAN_OR_EQUAL: "<=",
    }
    if fn in comparisons:
        return (f"{col} {comparisons[fn]} ?", [spec.convert(value)])
    if not spec.text:
        raise invalid_argument(f"filter {F.Function.Name(fn)} does not apply to {f.field!r}")
    patterns = {
        F.CONTAINS: (f"{col} LIKE ? ESCAPE '\\'", f"%{_like(value)}%"),
        F.CONTAINS_CASE_INSENSITIVE: (f"LOWER({col}) LIKE LOWER(?) ESCAPE '\\'", f"%{_like(value)}%"),
        F.ENDS_WITH: (f"{col} LIKE ? ESCAPE '\\'", f"%{_like(value)}"),
        F.NOT_ENDS_WITH: (f"{col} NOT LIKE ? ESCAPE '\\'", f"%{_like(value)}"),
    }
    if fn not in patterns:
        raise invalid_argument(f"unsupported filter function {fn}")
    clause, pattern = patterns[fn]
    return clause, [pattern]


def build_query(request: list_pb2.ListRequest, fields: Mapping[str, Field], default_sort: str) -> SqlQuery:
    """Translate ``request`` for a table whose filterable fields are ``fields``.

    Raises:
        ConnectError: INVALID_ARGUMENT for an unknown field, a bad value, a raw filter or a bad token.
    """
    query = SqlQuery()
    if request.raw_filters:
        raise invalid_argument("raw_filters are not supported by this server; use filters")
    for f in request.filters:
        spec = fields.get(f.field)
        if spec is None:
            raise invalid_argument(f"cannot filter on {f.field!r}; known fields: {', '.join(sorted(fields))}")
        clause, params = _clause(f, spec)
        query.add(clause, *params)
    sorts = list(request.sort_by_fields) or ([request.sort_by] if request.HasField("sort_by") else [])
    order = []
    for sort in sorts:
        spec = fields.get(sort.key)
        if spec is None:
            raise invalid_argument(f"cannot sort by {sort.key!r}; known fields: {', '.join(sorted(fields))}")
        order.append(f"{spec.column} {'ASC' if sort.direction == list_pb2.Sort.ASCENDING else 'DESC'}")
    # A unique tiebreaker keeps pages stable when sort keys repeat.
    query.order_by = ", ".join([*order, default_sort])
    if request.limit < 0:
        raise invalid_argument(f"limit must not be negative, got {request.limit}")
    query.limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
    if request.token:
        if not request.token.isdigit():
            raise invalid_argument(f"page token {request.token!r} was not issued by this server")
        query.offset = int(request.token)
    return query


def next_token(query: SqlQuery, returned: int) -> str:
    """The token of the page after this one, empty when this was the last."""
    return str(query.offset + query.limit) if returned > query.limit else ""
