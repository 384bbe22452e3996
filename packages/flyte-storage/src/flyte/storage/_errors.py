"""Storage-specific errors, all inside the SDK's one hierarchy (`flyte.errors`).

Each error names the URI or path at fault in its message and keeps it in ``.uri``. The classes
pick the side of the hierarchy that says whose fault it is: a bad path, a missing object or a
refused credential is the user's (:class:`~flyte.errors.RuntimeUserError`); an outage that
outlasted the retries is the platform's (:class:`~flyte.errors.RuntimeSystemError`).
"""

from __future__ import annotations

from flyte.errors import InitializationError, RuntimeSystemError, RuntimeUserError

__all__ = [
    "InvalidStoragePathError",
    "StorageAccessDeniedError",
    "StorageBackendMissingError",
    "StorageConfigError",
    "StorageError",
    "StorageNotFoundError",
    "StorageOperationError",
    "StorageUnavailableError",
]


class StorageError(Exception):
    """Marker base of every error raised by `flyte.storage`: ``except StorageError`` catches them all."""

    uri: str


class InvalidStoragePathError(RuntimeUserError, StorageError, ValueError):
    """A URI or path is malformed, uses an unknown scheme, escapes its base folder, or names a
    directory where a file is expected (or the reverse). Nothing was written."""

    def __init__(self, uri: str, message: str):
        super().__init__("InvalidStoragePath", f"{uri!r}: {message}")
        self.uri = uri


class StorageNotFoundError(RuntimeUserError, StorageError):
    """The object, file, folder or bucket does not exist."""

    def __init__(self, uri: str, message: str = "does not exist"):
        super().__init__("StorageNotFound", f"{uri!r}: {message}")
        self.uri = uri


class StorageAccessDeniedError(RuntimeUserError, StorageError):
    """The store refused the credentials or the operation (HTTP 401/403). Not retried."""

    def __init__(self, uri: str, message: str):
        super().__init__("StorageAccessDenied", f"{uri!r}: access denied: {message}")
        self.uri = uri


class StorageUnavailableError(RuntimeSystemError, StorageError):
    """A transient failure (5xx, throttling, reset connection, timeout) outlasted every retry."""

    def __init__(self, uri: str, message: str, attempts: int):
        super().__init__("StorageUnavailable", f"{uri!r}: failed after {attempts} attempt(s): {message}")
        self.uri = uri
        self.attempts = attempts


class StorageOperationError(RuntimeSystemError, StorageError):
    """The store failed in a way that retrying cannot fix and that fits no other class."""

    def __init__(self, uri: str, message: str):
        super().__init__("StorageOperationFailed", f"{uri!r}: {message}")
        self.uri = uri


class StorageConfigError(InitializationError, StorageError, ValueError):
    """A storage setting (argument or environment variable) has an unusable value."""

    def __init__(self, setting: str, message: str):
        super().__init__("StorageConfigError", "user", f"{setting}: {message}")
        self.uri = setting


class StorageBackendMissingError(StorageConfigError):
    """A URI's scheme needs an optional extra that is not installed, e.g. ``flyte-storage[s3]``."""

    def __init__(self, uri: str, module: str, extra: str):
        super().__init__(
            uri,
            f"this scheme needs the {module!r} package, which is not installed; "
            f"install it with: pip install 'flyte-storage[{extra}]'",
        )
