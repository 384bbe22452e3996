"""``ActionOutputs``: a run's or an action's outputs, by position or by name (``o0``, ``o1``, ...).

Shared by local runs (flyte.runtime) and remote ones (flyte.remote), which cannot import each
other's distributions.
"""

from __future__ import annotations

from typing import Any


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
        if len(values) != len(names):
            raise ValueError(f"{len(values)} output values but {len(names)} names")
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
