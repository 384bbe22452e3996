"""An immutable, hashable, picklable mapping for the mapping fields of frozen models."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class FrozenDict(Mapping[K, V]):
    """A read-only mapping.

    Frozen dataclasses only stop attribute assignment; a ``dict`` field could still be changed in
    place (``spec.env_vars["X"] = "1"``), which would silently change a spec that was already
    hashed or serialized. ``types.MappingProxyType`` would stop that but cannot be pickled, and
    models cross process boundaries, so this small mapping does both.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(self._data)

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (self._data,))

    def _readonly(self, *_: object, **__: object) -> NoReturn:
        raise TypeError("FrozenDict is read-only")

    __setitem__ = __delitem__ = _readonly


def freeze_str_map(value: Mapping[str, str] | None, field: str) -> FrozenDict[str, str]:
    """Copy a ``str -> str`` mapping into a FrozenDict, naming ``field`` when an entry is not text."""
    if value is None:
        return FrozenDict()
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a mapping of str to str, got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TypeError(f"{field} must map str to str, got {k!r}: {v!r} ({type(v).__name__})")
    return FrozenDict(value)
