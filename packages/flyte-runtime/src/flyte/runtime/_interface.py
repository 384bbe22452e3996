"""A task's native interface: its inputs, its outputs, and how call arguments bind to them."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_NO_DEFAULT = inspect.Parameter.empty


@dataclass(frozen=True)
class NativeInterface:  # not slots: cached_property needs a __dict__
    """Inputs (name -> type, default) and named outputs of a Python function.

    Outputs are named ``o0``, ``o1``, ... as on the wire: a function returning ``T`` has ``o0``; one
    returning ``tuple[A, B]`` or a two-field NamedTuple has ``o0`` and ``o1`` (the NamedTuple's
    field names stay available on the run's outputs); ``None`` has no outputs.
    """

    inputs: Mapping[str, tuple[Any, Any]]  # name -> (annotation, default or inspect.Parameter.empty)
    outputs: Mapping[str, Any]  # name -> annotation
    signature: inspect.Signature
    output_tuple: type | None = None  # the NamedTuple class, when the function returns one

    @classmethod
    def from_function(cls, func: Callable[..., Any]) -> NativeInterface:
        signature = inspect.signature(func)
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception:  # unresolvable forward references: fall back to the raw annotations
            hints = {}
        inputs: dict[str, tuple[Any, Any]] = {}
        for name, p in signature.parameters.items():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(
                    f"{func.__qualname__}: *{name} / **{name} parameters cannot be task inputs; "
                    "declare each input by name"
                )
            inputs[name] = (hints.get(name, p.annotation if p.annotation is not p.empty else Any), p.default)
        returns = hints.get("return", signature.return_annotation)
        outputs, output_tuple = _outputs_of(returns)
        return cls(inputs, outputs, signature, output_tuple)

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any], task_name: str) -> dict[str, Any]:
        """Call arguments as a complete ``{input: value}`` mapping, defaults filled in.

        Every task call inside a run goes through here, so plain positional and keyword calls
        skip ``inspect.Signature.bind``; anything unusual (too many arguments, unknown or
        duplicate names, keyword-only or positional-only inputs) takes the slow path, which
        also produces Python's own error message.
        """
        names = self._positional_names
        if names is not None and len(args) <= len(names):
            bound = dict(zip(names, args, strict=False))  # fewer args than names: the rest by keyword
            if not kwargs.keys() & bound.keys() and kwargs.keys() <= self.inputs.keys():
                bound.update(kwargs)
                if len(bound) < len(names):
                    for name, default in self._defaults:
                        bound.setdefault(name, default)
                if len(bound) == len(names):
                    return bound
        try:
            slow = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{task_name}(): {e}") from None
        slow.apply_defaults()
        return dict(slow.arguments)

    @functools.cached_property
    def _positional_names(self) -> tuple[str, ...] | None:
        """Input names in order, when every input is an ordinary positional-or-keyword one."""
        params = self.signature.parameters.values()
        if all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params):
            return tuple(self.inputs)
        return None

    @functools.cached_property
    def _defaults(self) -> tuple[tuple[str, Any], ...]:
        return tuple((n, d) for n, (_, d) in self.inputs.items() if d is not _NO_DEFAULT)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.outputs)


def _outputs_of(returns: Any) -> tuple[dict[str, Any], type | None]:
    if returns is None or returns is type(None) or returns is inspect.Signature.empty:
        return ({}, None) if returns is not inspect.Signature.empty else ({"o0": Any}, None)
    if isinstance(returns, type) and issubclass(returns, tuple) and hasattr(returns, "_fields"):
        hints = typing.get_type_hints(returns)
        return {f"o{i}": hints.get(f, Any) for i, f in enumerate(returns._fields)}, returns
    if typing.get_origin(returns) is tuple:
        args = typing.get_args(returns)
        if args and args[-1] is not Ellipsis:
            return {f"o{i}": a for i, a in enumerate(args)}, None
    return {"o0": returns}, None
