"""A run's outputs: a tuple with named fields ``o0``, ``o1``, ... (and a NamedTuple's names)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flyte.runtime._task import TaskTemplate


class ActionOutputs(tuple):  # type: ignore[type-arg]
    """Outputs by position or by name.

    Example:
        >>> o = ActionOutputs((1, "b"), ("o0", "o1"), ("count", "label"))
        >>> o[0], o.o1, o.count
        (1, 'b', 1)
    """

    _names: tuple[str, ...]
    _aliases: tuple[str, ...]

    def __new__(cls, values: tuple[Any, ...], names: tuple[str, ...], aliases: tuple[str, ...] = ()) -> ActionOutputs:
        self = super().__new__(cls, values)
        self._names = names
        self._aliases = aliases
        return self

    def __getattribute__(self, name: str) -> Any:
        # Output names win over tuple methods, as a NamedTuple's fields do (a field `count`).
        if not name.startswith("_"):
            get = super().__getattribute__
            for names in (get("_names"), get("_aliases")):
                if name in names:
                    return self[names.index(name)]
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"outputs have no field {name!r}; they have {', '.join(self._names) or 'none'}")

    def named_outputs(self) -> dict[str, Any]:
        return dict(zip(self._names, self, strict=True))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._names, self, strict=True))
        return f"ActionOutputs({fields})"


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
