"""Read a whole homogeneous collection or map in C, without one Python object per element.

Protobuf merges repeated occurrences of a *singular* message field, and appends to repeated
fields. "Shadow" messages below mirror ``Literal`` on the wire, but declare the per-element
message fields as singular and the leaves as repeated: parsing a ``LiteralCollection``'s bytes as
``ShadowCollection`` therefore merges every element into one message whose leaves hold every
element's value, in order (``collection.literals.scalar.primitive.integer`` is the list of all
integers). That is valid only when each element has exactly one leaf of the expected kind and
nothing else; :func:`leaves` checks this (counts, no other fields, no unknown fields) and returns
None otherwise, and the caller falls back to reading element by element.
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory, unknown_fields

_F = descriptor_pb2.FieldDescriptorProto
_REPEATED = _F.LABEL_REPEATED
_OPTIONAL = _F.LABEL_OPTIONAL

# (name, number, type, label, message type) mirroring flyteidl2/core/literals.proto; fields we never
# read as leaves are repeated bytes, which is wire-compatible with any length-delimited field and
# lets us see whether one was present.
_SCHEMA: dict[str, list[tuple[str, int, int, int, str]]] = {
    "Primitive": [
        ("integer", 1, _F.TYPE_INT64, _REPEATED, ""),
        ("float_value", 2, _F.TYPE_DOUBLE, _REPEATED, ""),
        ("string_value", 3, _F.TYPE_STRING, _REPEATED, ""),
        ("boolean", 4, _F.TYPE_BOOL, _REPEATED, ""),
        ("datetime", 5, _F.TYPE_BYTES, _REPEATED, ""),
        ("duration", 6, _F.TYPE_BYTES, _REPEATED, ""),
    ],
    "Binary": [
        ("value", 1, _F.TYPE_BYTES, _REPEATED, ""),
        ("tag", 2, _F.TYPE_STRING, _REPEATED, ""),
    ],
    "Scalar": [
        ("primitive", 1, _F.TYPE_MESSAGE, _OPTIONAL, "Primitive"),
        ("blob", 2, _F.TYPE_BYTES, _REPEATED, ""),
        ("binary", 3, _F.TYPE_MESSAGE, _OPTIONAL, "Binary"),
        ("schema", 4, _F.TYPE_BYTES, _REPEATED, ""),
        ("none_type", 5, _F.TYPE_BYTES, _REPEATED, ""),
        ("error", 6, _F.TYPE_BYTES, _REPEATED, ""),
        ("generic", 7, _F.TYPE_BYTES, _REPEATED, ""),
        ("structured_dataset", 8, _F.TYPE_BYTES, _REPEATED, ""),
        ("union", 9, _F.TYPE_BYTES, _REPEATED, ""),
    ],
    "Literal": [
        ("scalar", 1, _F.TYPE_MESSAGE, _OPTIONAL, "Scalar"),
        ("collection", 2, _F.TYPE_BYTES, _REPEATED, ""),
        ("map", 3, _F.TYPE_BYTES, _REPEATED, ""),
        ("hash", 4, _F.TYPE_BYTES, _REPEATED, ""),
        ("metadata", 5, _F.TYPE_BYTES, _REPEATED, ""),
        ("offloaded_metadata", 8, _F.TYPE_BYTES, _REPEATED, ""),
        ("artifact_id", 9, _F.TYPE_BYTES, _REPEATED, ""),
    ],
    "Collection": [("literals", 1, _F.TYPE_MESSAGE, _OPTIONAL, "Literal")],
    "MapEntry": [
        ("key", 1, _F.TYPE_STRING, _REPEATED, ""),
        ("value", 2, _F.TYPE_MESSAGE, _OPTIONAL, "Literal"),
    ],
    "Map": [("literals", 1, _F.TYPE_MESSAGE, _OPTIONAL, "MapEntry")],
}


@functools.cache
def _classes() -> dict[str, type[message.Message]]:
    fdp = descriptor_pb2.FileDescriptorProto(name="flyte_types_shadow.proto", package="flyte_types_shadow")
    fdp.syntax = "proto3"
    for name, fields in _SCHEMA.items():
        msg = fdp.message_type.add(name=name)
        for fname, number, ftype, label, tname in fields:
            f = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if tname:
                f.type_name = f".flyte_types_shadow.{tname}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"flyte_types_shadow.{name}"))
        for name in _SCHEMA
    }


def _only(msg: message.Message, name: str) -> Any:
    """The one populated field ``name`` of ``msg``; None if anything else is populated."""
    fields = msg.ListFields()
    if len(fields) != 1 or fields[0][0].name != name or len(unknown_fields.UnknownFieldSet(msg)):
        return None
    return fields[0][1]


def _leaf_of_literal(lit: message.Message, scalar_kind: str, leaf: str) -> Any:
    scalar = _only(lit, "scalar")
    kind = None if scalar is None else _only(scalar, scalar_kind)
    if kind is None:
        return None
    if scalar_kind == "binary":
        return kind  # value and tag are both expected
    return _only(kind, leaf)


def collection_leaves(collection_bytes: bytes, count: int, scalar_kind: str, leaf: str) -> Any:
    """All ``leaf`` values of a serialized LiteralCollection of ``count`` primitives, or None.

    For ``scalar_kind="binary"`` the merged Binary message is returned (``.value``, ``.tag``).
    """
    merged = _classes()["Collection"].FromString(collection_bytes)
    if count == 0:
        return None
    lit = _only(merged, "literals")
    if lit is None:
        return None
    found = _leaf_of_literal(lit, scalar_kind, leaf)
    if found is None:
        return None
    size = len(found.value) if scalar_kind == "binary" else len(found)
    return found if size == count else None


def map_leaves(map_bytes: bytes, count: int, scalar_kind: str, leaf: str) -> tuple[Any, Any] | None:
    """(keys, leaf values) of a serialized LiteralMap of ``count`` primitives, or None."""
    if count == 0:
        return None
    merged = _classes()["Map"].FromString(map_bytes)
    entry = _only(merged, "literals")
    if entry is None or len(entry.ListFields()) != 2 or len(unknown_fields.UnknownFieldSet(entry)):
        return None
    found = _leaf_of_literal(entry.value, scalar_kind, leaf)
    if found is None:
        return None
    size = len(found.value) if scalar_kind == "binary" else len(found)
    if size != count or len(entry.key) != count:
        return None
    return entry.key, found
