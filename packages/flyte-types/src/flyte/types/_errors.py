"""Errors of the TypeEngine, and the path of a value that did not fit its type.

Converters deep inside a value raise :class:`ValueMismatch`, a cheap internal exception that
collects the path (``.items``, ``[3]``, ``["key"]``) as it unwinds; nothing is formatted on the
happy path. The engine turns it into a :class:`TypeTransformerFailedError` at the boundary, where
the root name and the declared type are known.
"""

from __future__ import annotations

from flyte.errors import RuntimeUserError


class TypeTransformerFailedError(RuntimeUserError, TypeError, ValueError):
    """A value does not fit its declared type, or a literal cannot become that type.

    It is a :class:`flyte.errors.RuntimeUserError` (the task's inputs or outputs are at fault)
    and, for code written against the public Flyte SDK, also a ``TypeError`` and ``ValueError``.

    Attributes:
        path: where in the value the problem is, e.g. ``"inputs.items[3].name"`` (empty when the
            value as a whole is at fault and no root name was given).
        detail: what went wrong at that place, e.g. ``"expected int, got str"``.
        declared_type: the declared Python type, as text.
    """

    def __init__(self, message: str, *, path: str = "", detail: str = "", declared_type: str = ""):
        super().__init__("TypeTransformerFailed", message)
        self.path = path
        self.detail = detail or message
        self.declared_type = declared_type


class LiteralMismatchError(TypeTransformerFailedError):
    """A literal is corrupt, or does not have the shape the declared Python type needs."""


class ValueMismatch(Exception):
    """Internal: raised where a value (or literal) does not fit; carries the path outward.

    Args:
        detail: what went wrong, e.g. ``"expected int, got str"``.
        decoding: True when a literal (not a Python value) was at fault.
    """

    def __init__(self, detail: str, *, decoding: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.decoding = decoding
        self.segments: list[str] = []

    def at(self, segment: str) -> ValueMismatch:
        """Record that the problem is inside ``segment`` (``".name"``, ``"[3]"``); returns self."""
        self.segments.append(segment)
        return self

    def path(self, root: str) -> str:
        return root + "".join(reversed(self.segments))


def expected(what: str, value: object) -> ValueMismatch:
    """The common case: ``expected int, got str``."""
    return ValueMismatch(f"expected {what}, got {type(value).__name__}")


def key_segment(key: object) -> str:
    return f"[{key!r}]"


def to_public(err: ValueMismatch, root: str, declared_type: str) -> TypeTransformerFailedError:
    """The user-facing error for ``err``, naming the path from ``root`` and the declared type."""
    path = err.path(root)
    where = f"{path}: " if path else ""
    message = f"{where}{err.detail} (declared type: {declared_type})"
    cls = LiteralMismatchError if err.decoding else TypeTransformerFailedError
    return cls(message, path=path, detail=err.detail, declared_type=declared_type)
