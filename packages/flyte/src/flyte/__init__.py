"""Flyte 2: durable workflows in pure Python.

This module is the umbrella of a namespace shared by several distributions (``flyte-models``
owns ``flyte.models`` and ``flyte.errors``, ``flyte-types`` owns ``flyte.types`` and
``flyte.io``, ...). It must stay free of side effects and cheap to import: every public name is
resolved on first access (PEP 562), so ``import flyte.models`` never loads the rest of the SDK.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from importlib import import_module
from typing import TYPE_CHECKING, Any

from flyte._version import __version__

if TYPE_CHECKING:
    from flyte import errors as errors
    from flyte import models as models

# Subpackages reachable as attributes after a bare `import flyte` (`flyte.errors.OOMError`).
_SUBMODULES = frozenset({"errors", "models"})

# Public name -> "module:attribute" for names re-exported from the sibling distributions.
_EXPORTS: dict[str, str] = {}

__all__ = ["__version__", "version", *sorted(_SUBMODULES), *sorted(_EXPORTS)]


def version() -> str:
    """The version of the installed ``flyte`` distribution."""
    return __version__


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"{__name__}.{name}")
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'flyte' has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(import_module(module_name), attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
