"""The compiled converter for one Python type: the unit the engine caches and composes.

A :class:`Codec` is built once per annotation (``list[Item]``, ``Optional[int]``...) and knows its
literal type, how to write a value as serialized ``Literal`` bytes and how to read a parsed
``Literal`` back. Composite codecs (list, map, union, dataclass) hold their children's codecs, so
converting a value never looks a type up again. Built-in codecs are synchronous; a codec is async
only when it wraps a transformer whose conversion is async (for example one that uploads files),
and the composites above it become async too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from flyte.types import _wire
from flyte.types._errors import ValueMismatch

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2, types_pb2


class Codec:
    """Converts values of one Python type to and from literals.

    Subclasses implement :meth:`encode` and :meth:`decode`; the element-wise methods have
    correct defaults that fast codecs override with whole-collection versions.
    """

    #: The transformer name: the ``structure.tag`` of union variants, as flyte 2.12.1 writes it.
    name: str = ""
    is_async: bool = False
    #: The Primitive field every literal of this codec sets, when there is one: lets collections
    #: and maps of it be read in C (see ``_shadow``).
    shadow_leaf: str | None = None

    def __init__(self, python_type: Any, literal_type: types_pb2.LiteralType):
        self.python_type = python_type
        self.literal_type = literal_type

    @cached_property
    def literal_type_bytes(self) -> bytes:
        return self.literal_type.SerializeToString(deterministic=True)

    def matches(self, value: Any) -> bool:
        """Cheap exact check used to pick a union variant before trying conversions."""
        return type(value) is self.python_type

    def encode(self, value: Any) -> bytes:
        """Serialized ``Literal`` for ``value``; raises :class:`ValueMismatch` when it does not fit."""
        raise NotImplementedError

    def decode(self, lit: literals_pb2.Literal) -> Any:
        """The Python value of ``lit``; raises :class:`ValueMismatch` (decoding) when it cannot."""
        raise NotImplementedError

    async def encode_async(self, value: Any) -> bytes:
        return self.encode(value)

    async def decode_async(self, lit: literals_pb2.Literal) -> Any:
        return self.decode(lit)

    def encode_elements(self, values: Sequence[Any]) -> bytes:
        """Concatenated ``LiteralCollection.literals`` entries, one per value."""
        encode = self.encode
        parts = []
        i = 0
        try:
            for i, v in enumerate(values):  # noqa: B007 - i is read by the error path
                parts.append(_wire.delimited(1, encode(v)))
        except ValueMismatch as e:
            raise e.at(f"[{i}]") from None
        return b"".join(parts)

    def decode_elements(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        decode = self.decode
        out = []
        i = 0
        try:
            for i, lit in enumerate(collection.literals):  # noqa: B007
                out.append(decode(lit))
        except ValueMismatch as e:
            raise e.at(f"[{i}]") from None
        return out

    async def encode_elements_async(self, values: Sequence[Any]) -> bytes:
        if not self.is_async:
            return self.encode_elements(values)
        results = await asyncio.gather(*(_located(self.encode_async(v), f"[{i}]") for i, v in enumerate(values)))
        return b"".join(_wire.delimited(1, r) for r in results)

    async def decode_elements_async(self, collection: literals_pb2.LiteralCollection) -> list[Any]:
        if not self.is_async:
            return self.decode_elements(collection)
        return list(
            await asyncio.gather(
                *(_located(self.decode_async(lit), f"[{i}]") for i, lit in enumerate(collection.literals))
            )
        )


async def _located(coro: Any, segment: str) -> Any:
    try:
        return await coro
    except ValueMismatch as e:
        raise e.at(segment) from None


def kind_of(lit: literals_pb2.Literal) -> str:
    """A short description of what a literal holds, for error messages."""
    which = lit.WhichOneof("value")
    if which == "scalar":
        inner = lit.scalar.WhichOneof("value")
        if inner == "primitive":
            return f"primitive {lit.scalar.primitive.WhichOneof('value')}"
        return f"scalar {inner}"
    return str(which or "empty literal")
