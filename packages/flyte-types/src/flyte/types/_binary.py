"""Values carried as ``scalar.binary`` tagged ``"msgpack"``: the shared codec base.

Untyped dicts, typed tuples, NamedTuples, TypedDicts, dataclasses and pydantic models all travel
this way and differ only in how a value becomes plain data (``to_builtin``) and back, and in
their literal type. msgpack is imported on first use, not with ``flyte.types``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2
from google.protobuf import struct_pb2

from flyte.types import _shadow, _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import ValueMismatch

MSGPACK = "msgpack"


def msgpack_annotation() -> types_pb2.TypeAnnotation:
    """The ``cache-key-metadata`` annotation flyte 2.12.1 puts on msgpack-carried types."""
    ann = struct_pb2.Struct()
    ann.update({"cache-key-metadata": {"serialization-format": MSGPACK}})
    return types_pb2.TypeAnnotation(annotations=ann)


def struct_literal_type(schema: dict[str, Any] | None, tag: str | None) -> types_pb2.LiteralType:
    lt = types_pb2.LiteralType(simple=types_pb2.SimpleType.STRUCT, annotation=msgpack_annotation())
    if schema is not None:
        lt.metadata.update(schema)
    if tag:
        lt.structure.tag = tag
    return lt


class MsgpackCodec(Codec):
    """A value <-> msgpack bytes in ``scalar.binary``; subclasses provide the plain-data mapping."""

    def __init__(
        self,
        python_type: Any,
        literal_type: types_pb2.LiteralType,
        name: str,
        to_builtin: Callable[[Any], Any],
        from_builtin: Callable[[Any], Any],
        match: Callable[[Any], bool] | None = None,
    ):
        super().__init__(python_type, literal_type)
        self.name = name
        self.to_builtin = to_builtin
        self.from_builtin = from_builtin
        self._match = match

    def matches(self, value: Any) -> bool:
        return self._match(value) if self._match is not None else super().matches(value)

    def pack(self, value: Any) -> bytes:
        import msgpack  # type: ignore[import-untyped]

        data = self.to_builtin(value)
        try:
            return msgpack.packb(data)  # type: ignore[no-any-return]
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueMismatch(f"cannot be written as msgpack: {e}") from None

    def unpack(self, payload: bytes) -> Any:
        import msgpack

        try:
            data = msgpack.unpackb(payload, strict_map_key=False)
        except Exception as e:  # msgpack raises several unrelated classes for corrupt input
            raise ValueMismatch(f"corrupt msgpack payload: {e}", decoding=True) from None
        return self.from_builtin(data)

    def encode(self, value: Any) -> bytes:
        return _wire.binary_literal(self.pack(value), MSGPACK)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        if lit.scalar.WhichOneof("value") != "binary":
            raise ValueMismatch(f"expected a msgpack binary literal, got {kind_of(lit)}", decoding=True)
        binary = lit.scalar.binary
        if binary.tag != MSGPACK:
            raise ValueMismatch(f"unsupported binary format {binary.tag!r}, expected 'msgpack'", decoding=True)
        return self.unpack(binary.value)

    def encode_elements(self, values: Sequence[Any]) -> bytes:
        pack, lit, d = self.pack, _wire.binary_literal, _wire.delimited
        parts = []
        i = 0
        try:
            for i, v in enumerate(values):  # noqa: B007 - i is read by the error path
                parts.append(d(1, lit(pack(v), MSGPACK)))
        except ValueMismatch as e:
            raise e.at(f"[{i}]") from None
        return b"".join(parts)

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        count = len(collection.literals)
        merged = _shadow.collection_leaves(collection.SerializeToString(), count, "binary", "") if count else None
        if merged is None or len(merged.tag) != count or set(merged.tag) != {MSGPACK}:
            return super().decode_elements(collection)
        unpack = self.unpack
        out = []
        i = 0
        try:
            for i, v in enumerate(merged.value):  # noqa: B007
                out.append(unpack(v))
        except ValueMismatch as e:
            raise e.at(f"[{i}]") from None
        return out
