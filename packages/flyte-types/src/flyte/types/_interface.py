"""Task interfaces: a Python signature -> typed inputs (with defaults) and outputs -> flyteidl2."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flyteidl2.core import interface_pb2
from flyteidl2.task import common_pb2

from flyte.types import _typing
from flyte.types._engine import TypeEngine

EMPTY: Any = inspect.Parameter.empty


def output_name(index: int) -> str:
    return f"o{index}"


def outputs_of(annotation: Any) -> dict[str, Any]:
    """Named outputs of a return annotation.

    ``-> None`` has none; ``-> NT`` (a NamedTuple) one per field; ``-> tuple[int, str]`` ``o0``,
    ``o1``; anything else is the single output ``o0``.

    Raises:
        TypeError: a string (unresolved) annotation, or a one-element or variable-length tuple.
    """
    if isinstance(annotation, str):
        raise TypeError(f"the return annotation {annotation!r} could not be resolved to a type")
    if annotation in (None, _typing.NoneType, EMPTY):
        return {}
    if _typing.is_named_tuple(annotation):
        return dict(_typing.resolved_hints(annotation))
    if typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        if len(args) == 1:
            raise TypeError("a task returning one value should not wrap it in a one-element tuple")
        if Ellipsis in args:
            raise TypeError("variable-length tuples cannot be task outputs; return a list")
        return {output_name(i): a for i, a in enumerate(args)}
    return {output_name(0): annotation}


@dataclass(frozen=True)
class NativeInterface:
    """The typed inputs and outputs of a task function.

    Attributes:
        inputs: name -> (type, default), where default is ``inspect.Parameter.empty`` if required.
        outputs: name -> type.
    """

    inputs: dict[str, tuple[Any, Any]]
    outputs: dict[str, Any]

    @classmethod
    def from_callable(cls, func: Callable[..., Any]) -> NativeInterface:
        """Read the interface from ``func``'s signature and annotations.

        Raises:
            TypeError: ``*args`` / ``**kwargs``, or an unresolvable annotation.
        """
        sig = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        inputs: dict[str, tuple[Any, Any]] = {}
        for name, p in sig.parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{func.__qualname__}: *args and **kwargs cannot be task inputs")
            inputs[name] = (hints.get(name, typing.Any), p.default)
        return cls(inputs, outputs_of(hints.get("return", sig.return_annotation)))

    def required_inputs(self) -> list[str]:
        return [k for k, (_, d) in self.inputs.items() if d is EMPTY]

    def to_proto(self) -> interface_pb2.TypedInterface:
        """The flyteidl2 ``TypedInterface``; variables sorted by name, as flyte 2.12.1 writes them."""
        return interface_pb2.TypedInterface(
            inputs=_variable_map({k: t for k, (t, _) in self.inputs.items()}),
            outputs=_variable_map(self.outputs),
        )

    async def default_inputs(self) -> list[common_pb2.NamedParameter]:
        """The inputs that have defaults, with the defaults as literals (for task registration)."""
        params = []
        for name, (t, default) in self.inputs.items():
            if default is EMPTY:
                continue
            lt = TypeEngine.to_literal_type(t)
            lit = await TypeEngine._to_literal(default, t, name)
            params.append(
                common_pb2.NamedParameter(
                    name=name, parameter=interface_pb2.Parameter(var=interface_pb2.Variable(type=lt), default=lit)
                )
            )
        return params


def _variable_map(types: dict[str, Any]) -> interface_pb2.VariableMap:
    return interface_pb2.VariableMap(
        variables=[
            interface_pb2.VariableEntry(key=k, value=interface_pb2.Variable(type=TypeEngine.to_literal_type(types[k])))
            for k in sorted(types)
        ]
    )
