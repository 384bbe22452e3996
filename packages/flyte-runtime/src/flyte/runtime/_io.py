"""A task's inputs and outputs as literals: the TypeEngine's view of its interface, read once per
task object, and the ``Inputs`` message a backend receives for a call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte.types import NativeInterface

_CACHE_ATTRIBUTE = "_flyte_io_interface"


def io_interface(task: Any) -> NativeInterface:
    """``NativeInterface.from_callable(task.func)``, computed once per task object.

    Reading a signature and resolving its annotations costs more than converting a small value,
    and a parent fanning out calls the same task object thousands of times.
    """
    cached = task.__dict__.get(_CACHE_ATTRIBUTE)
    if cached is None:
        from flyte.types import NativeInterface

        cached = NativeInterface.from_callable(task.func)
        task.__dict__[_CACHE_ATTRIBUTE] = cached
    return cached  # type: ignore[no-any-return]


async def inputs_message(task: Any, values: Mapping[str, Any]) -> Any:
    """The flyteidl2 ``Inputs`` of a call of ``task`` with the bound ``values``."""
    from flyteidl2.task import common_pb2

    from flyte.types import TypeEngine

    types = io_interface(task).inputs
    message = common_pb2.Inputs()
    for name, value in values.items():
        python_type = types[name][0]
        literal = await TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type))
        message.literals.add(name=name, value=literal)
    return message


__all__ = ["inputs_message", "io_interface"]
