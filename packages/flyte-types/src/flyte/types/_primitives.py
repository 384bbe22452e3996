"""int, float, str, bool, None, datetime, date and timedelta: ``scalar.primitive`` / ``none_type``."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import _shadow, _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import ValueMismatch, expected
from flyte.types._transformer import BuiltinTransformer
from flyte.types._typing import NoneType

_UTC = datetime.timezone.utc
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=_UTC)
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def _simple(simple: int) -> types_pb2.LiteralType:
    return types_pb2.LiteralType(simple=simple)  # type: ignore[arg-type]


def _wrong_literal(lit: literals_pb2.Literal, what: str) -> ValueMismatch:
    return ValueMismatch(f"expected a literal holding {what}, got {kind_of(lit)}", decoding=True)


def _primitive_bytes(collection: literals_pb2.LiteralCollection, leaf: str) -> Any:
    count = len(collection.literals)
    if count == 0:
        return None
    return _shadow.collection_leaves(collection.SerializeToString(), count, "primitive", leaf)


class IntCodec(Codec):
    name = "int"
    shadow_leaf = "integer"

    def encode(self, value: Any) -> bytes:
        if type(value) is not int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise expected("int", value)
            value = int(value)
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ValueMismatch(f"{value} does not fit in a 64-bit integer")
        return _wire.int_literal(value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        which = p.WhichOneof("value")
        if which == "integer":
            return p.integer
        # Consoles and JSON send whole numbers as floats; accept them when nothing is lost.
        if which == "float_value" and p.float_value.is_integer():
            return int(p.float_value)
        raise _wrong_literal(lit, "an integer")

    def encode_elements(self, values: Sequence[Any]) -> bytes:
        if set(map(type, values)) <= {int}:
            try:
                return _wire.int64_elements(values)
            except OverflowError:
                pass  # the element-wise path names the element
        return super().encode_elements(values)

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        found = _primitive_bytes(collection, "integer")
        return list(found) if found is not None else super().decode_elements(collection)


class FloatCodec(Codec):
    name = "float"
    shadow_leaf = "float_value"

    def matches(self, value: Any) -> bool:
        return type(value) is float

    def encode(self, value: Any) -> bytes:
        if type(value) is not float:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise expected("float", value)
            value = float(value)
        return _wire.float_literal(value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        which = p.WhichOneof("value")
        if which == "float_value":
            return p.float_value
        if which == "integer":
            return float(p.integer)
        raise _wrong_literal(lit, "a float")

    def encode_elements(self, values: Sequence[Any]) -> bytes:
        if set(map(type, values)) <= {float, int}:
            return _wire.double_elements(values)
        return super().encode_elements(values)

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        found = _primitive_bytes(collection, "float_value")
        return list(found) if found is not None else super().decode_elements(collection)


class StrCodec(Codec):
    name = "str"
    shadow_leaf = "string_value"

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise expected("str", value)
        return _wire.str_literal(value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        if p.WhichOneof("value") == "string_value":
            return p.string_value
        raise _wrong_literal(lit, "a string")

    def encode_elements(self, values: Sequence[Any]) -> bytes:
        if set(map(type, values)) <= {str}:
            d, s = _wire.delimited, _wire.str_literal
            return b"".join([d(1, s(v)) for v in values])
        return super().encode_elements(values)

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        found = _primitive_bytes(collection, "string_value")
        return list(found) if found is not None else super().decode_elements(collection)


class BoolCodec(Codec):
    name = "bool"
    shadow_leaf = "boolean"

    def encode(self, value: Any) -> bytes:
        if value is True:
            return _wire.TRUE_LITERAL
        if value is False:
            return _wire.FALSE_LITERAL
        raise expected("bool", value)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        if p.WhichOneof("value") == "boolean":
            return p.boolean
        raise _wrong_literal(lit, "a boolean")

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        found = _primitive_bytes(collection, "boolean")
        return list(found) if found is not None else super().decode_elements(collection)


class NoneCodec(Codec):
    name = "none"

    def matches(self, value: Any) -> bool:
        return value is None

    def encode(self, value: Any) -> bytes:
        if value is not None:
            raise expected("None", value)
        return _wire.NONE_LITERAL

    def decode(self, lit: literals_pb2.Literal) -> Any:
        if lit.scalar.WhichOneof("value") == "none_type":
            return None
        raise _wrong_literal(lit, "None")


def _split_micros(total_us: int) -> tuple[int, int]:
    """(seconds, nanos) with the same sign, as google.protobuf.Duration requires."""
    sign = -1 if total_us < 0 else 1
    s, us = divmod(abs(total_us), 1_000_000)
    return sign * s, sign * us * 1000


def _micros(d: datetime.timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


class DatetimeCodec(Codec):
    name = "datetime"

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, datetime.datetime):
            raise expected("datetime", value)
        if value.tzinfo is None:  # naive datetimes are taken as UTC, as flyte 2.12.1 does
            value = value.replace(tzinfo=_UTC)
        seconds, micros = divmod(_micros(value - _EPOCH), 1_000_000)
        return _wire.datetime_literal(seconds, micros * 1000)

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        if p.WhichOneof("value") != "datetime":
            raise _wrong_literal(lit, "a datetime")
        ts = p.datetime
        return _EPOCH + datetime.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


class DateCodec(DatetimeCodec):
    name = "date"

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise expected("date", value)
        return super().encode(datetime.datetime(value.year, value.month, value.day, tzinfo=_UTC))

    def decode(self, lit: literals_pb2.Literal) -> Any:
        return super().decode(lit).date()


class TimedeltaCodec(Codec):
    name = "timedelta"

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, datetime.timedelta):
            raise expected("timedelta", value)
        return _wire.duration_literal(*_split_micros(_micros(value)))

    def decode(self, lit: literals_pb2.Literal) -> Any:
        p = lit.scalar.primitive
        if p.WhichOneof("value") != "duration":
            raise _wrong_literal(lit, "a duration")
        return datetime.timedelta(seconds=p.duration.seconds, microseconds=p.duration.nanos // 1000)


_S = types_pb2.SimpleType
_TABLE: list[tuple[Any, type[Codec], int]] = [
    (int, IntCodec, _S.INTEGER),
    (float, FloatCodec, _S.FLOAT),
    (str, StrCodec, _S.STRING),
    (bool, BoolCodec, _S.BOOLEAN),
    (NoneType, NoneCodec, _S.NONE),
    (datetime.datetime, DatetimeCodec, _S.DATETIME),
    (datetime.date, DateCodec, _S.DATETIME),
    (datetime.timedelta, TimedeltaCodec, _S.DURATION),
]


class PrimitiveTransformer(BuiltinTransformer[Any]):
    """One of the simple types; the codec class and simple literal type come from the table."""

    def __init__(self, t: Any, codec_cls: type[Codec], simple: int):
        super().__init__(codec_cls.name, t)
        self._codec_cls = codec_cls
        self._simple = simple

    def make_codec(self, python_type: Any) -> Codec:
        return self._codec_cls(self.python_type, _simple(self._simple))

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        if literal_type.WhichOneof("type") == "simple" and literal_type.simple == self._simple:
            return self.python_type
        return super().guess_python_type(literal_type)


def primitive_transformers() -> list[PrimitiveTransformer]:
    return [PrimitiveTransformer(t, c, s) for t, c, s in _TABLE]


# What a simple literal type reads back as when only the literal type is known.
GUESSES: dict[int, Any] = {
    _S.INTEGER: int,
    _S.FLOAT: float,
    _S.STRING: str,
    _S.BOOLEAN: bool,
    _S.NONE: NoneType,
    _S.DATETIME: datetime.datetime,
    _S.DURATION: datetime.timedelta,
}
