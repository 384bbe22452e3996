"""How a child action's failure reaches its parent.

Flyte 2 code catches ``flyte.errors.RuntimeUserError``; we go further: when the original
exception's class can be combined with it, the parent receives an instance of both, so
``except ValueError`` keeps working across the action boundary.
"""

from __future__ import annotations

import traceback

from flyte.errors import BaseRuntimeError, RuntimeUserError

_classes: dict[type[BaseException], type[RuntimeUserError]] = {}


def _user_error_class(original: type[BaseException]) -> type[RuntimeUserError]:
    cls = _classes.get(original)
    if cls is None:
        cls = _classes[original] = _combine(original)
    return cls


def _combine(original: type[BaseException]) -> type[RuntimeUserError]:
    try:
        return type(original.__name__, (RuntimeUserError, original), {"__module__": original.__module__})
    except TypeError:  # incompatible instance layouts (OSError, ...) or a final class
        return RuntimeUserError


def as_child_error(exc: BaseException, task_name: str, action_name: str) -> BaseRuntimeError:
    """The error a parent sees when a child action failed with ``exc``."""
    if isinstance(exc, BaseRuntimeError):
        return exc
    cls = _user_error_class(type(exc))
    err = cls.__new__(cls)
    RuntimeUserError.__init__(err, type(exc).__name__, str(exc), action_name)
    err.task_name = task_name  # type: ignore[attr-defined]
    err.child_traceback = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
    err.__cause__ = exc
    return err
