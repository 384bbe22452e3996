"""Typed tuples, NamedTuples, TypedDicts, dataclasses and untyped dicts: msgpack binaries."""

from __future__ import annotations

import typing
from typing import Any

from flyteidl2.core import types_pb2

from flyte.types import _builtin, _jsonschema, _typing
from flyte.types._binary import MsgpackCodec, struct_literal_type
from flyte.types._codec import Codec
from flyte.types._errors import ValueMismatch, expected
from flyte.types._transformer import BuiltinTransformer

# flyte 2.12.1 describes tuples and TypedDicts through pydantic wrapper models; this is the
# structure tag those literal types carry.
_WRAPPER_TAG = "Pydantic Transformer"
DATACLASS_NAME = "Object-Dataclass-Transformer"


class _Keyed:
    """``(a, b)`` <-> ``{"item_0": a, "item_1": b}`` (or field names for a NamedTuple)."""

    def __init__(self, keys: list[str], types: list[Any], build: typing.Callable[[list[Any]], Any]):
        self.plan = [(k, *_builtin.converters(t)) for k, t in zip(keys, types, strict=True)]
        self.build = build

    def to_builtin(self, value: Any) -> Any:
        if not isinstance(value, tuple) or len(value) != len(self.plan):
            raise ValueMismatch(f"expected a tuple of {len(self.plan)}, got {type(value).__name__}")
        out = {}
        for (key, to, _), v in zip(self.plan, value, strict=True):
            try:
                out[key] = to(v)
            except ValueMismatch as e:
                raise e.at(f".{key}") from None
        return out

    def from_builtin(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueMismatch(f"expected a map, got {type(data).__name__}", decoding=True)
        items = []
        for key, _, fr in self.plan:
            if key not in data:
                raise ValueMismatch(f"missing {key!r}", decoding=True)
            try:
                items.append(fr(data[key]))
            except ValueMismatch as e:
                raise e.at(f".{key}") from None
        return self.build(items)


class TupleTransformer(BuiltinTransformer[tuple[Any, ...]]):
    def __init__(self) -> None:
        super().__init__("Typed Tuple", tuple)

    def make_codec(self, python_type: Any) -> Codec:
        args = typing.get_args(python_type)
        keys = [f"item_{i}" for i in range(len(args))]
        keyed = _Keyed(keys, list(args), tuple)
        schema = _jsonschema.wrapper_schema("TupleWrapper_tuple", list(zip(keys, args, strict=True)))
        return MsgpackCodec(
            python_type, struct_literal_type(schema, _WRAPPER_TAG), self.name, keyed.to_builtin, keyed.from_builtin
        )


class NamedTupleTransformer(BuiltinTransformer[tuple[Any, ...]]):
    def __init__(self) -> None:
        super().__init__("NamedTuple", tuple)

    def make_codec(self, python_type: Any) -> Codec:
        hints = _typing.resolved_hints(python_type)
        fields = list(python_type._fields)
        keyed = _Keyed(fields, [hints[f] for f in fields], lambda items: python_type(*items))
        schema = _jsonschema.wrapper_schema(
            f"NamedTupleWrapper_{python_type.__name__}", [(f, hints[f]) for f in fields]
        )
        return MsgpackCodec(
            python_type, struct_literal_type(schema, _WRAPPER_TAG), self.name, keyed.to_builtin, keyed.from_builtin
        )


class TypedDictTransformer(BuiltinTransformer[dict[str, Any]]):
    def __init__(self) -> None:
        super().__init__("TypedDict", dict)

    def make_codec(self, python_type: Any) -> Codec:
        to, fr = _builtin.converters(python_type)
        hints = _typing.resolved_hints(python_type)
        schema = _jsonschema.wrapper_schema(f"TypedDictWrapper_{python_type.__name__}", list(hints.items()))
        # A plain dict is no evidence of being this TypedDict: never an exact union match.
        return MsgpackCodec(python_type, struct_literal_type(schema, _WRAPPER_TAG), self.name, to, fr, lambda v: False)


def _untyped_to(value: Any) -> Any:
    if not isinstance(value, dict):
        raise expected("dict", value)
    return value


def _untyped_from(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueMismatch(f"expected a map, got {type(data).__name__}", decoding=True)
    return data


def untyped_dict_codec(python_type: Any, name: str) -> Codec:
    """``dict``, ``dict[Any, Any]``, ``dict[int, str]``...: the whole dict as one msgpack map."""
    args = typing.get_args(python_type)
    to, fr = _builtin.converters(python_type) if args else (_untyped_to, _untyped_from)
    return MsgpackCodec(python_type, struct_literal_type(None, None), name, to, fr, lambda v: type(v) is dict)


class DataclassTransformer(BuiltinTransformer[Any]):
    """Dataclasses: msgpack of the fields in declaration order; JSON schema in the metadata."""

    def __init__(self) -> None:
        super().__init__(DATACLASS_NAME, object)

    def make_codec(self, python_type: Any) -> Codec:
        cls = typing.cast(type, _typing.dataclass_class(python_type))
        to, fr = _builtin.converters(python_type)
        lt = struct_literal_type(_jsonschema.dataclass_schema(cls), self.name)
        return MsgpackCodec(python_type, lt, self.name, to, fr, lambda v: type(v) is cls)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        from flyte.types._guess import dataclass_from_schema

        if literal_type.structure.tag == self.name and literal_type.HasField("metadata"):
            return dataclass_from_schema(literal_type.metadata)
        return super().guess_python_type(literal_type)
