"""Questions about Python type annotations that several transformers ask."""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from typing import Any

NoneType = type(None)


def type_name(t: Any) -> str:
    """A short readable name for an annotation: ``int``, ``list[Item]``, ``Optional[int]``."""
    if t is NoneType or t is None:
        return "None"
    if t is Ellipsis:
        return "..."
    args = typing.get_args(t)
    if is_union(t):
        return " | ".join(type_name(a) for a in args)
    origin = typing.get_origin(t)
    if origin is typing.Literal:
        return f"Literal[{', '.join(repr(a) for a in args)}]"
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is not None and args:
        return f"{type_name(origin)}[{', '.join(type_name(a) for a in args)}]"
    if isinstance(t, type):
        return t.__qualname__
    return repr(t).replace("typing.", "")


def strip_annotated(t: Any) -> tuple[Any, tuple[Any, ...]]:
    """``(T, metadata)`` for ``Annotated[T, *metadata]``; ``(t, ())`` otherwise."""
    if typing.get_origin(t) is typing.Annotated:
        args = typing.get_args(t)
        return args[0], tuple(args[1:])
    return t, ()


def is_union(t: Any) -> bool:
    origin = typing.get_origin(t)
    return origin is typing.Union or origin is types.UnionType


def is_literal(t: Any) -> bool:
    return typing.get_origin(t) is typing.Literal


def is_named_tuple(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "_fields") and hasattr(t, "__annotations__")


def is_typed_dict(t: Any) -> bool:
    return typing.is_typeddict(t) if sys.version_info >= (3, 10) else False


def is_typed_tuple(t: Any) -> bool:
    """``tuple[int, str]`` (fixed length, typed); not ``tuple``, ``tuple[()]`` or ``tuple[int, ...]``."""
    if typing.get_origin(t) is not tuple:
        return False
    args = typing.get_args(t)
    return bool(args) and Ellipsis not in args and args != ((),)


def dataclass_class(t: Any) -> type | None:
    """The dataclass behind ``t`` (also for a parameterized generic dataclass), else None."""
    cls = typing.get_origin(t) or t
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return cls
    return None


def is_pydantic_model(t: Any) -> bool:
    """True for pydantic BaseModel subclasses, without importing pydantic when no model exists."""
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(t, type):
        return False
    return issubclass(t, pydantic.BaseModel)


def is_protobuf_message(t: Any) -> bool:
    pb = sys.modules.get("google.protobuf.message")
    return pb is not None and isinstance(t, type) and issubclass(t, pb.Message)


def resolved_hints(cls: Any) -> dict[str, Any]:
    """Evaluated annotations of a class (handles ``from __future__ import annotations``)."""
    return typing.get_type_hints(cls, include_extras=True)
