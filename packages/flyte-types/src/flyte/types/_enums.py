"""``enum.Enum`` and ``typing.Literal``: an ``enum_type`` literal type, the value as a string.

Enum members travel by *name* (what flyte 2.12.1 writes); a ``Literal["a", "b"]`` travels as the
string itself, which is also what flyte 2.12.1 does for Literal inputs and outputs of tasks.
"""

from __future__ import annotations

import enum
import typing
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import TypeTransformerFailedError, ValueMismatch, expected
from flyte.types._transformer import BuiltinTransformer

ENUM_NAME = "DefaultEnumTransformer"


def _enum_type(values: list[str]) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=values))


def _string_of(lit: literals_pb2.Literal) -> str:
    p = lit.scalar.primitive
    if p.WhichOneof("value") != "string_value":
        raise ValueMismatch(f"expected a string (enum) literal, got {kind_of(lit)}", decoding=True)
    return p.string_value


class EnumCodec(Codec):
    name = ENUM_NAME

    def __init__(self, cls: type[enum.Enum]):
        members = list(cls)
        if not members:
            raise TypeTransformerFailedError(f"{cls.__name__} has no members, so nothing can be sent")
        if issubclass(cls, enum.Flag):
            raise TypeTransformerFailedError(
                f"{cls.__name__} is a Flag enum: a combined member has no name to send. Use an int instead."
            )
        if not isinstance(members[0].value, str) and not issubclass(cls, enum.IntEnum):
            raise TypeTransformerFailedError(
                f"only string-valued enums and IntEnum are supported, {cls.__name__} has "
                f"{type(members[0].value).__name__} values"
            )
        super().__init__(cls, _enum_type([m.name for m in members]))
        self.cls = cls

    def matches(self, value: Any) -> bool:
        return isinstance(value, self.cls)

    def encode(self, value: Any) -> bytes:
        if isinstance(value, self.cls):
            return _wire.str_literal(value.name)
        if isinstance(value, str):  # a member's name or value, e.g. from a CLI or JSON
            for m in self.cls:
                if value in (m.name, m.value):
                    return _wire.str_literal(m.name)
            raise ValueMismatch(f"{value!r} is not a member of {self.cls.__name__}")
        raise expected(self.cls.__name__, value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        name = _string_of(lit)
        try:
            return self.cls[name]
        except KeyError:
            raise ValueMismatch(f"{name!r} is not a member of {self.cls.__name__}", decoding=True) from None


class LiteralCodec(Codec):
    """``typing.Literal["a", "b"]``: the strings themselves are the enum values."""

    name = ENUM_NAME

    def __init__(self, python_type: Any):
        self.allowed = typing.get_args(python_type)
        super().__init__(python_type, _enum_type(list(self.allowed)))

    def matches(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.allowed

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise expected("str", value)
        if value not in self.allowed:
            raise ValueMismatch(f"expected one of {list(self.allowed)}, got {value!r}")
        return _wire.str_literal(value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        value = _string_of(lit)
        if value not in self.allowed:
            raise ValueMismatch(f"{value!r} is not one of {list(self.allowed)}", decoding=True)
        return value


def literal_is_enum(python_type: Any) -> bool:
    """A Literal of strings is an enum; flyte 2.12.1 pickles any other Literal, and so do we."""
    return all(isinstance(a, str) for a in typing.get_args(python_type))


class EnumTransformer(BuiltinTransformer[enum.Enum]):
    def __init__(self) -> None:
        super().__init__(ENUM_NAME, enum.Enum)

    def make_codec(self, python_type: Any) -> Codec:
        if typing.get_origin(python_type) is typing.Literal:
            return LiteralCodec(python_type)
        return EnumCodec(python_type)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        if literal_type.HasField("enum_type"):
            values = list(literal_type.enum_type.values)
            return enum.Enum("DynamicEnum", {v: v for v in values})
        return super().guess_python_type(literal_type)
