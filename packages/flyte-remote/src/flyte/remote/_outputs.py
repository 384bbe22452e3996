"""``RunOutputs``: a remote run's outputs, by position or by name (``o0``, ``o1``, ...).

It behaves like the runtime's ``ActionOutputs`` (what local runs return) but lives here because
``flyte.remote`` installs and works without the runtime, which it may not import.
"""

from __future__ import annotations

from typing import Any


class RunOutputs(tuple):  # type: ignore[type-arg]
    """Outputs by position or by name.

    Example:
        >>> o = RunOutputs((1, "b"), ("o0", "o1"))
        >>> o[0], o.o1, o.named_outputs()
        (1, 'b', {'o0': 1, 'o1': 'b'})
    """

    _names: tuple[str, ...]

    def __new__(cls, values: tuple[Any, ...], names: tuple[str, ...]) -> RunOutputs:
        if len(values) != len(names):
            raise ValueError(f"{len(values)} output values but {len(names)} names")
        self = super().__new__(cls, values)
        self._names = names
        return self

    def __getattribute__(self, name: str) -> Any:
        # Output names win over tuple methods (an output called `count`).
        if not name.startswith("_"):
            names = super().__getattribute__("_names")
            if name in names:
                return self[names.index(name)]
        return super().__getattribute__(name)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"outputs have no field {name!r}; they have {', '.join(self._names) or 'none'}")

    def named_outputs(self) -> dict[str, Any]:
        return dict(zip(self._names, self, strict=True))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._names, self, strict=True))
        return f"RunOutputs({fields})"
