"""Stable fingerprints of Python values, for child action names and cache keys.

The same value gives the same fingerprint in any process (no ``id()``, no set or dict order
dependence), and computing it is cheap for the primitives most tasks take.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import pickle
from collections.abc import Mapping
from typing import Any

_PRIMITIVES = (int, float, str, bool, type(None), bytes)


def fingerprint(values: Mapping[str, Any]) -> str:
    """A hex digest of a mapping of inputs, independent of key order."""
    h = hashlib.blake2b(digest_size=16)
    for key in sorted(values):
        h.update(key.encode())
        h.update(b"=")
        _feed(h, values[key])
        h.update(b";")
    return h.hexdigest()


def _feed(h: Any, value: Any) -> None:
    if isinstance(value, _PRIMITIVES):
        h.update(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, (list, tuple)):
        h.update(b"[" if isinstance(value, list) else b"(")
        for item in value:
            _feed(h, item)
            h.update(b",")
        h.update(b"]")
    elif isinstance(value, Mapping):
        h.update(b"{")
        for k in sorted(value, key=repr):
            _feed(h, k)
            h.update(b":")
            _feed(h, value[k])
            h.update(b",")
        h.update(b"}")
    elif isinstance(value, (set, frozenset)):
        h.update(b"set{")
        for item in sorted(value, key=repr):
            _feed(h, item)
        h.update(b"}")
    elif isinstance(value, enum.Enum):
        h.update(f"enum:{type(value).__qualname__}.{value.name}".encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(f"dc:{type(value).__qualname__}".encode())
        _feed(h, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    elif hasattr(value, "model_dump") and hasattr(type(value), "model_fields"):  # pydantic
        h.update(f"pd:{type(value).__qualname__}".encode())
        _feed(h, value.model_dump())
    else:
        # Anything else: its pickle, which is stable for the value types that define it sanely.
        try:
            data = pickle.dumps(value, protocol=5)
        except Exception:
            # A handle to live engine state (a Spark DataFrame, a socket, a lock) has no value to
            # hash: its type stands in, so the name still depends on the task, the call sequence
            # and the other inputs, and is the same when the parent replays.
            h.update(f"unpicklable:{type(value).__module__}.{type(value).__qualname__}".encode())
            return
        h.update(b"pickle:")
        h.update(data)
