"""The TypeEngine: native Python values to and from flyteidl2 literals.

Importing this package is cheap: the engine (and protobuf, flyteidl2) loads on first use of a
name below, and pydantic, msgpack and cloudpickle only when a value needs them.

Example:
    >>> from flyte.types import TypeEngine
    >>> lt = TypeEngine.to_literal_type(dict[str, float])
    >>> lit = TypeEngine.to_literal_sync({"a": 0.5}, dict[str, float], lt)
    >>> TypeEngine.to_python_value_sync(lit, dict[str, float])
    {'a': 0.5}
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flyte.types._version import __version__

if TYPE_CHECKING:
    from flyte.types._codec import Codec
    from flyte.types._engine import TypeEngine
    from flyte.types._errors import LiteralMismatchError, TypeTransformerFailedError
    from flyte.types._interface import NativeInterface
    from flyte.types._pickle import FlytePickle, PickleOffload
    from flyte.types._plugins import GROUP as PLUGIN_GROUP
    from flyte.types._transformer import TypeTransformer

__all__ = [
    "PLUGIN_GROUP",
    "Codec",
    "FlytePickle",
    "LiteralMismatchError",
    "NativeInterface",
    "PickleOffload",
    "TypeEngine",
    "TypeTransformer",
    "TypeTransformerFailedError",
    "__version__",
]

_LAZY = {
    "Codec": ("flyte.types._codec", "Codec"),
    "TypeEngine": ("flyte.types._engine", "TypeEngine"),
    "LiteralMismatchError": ("flyte.types._errors", "LiteralMismatchError"),
    "TypeTransformerFailedError": ("flyte.types._errors", "TypeTransformerFailedError"),
    "NativeInterface": ("flyte.types._interface", "NativeInterface"),
    "FlytePickle": ("flyte.types._pickle", "FlytePickle"),
    "PickleOffload": ("flyte.types._pickle", "PickleOffload"),
    "PLUGIN_GROUP": ("flyte.types._plugins", "GROUP"),
    "TypeTransformer": ("flyte.types._transformer", "TypeTransformer"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'flyte.types' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
