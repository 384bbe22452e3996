"""Splitting a task's return value into its named outputs (an ``ActionOutputs``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flyte.models import ActionOutputs

if TYPE_CHECKING:
    from flyte.runtime._task import TaskTemplate


def outputs_of(task: TaskTemplate[Any, Any], result: Any) -> ActionOutputs:
    """Split a task's return value into its declared outputs."""
    interface = task.interface
    names = interface.output_names
    if not names:
        return ActionOutputs((), ())
    if len(names) == 1:
        return ActionOutputs((result,), names)
    if not isinstance(result, tuple) or len(result) != len(names):
        raise TypeError(f"{task.name} declares {len(names)} outputs but returned {result!r}")
    aliases = tuple(interface.output_tuple._fields) if interface.output_tuple is not None else ()  # type: ignore[attr-defined]
    return ActionOutputs(tuple(result), names, aliases)


__all__ = ["ActionOutputs", "outputs_of"]
