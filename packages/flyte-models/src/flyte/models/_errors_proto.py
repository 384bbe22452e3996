"""Errors on the wire: ``flyte.errors`` exceptions <-> ``flyteidl2.core.ErrorDocument``.

A failed task writes ``error.pb`` (an ErrorDocument: code, message, whether a retry may help,
and whose fault it was) and exits 0; the parent reads it back and raises the matching
``flyte.errors`` exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import flyte.errors as errors

if TYPE_CHECKING:
    from flyteidl2.core import execution_pb2

# The backend prefixes a user's code with this when it gave up retrying: "RetriesExhausted|ValueError".
_RETRIES_EXHAUSTED_PREFIX = "RetriesExhausted|"
_KIND_TO_PROTO: dict[str, Any] = {"unknown": 0, "user": 1, "system": 2}  # ExecutionError.ErrorKind numbers
_PROTO_TO_KIND: dict[int, errors.ErrorKind] = {0: "unknown", 1: "user", 2: "system"}

# Codes whose errors have a class of their own; everything else becomes the plain class of its kind.
_TIMEOUTS: dict[str, type[errors.TaskTimeoutError]] = {
    "MaxRuntimeExceededError": errors.MaxRuntimeExceededError,
    "MaxQueuedTimeExceededError": errors.MaxQueuedTimeExceededError,
    "DeadlineExceededError": errors.DeadlineExceededError,
}
_CODED: dict[str, type[errors._CodedUserError]] = {
    cls.code_name: cls
    for cls in (
        errors.ActionAbortedError,
        errors.SyncTaskCallInAsyncContextError,
        errors.RemoteTaskNotFoundError,
        errors.RemoteTaskUsageError,
        errors.CodeBundleError,
        errors.ModuleLoadError,
        errors.ImageBuildError,
        errors.DeploymentError,
        errors.InlineIOMaxBytesBreached,
        errors.RestrictedTypeError,
        errors.TraceDoesNotAllowNestedTasksError,
    )
}


@dataclass(frozen=True)
class ErrorInfo:
    """One task failure as data: what ``error.pb`` holds.

    Args:
        code: a short machine-readable name (``"ValueError"``, ``"OOMKilled"``).
        message: the explanation (the runtime may append the traceback).
        kind: whose fault: ``"user"``, ``"system"`` or ``"unknown"``.
        recoverable: whether a retry may help; False for ``NonRecoverableError``.
        worker: where it happened, when known (not carried by ErrorDocument).
    """

    code: str
    message: str
    kind: errors.ErrorKind = "user"
    recoverable: bool = True
    worker: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KIND_TO_PROTO:
            raise ValueError(f"ErrorInfo.kind must be 'user', 'system' or 'unknown', got {self.kind!r}")

    @classmethod
    def from_exception(cls, exc: BaseException, *, message: str | None = None) -> ErrorInfo:
        """Describe ``exc``. Exceptions outside ``flyte.errors`` are the user's code failing.

        Args:
            exc: the exception the task raised.
            message: replaces ``str(exc)``, e.g. to include the formatted traceback.
        """
        if isinstance(exc, errors.BaseRuntimeError):
            return cls(
                code=exc.code,
                message=exc.root_cause_message if message is None else message,
                kind=exc.kind,
                recoverable=not isinstance(exc, errors.NonRecoverableError),
                worker=exc.worker,
            )
        return cls(code=type(exc).__name__, message=str(exc) if message is None else message, kind="user")

    def to_exception(self) -> errors.BaseRuntimeError:
        """The ``flyte.errors`` exception a parent raises for this failure."""
        code, message, worker = self.code, self.message, self.worker
        if self.kind == "system":
            return errors.RuntimeSystemError(code, message, worker)
        if self.kind == "unknown":
            return errors.RuntimeUnknownError(code, message, worker)
        if code.startswith(_RETRIES_EXHAUSTED_PREFIX):
            return errors.RetriesExhaustedError(code[len(_RETRIES_EXHAUSTED_PREFIX) :], message, worker)
        if code in _TIMEOUTS:
            return _TIMEOUTS[code](message)
        if code in _CODED:
            return _CODED[code](message)
        if code == "OOMKilled":
            return errors.OOMError(code, message, worker)
        if not self.recoverable:
            return errors.NonRecoverableError(message, code=code)
        return errors.RuntimeUserError(code, message, worker)

    def to_document(self) -> execution_pb2.ErrorDocument:
        """The ``ErrorDocument`` written as ``error.pb``."""
        from flyteidl2.core import execution_pb2

        kind = (
            execution_pb2.ContainerError.RECOVERABLE
            if self.recoverable
            else execution_pb2.ContainerError.NON_RECOVERABLE
        )
        return execution_pb2.ErrorDocument(
            error=execution_pb2.ContainerError(
                code=self.code, message=self.message, kind=kind, origin=_KIND_TO_PROTO[self.kind]
            )
        )

    @classmethod
    def from_document(cls, doc: execution_pb2.ErrorDocument) -> ErrorInfo:
        """Read ``error.pb``. An empty document is a system error: the task failed to say why."""
        from flyteidl2.core import execution_pb2

        if not doc.HasField("error"):
            return cls(code="Unknown", message="error document is empty", kind="system")
        err = doc.error
        return cls(
            code=err.code,
            message=err.message,
            kind=_PROTO_TO_KIND.get(err.origin, "unknown"),
            recoverable=err.kind == execution_pb2.ContainerError.RECOVERABLE,
        )

    def to_execution_error(self) -> execution_pb2.ExecutionError:
        """The ``ExecutionError`` the run and action services report."""
        from flyteidl2.core import execution_pb2

        kind = (
            execution_pb2.ContainerError.RECOVERABLE
            if self.recoverable
            else execution_pb2.ContainerError.NON_RECOVERABLE
        )
        return execution_pb2.ExecutionError(
            code=self.code,
            message=self.message,
            kind=_KIND_TO_PROTO[self.kind],
            worker=self.worker or "",
            recoverability=kind,
        )

    @classmethod
    def from_execution_error(cls, err: execution_pb2.ExecutionError) -> ErrorInfo:
        from flyteidl2.core import execution_pb2

        return cls(
            code=err.code,
            message=err.message,
            kind=_PROTO_TO_KIND.get(err.kind, "unknown"),
            # Unset recoverability reads as NON_RECOVERABLE (0); only an explicit RECOVERABLE counts.
            recoverable=err.recoverability == execution_pb2.ContainerError.RECOVERABLE,
            worker=err.worker or None,
        )


def _recoverability(recoverable: bool) -> execution_pb2.ContainerError.Kind:
    from flyteidl2.core import execution_pb2

    if recoverable:
        return execution_pb2.ContainerError.RECOVERABLE
    return execution_pb2.ContainerError.NON_RECOVERABLE


def error_document_from_exception(exc: BaseException, *, message: str | None = None) -> execution_pb2.ErrorDocument:
    """Shorthand: the ``error.pb`` document for an exception a task raised."""
    return ErrorInfo.from_exception(exc, message=message).to_document()


def exception_from_error_document(doc: execution_pb2.ErrorDocument) -> errors.BaseRuntimeError:
    """Shorthand: the exception a parent raises for a child's ``error.pb``."""
    return ErrorInfo.from_document(doc).to_exception()
