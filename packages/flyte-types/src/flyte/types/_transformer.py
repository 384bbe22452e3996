"""`TypeTransformer`: the extension point that teaches the engine a Python type."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

if TYPE_CHECKING:
    from flyteidl2.core import literals_pb2, types_pb2

    from flyte.types._codec import Codec

T = TypeVar("T")


class TypeTransformer(Generic[T]):
    """Converts values of one Python type (and its subclasses) to and from flyteidl2 literals.

    Subclass it for a type the engine does not know, and register an instance with
    :meth:`flyte.types.TypeEngine.register`. Conversions are async so that a transformer may do
    I/O (upload a file, read a table); the engine offers sync helpers on top.

    Example:
        >>> class PointTransformer(TypeTransformer[Point]):  # doctest: +SKIP
        ...     def __init__(self):
        ...         super().__init__("Point", Point)
        ...     def get_literal_type(self, t):
        ...         return types_pb2.LiteralType(simple=types_pb2.SimpleType.STRING)
        ...     async def to_literal(self, python_val, python_type, expected):
        ...         s = f"{python_val.x},{python_val.y}"
        ...         return literals_pb2.Literal(scalar=literals_pb2.Scalar(
        ...             primitive=literals_pb2.Primitive(string_value=s)))
        ...     async def to_python_value(self, lv, expected_python_type):
        ...         return Point(*map(float, lv.scalar.primitive.string_value.split(",")))
        >>> TypeEngine.register(PointTransformer())  # doctest: +SKIP

    Args:
        name: the transformer's name; it is written as the ``structure.tag`` of union variants,
            so it must stay stable once data has been written.
        t: the Python type it handles.
        enable_type_assertions: whether :meth:`assert_type` runs before :meth:`to_literal`.
    """

    #: True for a transformer that reads ``Annotated[T, ...]`` metadata (DataFrame columns): the
    #: engine then hands it the annotated type instead of ``T``.
    accepts_annotated: ClassVar[bool] = False

    def __init__(self, name: str, t: type[T] | Any, enable_type_assertions: bool = True):
        self._name = name
        self._t = t
        self._type_assertions_enabled = enable_type_assertions

    @property
    def name(self) -> str:
        return self._name

    @property
    def python_type(self) -> Any:
        return self._t

    @property
    def type_assertions_enabled(self) -> bool:
        return self._type_assertions_enabled

    def assert_type(self, t: Any, v: Any) -> None:
        """Raise a :class:`TypeTransformerFailedError` if ``v`` is not a value of ``t``."""
        from flyte.types._errors import TypeTransformerFailedError

        check = typing.get_origin(t) or t
        if isinstance(check, type) and not isinstance(v, check):
            raise TypeTransformerFailedError(f"expected {getattr(t, '__name__', t)}, got {type(v).__name__}")

    def get_literal_type(self, t: Any) -> types_pb2.LiteralType:
        """The literal type that values of ``t`` are written as."""
        raise NotImplementedError(f"{type(self).__name__}.get_literal_type")

    def guess_python_type(self, literal_type: types_pb2.LiteralType) -> Any:
        """A Python type for ``literal_type``; raise ValueError if this transformer cannot tell."""
        raise ValueError(f"transformer {self.name!r} cannot reverse {literal_type}")

    async def to_literal(
        self, python_val: T, python_type: Any, expected: types_pb2.LiteralType
    ) -> literals_pb2.Literal:
        """Convert ``python_val`` (declared as ``python_type``) into a literal of type ``expected``."""
        raise NotImplementedError(f"{type(self).__name__}.to_literal")

    async def to_python_value(self, lv: literals_pb2.Literal, expected_python_type: Any) -> T:
        """Convert ``lv`` back into a value of ``expected_python_type``."""
        raise NotImplementedError(f"{type(self).__name__}.to_python_value")

    def codec(self, python_type: Any) -> Codec | None:
        """A compiled codec for ``python_type``, or None to be driven through the async methods.

        The built-in transformers return one; it lets collections and dataclasses convert their
        elements without an await per element. Third-party transformers need not implement it.
        """
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, python_type={self.python_type!r})"


class BuiltinTransformer(TypeTransformer[T]):
    """A transformer whose conversions are done by its compiled codec (the engine's built-ins).

    Its async methods, which third-party code may call directly, delegate to that codec.
    """

    def make_codec(self, python_type: Any) -> Codec:
        raise NotImplementedError

    def codec(self, python_type: Any) -> Codec | None:
        return self.make_codec(python_type)

    def get_literal_type(self, t: Any) -> types_pb2.LiteralType:
        from flyte.types._engine import TypeEngine

        return TypeEngine.to_literal_type(t)

    async def to_literal(
        self, python_val: T, python_type: Any, expected: types_pb2.LiteralType
    ) -> literals_pb2.Literal:
        from flyte.types._engine import TypeEngine

        return await TypeEngine.to_literal(python_val, python_type, expected)

    async def to_python_value(self, lv: literals_pb2.Literal, expected_python_type: Any) -> T:
        from flyte.types._engine import TypeEngine

        return typing.cast(T, await TypeEngine.to_python_value(lv, expected_python_type))
