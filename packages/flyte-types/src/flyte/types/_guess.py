"""Rebuild Python types from the JSON schemas in literal type metadata.

Used by ``TypeEngine.guess_python_type`` when a process sees a literal type but not the code that
declared it (a remote task's interface, say): the result reads the same msgpack payloads.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing
from typing import Any

from google.protobuf import json_format, struct_pb2

_FORMATS: dict[str, Any] = {
    "date-time": datetime.datetime,
    "date": datetime.date,
    "time-delta": datetime.timedelta,
    "base64": bytes,
}
_TYPES: dict[str, Any] = {"integer": int, "number": float, "string": str, "boolean": bool, "null": type(None)}


def _to_dict(schema: struct_pb2.Struct | dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema, dict):
        return schema
    return json_format.MessageToDict(schema)


class _Builder:
    def __init__(self, root: dict[str, Any], make_object: typing.Callable[[str, dict[str, Any]], Any]):
        self.defs = root.get("$defs", {})
        self.make_object = make_object

    def type_of(self, s: dict[str, Any]) -> Any:
        if "$ref" in s:
            return self.type_of(self.defs.get(s["$ref"].rsplit("/", 1)[-1], {}))
        if "anyOf" in s:
            return typing.Union[tuple(self.type_of(x) for x in s["anyOf"])]  # noqa: UP007
        if "enum" in s:
            return str
        kind = s.get("type")
        if kind in _TYPES:
            return _FORMATS.get(s.get("format", ""), _TYPES[kind])
        if kind == "array":
            if "prefixItems" in s:
                return tuple[tuple(self.type_of(x) for x in s["prefixItems"])]  # type: ignore[misc]
            return list[self.type_of(s.get("items", {}))]  # type: ignore[misc]
        if kind == "object":
            if "properties" in s:
                return self.make_object(s.get("title", "Object"), s)
            extra = s.get("additionalProperties")
            if isinstance(extra, dict):
                return dict[str, self.type_of(extra)]  # type: ignore[misc]
            return dict
        return Any


def dataclass_from_schema(schema: struct_pb2.Struct | dict[str, Any]) -> type:
    """A dataclass with the schema's fields (optional ones default to None)."""
    root = _to_dict(schema)

    def make(title: str, s: dict[str, Any]) -> type:
        required = set(s.get("required", []))
        props = s["properties"]
        fields: list[Any] = [(k, builder.type_of(v)) for k, v in props.items() if k in required]
        fields += [
            (k, builder.type_of(v), dataclasses.field(default=None)) for k, v in props.items() if k not in required
        ]
        return dataclasses.make_dataclass(title, fields)

    builder = _Builder(root, make)
    return typing.cast(type, builder.type_of(root))


def pydantic_from_schema(schema: struct_pb2.Struct | dict[str, Any]) -> type:
    """A pydantic model with the schema's fields."""
    import pydantic

    root = _to_dict(schema)

    def make(title: str, s: dict[str, Any]) -> type:
        required = set(s.get("required", []))
        fields = {
            k: (builder.type_of(v), ... if k in required else v.get("default")) for k, v in s["properties"].items()
        }
        return typing.cast(type, pydantic.create_model(title, **fields))  # type: ignore[call-overload]

    builder = _Builder(root, make)
    return typing.cast(type, builder.type_of(root))
