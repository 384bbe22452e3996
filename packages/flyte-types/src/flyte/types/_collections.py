"""``list[T]`` -> ``collection`` and ``dict[str, T]`` -> ``map``; other dicts -> msgpack binary."""

from __future__ import annotations

import asyncio
import typing
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import _shadow, _wire
from flyte.types._codec import Codec, kind_of
from flyte.types._errors import ValueMismatch, expected, key_segment
from flyte.types._transformer import BuiltinTransformer


class ListCodec(Codec):
    name = "Typed List"

    def __init__(self, python_type: Any, element: Codec):
        super().__init__(python_type, types_pb2.LiteralType(collection_type=element.literal_type))
        self.element = element
        self.is_async = element.is_async

    def matches(self, value: Any) -> bool:
        return type(value) is list

    def _check(self, value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            raise expected("list", value)
        return value

    def encode(self, value: Any) -> bytes:
        return _wire.collection_literal(self.element.encode_elements(self._check(value)))

    async def encode_async(self, value: Any) -> bytes:
        return _wire.collection_literal(await self.element.encode_elements_async(self._check(value)))

    def _collection(self, lit: literals_pb2.Literal) -> literals_pb2.LiteralCollection:
        if lit.WhichOneof("value") != "collection":
            raise ValueMismatch(f"expected a collection literal, got {kind_of(lit)}", decoding=True)
        return lit.collection

    def decode(self, lit: literals_pb2.Literal) -> Any:
        return self.element.decode_elements(self._collection(lit))

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        return await self.element.decode_elements_async(self._collection(lit))


class MapCodec(Codec):
    name = "Typed Dict"

    def __init__(self, python_type: Any, value: Codec):
        super().__init__(python_type, types_pb2.LiteralType(map_value_type=value.literal_type))
        self.value = value
        self.is_async = value.is_async

    def matches(self, value: Any) -> bool:
        return type(value) is dict

    def _items(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise expected("dict", value)
        for k in value:
            if not isinstance(k, str):
                raise ValueMismatch(f"map keys must be str, got {type(k).__name__}").at(key_segment(k))
        return value.items()

    def encode(self, value: Any) -> bytes:
        items = self._items(value)
        if self.value.shadow_leaf == "float_value" and set(map(type, value.values())) <= {float}:
            fast = _wire.float_map_entries(list(items))
            if fast is not None:
                return _wire.map_literal(fast)
        encode, entry = self.value.encode, _wire.map_entry
        parts = []
        k = ""
        try:
            for k, v in items:
                parts.append(entry(k, encode(v)))
        except ValueMismatch as e:
            raise e.at(key_segment(k)) from None
        return _wire.map_literal(b"".join(parts))

    async def encode_async(self, value: Any) -> bytes:
        if not self.is_async:
            return self.encode(value)
        items = list(self._items(value))

        async def one(k: str, v: Any) -> bytes:
            try:
                return _wire.map_entry(k, await self.value.encode_async(v))
            except ValueMismatch as e:
                raise e.at(key_segment(k)) from None

        return _wire.map_literal(b"".join(await asyncio.gather(*(one(k, v) for k, v in items))))

    def _map(self, lit: literals_pb2.Literal) -> Any:
        if lit.WhichOneof("value") != "map":
            raise ValueMismatch(f"expected a map literal, got {kind_of(lit)}", decoding=True)
        return lit.map

    def decode(self, lit: literals_pb2.Literal) -> Any:
        m = self._map(lit)
        leaf = self.value.shadow_leaf
        count = len(m.literals)
        if leaf is not None and count:
            found = _shadow.map_leaves(m.SerializeToString(), count, "primitive", leaf)
            if found is not None:
                return dict(zip(found[0], found[1], strict=True))
        decode = self.value.decode
        out = {}
        for k, v in m.literals.items():
            try:
                out[k] = decode(v)
            except ValueMismatch as e:
                raise e.at(key_segment(k)) from None
        return out

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        if not self.is_async:
            return self.decode(lit)
        items = list(self._map(lit).literals.items())

        async def one(k: str, v: literals_pb2.Literal) -> Any:
            try:
                return await self.value.decode_async(v)
            except ValueMismatch as e:
                raise e.at(key_segment(k)) from None

        values = await asyncio.gather(*(one(k, v) for k, v in items))
        return dict(zip((k for k, _ in items), values, strict=True))


class ListTransformer(BuiltinTransformer[list[Any]]):
    def __init__(self) -> None:
        super().__init__("Typed List", list)

    def make_codec(self, python_type: Any) -> Codec:
        from flyte.types._engine import TypeEngine

        (elem,) = typing.get_args(python_type)
        return ListCodec(python_type, TypeEngine.codec(elem))

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        from flyte.types._engine import TypeEngine

        if literal_type.HasField("collection_type"):
            return list[TypeEngine.guess_python_type(literal_type.collection_type)]  # type: ignore[misc]
        return super().guess_python_type(literal_type)


class DictTransformer(BuiltinTransformer[dict[str, Any]]):
    def __init__(self) -> None:
        super().__init__("Typed Dict", dict)

    def make_codec(self, python_type: Any) -> Codec:
        from flyte.types._engine import TypeEngine
        from flyte.types._structured import untyped_dict_codec

        args = typing.get_args(python_type)
        if len(args) == 2 and args[0] is str and args[1] is not typing.Any:
            return MapCodec(python_type, TypeEngine.codec(args[1]))
        return untyped_dict_codec(python_type, self.name)

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        from flyte.types._engine import TypeEngine

        if literal_type.HasField("map_value_type"):
            return dict[str, TypeEngine.guess_python_type(literal_type.map_value_type)]  # type: ignore[misc]
        if literal_type.simple == types_pb2.SimpleType.STRUCT and not literal_type.HasField("metadata"):
            return dict
        return super().guess_python_type(literal_type)
