"""The SDK's one exception hierarchy.

Every error the SDK raises on purpose is a :class:`BaseRuntimeError`. Its ``kind`` says whose
fault it was: ``"user"`` (the task's code or inputs; retrying may help unless the error is a
:class:`NonRecoverableError`), ``"system"`` (the platform; retried) or ``"unknown"``. User code
written for Flyte 2 catches these names, so the names, the hierarchy and the constructor
signatures are part of the public API.

Example:
    >>> try:
    ...     raise NonRecoverableError("input file is empty")
    ... except RuntimeUserError as e:
    ...     (e.code, e.kind, str(e))
    ('NonRecoverableError', 'user', 'input file is empty')
"""

from __future__ import annotations

from typing import Literal, NoReturn

ErrorKind = Literal["system", "unknown", "user"]

__all__ = [
    "ActionAbortedError",
    "BaseRuntimeError",
    "CodeBundleError",
    "CustomError",
    "DeadlineExceededError",
    "DeploymentError",
    "ErrorKind",
    "ImageBuildError",
    "InitializationError",
    "InlineIOMaxBytesBreached",
    "MaxQueuedTimeExceededError",
    "MaxRuntimeExceededError",
    "ModuleLoadError",
    "NonRecoverableError",
    "NotInTaskContextError",
    "OOMError",
    "RemoteTaskNotFoundError",
    "RemoteTaskUsageError",
    "RestrictedTypeError",
    "RetriesExhaustedError",
    "RuntimeDataValidationError",
    "RuntimeSystemError",
    "RuntimeUnknownError",
    "RuntimeUserError",
    "SyncTaskCallInAsyncContextError",
    "TaskInterruptedError",
    "TaskTimeoutError",
    "TraceDoesNotAllowNestedTasksError",
]


class BaseRuntimeError(RuntimeError):
    """Root of every error the SDK raises about a run, a task or the platform.

    Args:
        code: a short machine-readable name of the failure, e.g. ``"OOMKilled"``.
        kind: whose fault it was: ``"user"``, ``"system"`` or ``"unknown"``.
        root_cause_message: the human-readable explanation.
        worker: where it happened (pod or process name), when known.
    """

    def __init__(self, code: str, kind: ErrorKind, root_cause_message: str, worker: str | None = None):
        super().__init__(root_cause_message)
        self.code = code
        self.kind: ErrorKind = kind
        self.root_cause_message = root_cause_message
        self.worker = worker

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (worker threads, pickled results); keep every field.
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))

    # `flyte.map(..., return_exceptions=True)` hands errors back as values. Arithmetic on such a
    # value should surface the task's real error, not an unrelated TypeError.
    def _raise_self(self, *_: object) -> NoReturn:
        raise self

    __add__ = __radd__ = __sub__ = __rsub__ = _raise_self
    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _raise_self
    __floordiv__ = __rfloordiv__ = _raise_self


def _rebuild(cls: type[BaseRuntimeError], state: dict[str, object], args: tuple[object, ...]) -> BaseRuntimeError:
    err = cls.__new__(cls)
    RuntimeError.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InitializationError(BaseRuntimeError):
    """The SDK was used before `flyte.init(...)`, or was initialised with unusable settings."""


class RuntimeUserError(BaseRuntimeError):
    """The task's own code or inputs failed. Retried up to the task's retry count."""

    def __init__(self, code: str, message: str, worker: str | None = None):
        super().__init__(code, "user", message, worker)


class RuntimeSystemError(BaseRuntimeError):
    """The platform failed (lost node, storage outage, ...); not the task's fault."""

    def __init__(self, code: str, message: str, worker: str | None = None):
        super().__init__(code, "system", message, worker)


class RuntimeUnknownError(BaseRuntimeError):
    """A failure whose cause could not be attributed."""

    def __init__(self, code: str, message: str, worker: str | None = None):
        super().__init__(code, "unknown", message, worker)


class _CodedUserError(RuntimeUserError):
    """A user error that always carries the same code: constructed from a message alone."""

    code_name = "UserError"

    def __init__(self, message: str):
        super().__init__(self.code_name, message)


class NonRecoverableError(RuntimeUserError):
    """Raise this from a task to fail it at once: no retry can help."""

    def __init__(self, message: str, code: str = "NonRecoverableError"):
        super().__init__(code, message)


class TaskTimeoutError(RuntimeUserError):
    """The task ran or waited longer than its `Timeout` allows."""

    def __init__(self, message: str, code: str = "TaskTimeoutError"):
        super().__init__(code, message)


class MaxRuntimeExceededError(TaskTimeoutError):
    """The task ran longer than `Timeout.max_runtime`."""

    def __init__(self, message: str):
        super().__init__(message, code="MaxRuntimeExceededError")


class MaxQueuedTimeExceededError(TaskTimeoutError):
    """The task waited in the queue longer than `Timeout.max_queued_time`."""

    def __init__(self, message: str):
        super().__init__(message, code="MaxQueuedTimeExceededError")


class DeadlineExceededError(TaskTimeoutError):
    """The run's overall deadline passed before the task finished."""

    def __init__(self, message: str):
        super().__init__(message, code="DeadlineExceededError")


class OOMError(RuntimeUserError):
    """The task used more memory than its resources allow."""


class RetriesExhaustedError(RuntimeUserError):
    """Every attempt the retry policy allows has failed."""


class TaskInterruptedError(RuntimeUserError):
    """The task was interrupted (e.g. a spot instance was reclaimed)."""


class NotInTaskContextError(RuntimeUserError):
    """A call that only makes sense inside a running task was made outside one."""


class ActionAbortedError(_CodedUserError):
    """The action was aborted, by a user or because its run was."""

    code_name = "ActionAbortedError"


class SyncTaskCallInAsyncContextError(_CodedUserError):
    """A sync task was called directly from async code; use ``await task.aio(...)``."""

    code_name = "SyncTaskCallInAsyncContextError"


class RemoteTaskNotFoundError(_CodedUserError):
    """The named task (or version) is not deployed."""

    code_name = "RemoteTaskNotFound"


class RemoteTaskUsageError(_CodedUserError):
    """A reference to a deployed task was used in a way it does not support."""

    code_name = "RemoteTaskUsageError"


class CodeBundleError(_CodedUserError):
    """The code bundle could not be built, uploaded or unpacked."""

    code_name = "CodeBundleError"


class ModuleLoadError(_CodedUserError):
    """The module that defines the task could not be imported."""

    code_name = "ModuleLoadError"


class ImageBuildError(_CodedUserError):
    """A container image could not be built."""

    code_name = "ImageBuildError"


class DeploymentError(_CodedUserError):
    """Registering tasks with the backend failed."""

    code_name = "DeploymentError"


class InlineIOMaxBytesBreached(_CodedUserError):
    """An input or output is larger than the task's `max_inline_io_bytes`."""

    code_name = "InlineIOMaxBytesBreached"


class RestrictedTypeError(_CodedUserError):
    """A value of a type the SDK refuses to move between tasks."""

    code_name = "RestrictedTypeUsage"


class TraceDoesNotAllowNestedTasksError(_CodedUserError):
    """A `@flyte.trace` function called a task; traces must be leaves."""

    code_name = "TraceDoesNotAllowNestedTasksError"


class RuntimeDataValidationError(RuntimeUserError):
    """An input or output could not be converted to or from its declared type.

    Args:
        var: the input or output name, e.g. ``"x"`` or ``"o0"``.
        e: the underlying error or its message.
        task_name: the task whose interface the value belongs to.
    """

    def __init__(self, var: str, e: Exception | str, task_name: str = ""):
        where = f"task {task_name!r}, " if task_name else ""
        super().__init__("DataValidationError", f"{where}variable {var!r}: {e}")
        self.var = var
        self.task_name = task_name


class CustomError(RuntimeUserError):
    """A user error with a code of the user's choosing.

    Example:
        >>> raise CustomError("BadShard", "shard 3 has no rows")  # doctest: +SKIP
    """

    def __init__(self, code: str, message: str):
        super().__init__(code, message)

    @classmethod
    def from_exception(cls, e: BaseException) -> CustomError:
        """Wrap any exception, keeping its type name as the code and it as the cause."""
        err = cls(type(e).__name__, str(e))
        err.__cause__ = e
        return err
