"""JSON schemas for the literal type metadata of dataclasses, tuples, NamedTuples and TypedDicts.

Consumers (the UI, `guess_python_type` in another process) read these to reconstruct a type; the
shapes follow what flyte 2.12.1 writes (its dataclass schemas come from mashumaro, its tuple and
TypedDict schemas from pydantic wrapper models), so both SDKs understand each other's types.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import enum
import typing
from typing import Any

from flyte.types import _typing

_SIMPLE: dict[Any, dict[str, Any]] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    _typing.NoneType: {"type": "null"},
    bytes: {"type": "string", "format": "base64"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.timedelta: {"type": "number", "format": "time-delta"},
}


def schema_of(t: Any) -> dict[str, Any]:
    """The JSON schema of annotation ``t`` (mashumaro style: no property titles)."""
    t, _ = _typing.strip_annotated(t)
    if t in _SIMPLE:
        return dict(_SIMPLE[t])
    if t is typing.Any or t is object:
        return {}
    if isinstance(t, type) and issubclass(t, enum.Enum):
        return {"enum": [m.value for m in t]}
    if _typing.is_literal(t):
        return {"enum": list(typing.get_args(t))}
    if _typing.is_union(t):
        return {"anyOf": [schema_of(a) for a in typing.get_args(t)]}
    cls = _typing.dataclass_class(t)
    if cls is not None:
        return dataclass_schema(cls)
    if _typing.is_pydantic_model(t):
        return typing.cast(dict[str, Any], t.model_json_schema())
    if _typing.is_named_tuple(t) or _typing.is_typed_tuple(t):
        args = [_typing.resolved_hints(t)[f] for f in t._fields] if _typing.is_named_tuple(t) else typing.get_args(t)
        n = len(args)
        return {"type": "array", "prefixItems": [schema_of(a) for a in args], "minItems": n, "maxItems": n}
    if _typing.is_typed_dict(t):
        hints = _typing.resolved_hints(t)
        return {
            "type": "object",
            "title": t.__name__,
            "properties": {k: schema_of(v) for k, v in hints.items()},
            "required": sorted(getattr(t, "__required_keys__", hints)),
        }
    origin = typing.get_origin(t) or t
    args = typing.get_args(t)
    if origin in (list, set, frozenset, tuple):
        return {"type": "array", "items": schema_of(args[0])} if args else {"type": "array"}
    if origin is dict:
        if not args:
            return {"type": "object"}
        return {"type": "object", "propertyNames": schema_of(args[0]), "additionalProperties": schema_of(args[1])}
    return {}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.encodebytes(value).decode()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return None


def dataclass_schema(cls: type) -> dict[str, Any]:
    hints = _typing.resolved_hints(cls)
    properties: dict[str, Any] = {}
    required = []
    for f in dataclasses.fields(cls):
        prop = schema_of(hints.get(f.name, Any))
        if f.default is not dataclasses.MISSING:
            prop["default"] = _json_default(f.default)
        elif f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        properties[f.name] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "title": cls.__name__,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def _title(name: str) -> str:
    return name.replace("_", " ").title()


def wrapper_schema(title: str, fields: list[tuple[str, Any]]) -> dict[str, Any]:
    """Schema of a pydantic-style wrapper object (how flyte 2.12.1 describes tuples and TypedDicts)."""
    return {
        "type": "object",
        "title": title,
        "properties": {name: {"title": _title(name), **schema_of(t)} for name, t in fields},
        "required": [name for name, _ in fields],
    }
