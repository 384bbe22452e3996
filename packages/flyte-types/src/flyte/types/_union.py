"""``Optional[T]`` and ``Union[...]``: a ``union`` scalar holding the value and its variant's type.

Each variant's literal type carries ``structure.tag`` = the variant transformer's name, which is
how flyte 2.12.1 (and this engine) picks the variant back. A value that fits more than one
variant, or a literal that reads back as more than one, is an error: silently choosing one would
change the data.
"""

from __future__ import annotations

import typing
from typing import Any

from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import _typing, _wire
from flyte.types._codec import Codec
from flyte.types._errors import ValueMismatch
from flyte.types._transformer import BuiltinTransformer

NAME = "Typed Union"


def _tagged(codec: Codec) -> types_pb2.LiteralType:
    lt = types_pb2.LiteralType()
    lt.CopyFrom(codec.literal_type)
    lt.structure.CopyFrom(types_pb2.TypeStructure(tag=codec.name))
    return lt


def _essence(lt: types_pb2.LiteralType) -> bytes:
    x = types_pb2.LiteralType()
    x.CopyFrom(lt)
    for f in ("metadata", "structure", "annotation"):
        x.ClearField(f)
    return x.SerializeToString(deterministic=True)


class UnionCodec(Codec):
    name = NAME

    def __init__(self, python_type: Any, variants: list[Codec]):
        self.variants = variants
        self.tagged = [_tagged(v) for v in variants]
        self.tagged_bytes = [t.SerializeToString(deterministic=True) for t in self.tagged]
        super().__init__(python_type, types_pb2.LiteralType(union_type=types_pb2.UnionType(variants=self.tagged)))
        self.is_async = any(v.is_async for v in variants)
        self._names = " | ".join(_typing.type_name(v.python_type) for v in variants)

    def matches(self, value: Any) -> bool:
        return any(v.matches(value) for v in self.variants)

    def _candidates(self, value: Any) -> list[int]:
        exact = [i for i, v in enumerate(self.variants) if v.matches(value)]
        return exact or list(range(len(self.variants)))

    def _choose(self, value: Any, results: list[tuple[int, bytes]], errors: list[str]) -> bytes:
        if len(results) == 1:
            i, payload = results[0]
            return _wire.union_literal(payload, self.tagged_bytes[i])
        if not results:
            why = "; ".join(errors)
            raise ValueMismatch(f"expected {self._names}, got {type(value).__name__} ({why})")
        fits = ", ".join(_typing.type_name(self.variants[i].python_type) for i, _ in results)
        raise ValueMismatch(f"ambiguous: the value fits more than one variant of the union ({fits})")

    def encode(self, value: Any) -> bytes:
        results: list[tuple[int, bytes]] = []
        errors: list[str] = []
        for i in self._candidates(value):
            try:
                results.append((i, self.variants[i].encode(value)))
            except ValueMismatch as e:
                errors.append(f"{_typing.type_name(self.variants[i].python_type)}: {e.path('')} {e.detail}".strip())
        return self._choose(value, results, errors)

    async def encode_async(self, value: Any) -> bytes:
        if not self.is_async:
            return self.encode(value)
        results: list[tuple[int, bytes]] = []
        errors: list[str] = []
        for i in self._candidates(value):
            try:
                results.append((i, await self.variants[i].encode_async(value)))
            except ValueMismatch as e:
                errors.append(e.detail)
        return self._choose(value, results, errors)

    def _readers(self, lit: literals_pb2.Literal) -> tuple[list[int], literals_pb2.Literal]:
        """Variants that may read ``lit`` and the literal they read."""
        if lit.scalar.WhichOneof("value") != "union":
            return list(range(len(self.variants))), lit  # a bare value: every variant may try
        union = lit.scalar.union
        tag = union.type.structure.tag
        picked = [i for i, v in enumerate(self.variants) if v.name == tag] if tag else []
        if len(picked) > 1:
            essence = _essence(union.type)
            picked = [i for i in picked if _essence(self.tagged[i]) == essence] or picked
        if len(picked) > 1:
            exact = union.type.SerializeToString(deterministic=True)
            picked = [i for i in picked if self.tagged_bytes[i] == exact] or picked
        if not picked:
            if tag:
                raise ValueMismatch(f"union literal of variant {tag!r} is not one of {self._names}", decoding=True)
            picked = list(range(len(self.variants)))
        return picked, union.value

    def decode(self, lit: literals_pb2.Literal) -> Any:
        picked, inner = self._readers(lit)
        if len(picked) == 1:
            return self.variants[picked[0]].decode(inner)
        found: list[tuple[int, Any]] = []
        for i in picked:
            try:
                found.append((i, self.variants[i].decode(inner)))
            except ValueMismatch:
                continue
        return self._one(found)

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        if not self.is_async:
            return self.decode(lit)
        picked, inner = self._readers(lit)
        if len(picked) == 1:
            return await self.variants[picked[0]].decode_async(inner)
        found: list[tuple[int, Any]] = []
        for i in picked:
            try:
                found.append((i, await self.variants[i].decode_async(inner)))
            except ValueMismatch:
                continue
        return self._one(found)

    def _one(self, found: list[tuple[int, Any]]) -> Any:
        if len(found) == 1:
            return found[0][1]
        if not found:
            raise ValueMismatch(f"the literal is none of {self._names}", decoding=True)
        fits = ", ".join(_typing.type_name(self.variants[i].python_type) for i, _ in found)
        raise ValueMismatch(f"ambiguous: the literal reads as more than one variant ({fits})", decoding=True)


class UnionTransformer(BuiltinTransformer[Any]):
    def __init__(self) -> None:
        super().__init__(NAME, typing.Union)

    def make_codec(self, python_type: Any) -> Codec:
        from flyte.types._engine import TypeEngine

        return UnionCodec(python_type, [TypeEngine.codec(a) for a in typing.get_args(python_type)])

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        from flyte.types._engine import TypeEngine

        if literal_type.HasField("union_type"):
            return typing.Union[tuple(TypeEngine.guess_python_type(v) for v in literal_type.union_type.variants)]  # noqa: UP007
        return super().guess_python_type(literal_type)
