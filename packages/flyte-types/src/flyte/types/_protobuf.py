"""Protobuf messages: ``scalar.generic`` (a google.protobuf.Struct of the message's JSON form)."""

from __future__ import annotations

from typing import Any

from flyteidl2.core import literals_pb2, types_pb2
from google.protobuf import json_format, message, struct_pb2

from flyte.types import _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import ValueMismatch, expected
from flyte.types._transformer import BuiltinTransformer

NAME = "Protobuf-Transformer"
PB_TYPE_KEY = "pb_type"


class ProtobufCodec(Codec):
    name = NAME

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, self.python_type):
            raise expected(self.python_type.__name__, value)
        as_dict = json_format.MessageToDict(value)
        if not isinstance(as_dict, dict):
            raise ValueMismatch(f"{type(value).__name__} has no JSON object form; wrap it in a message")
        generic = struct_pb2.Struct()
        generic.update(as_dict)
        return _wire.scalar_literal(7, generic.SerializeToString())

    def decode(self, lit: literals_pb2.Literal) -> Any:
        if lit.scalar.WhichOneof("value") != "generic":
            raise ValueMismatch(f"expected a generic (Struct) literal, got {kind_of(lit)}", decoding=True)
        try:
            return json_format.ParseDict(json_format.MessageToDict(lit.scalar.generic), self.python_type())
        except json_format.ParseError as e:
            raise ValueMismatch(f"not a valid {self.python_type.__name__}: {e}", decoding=True) from None


class ProtobufTransformer(BuiltinTransformer[message.Message]):
    def __init__(self) -> None:
        super().__init__(NAME, message.Message)

    def make_codec(self, python_type: Any) -> Codec:
        lt = types_pb2.LiteralType(simple=types_pb2.SimpleType.STRUCT)
        lt.metadata.update({PB_TYPE_KEY: f"{python_type.__module__}.{python_type.__name__}"})
        return ProtobufCodec(python_type, lt)
