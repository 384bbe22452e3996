"""Retries with exponential backoff and jitter, and the translation of backend errors into
`flyte.storage` errors.

Backends raise very different things for the same failure (botocore's ClientError, s3fs's
translated OSError, aiohttp's connection errors, gcsfs's HttpError, azure-core's
HttpResponseError), so errors are classified by what they carry (an HTTP status, an error code,
a class name) rather than by importing every backend's exception types.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from flyte.storage._config import Storage
from flyte.storage._errors import (
    InvalidStoragePathError,
    StorageAccessDeniedError,
    StorageError,
    StorageNotFoundError,
    StorageOperationError,
    StorageUnavailableError,
)

__all__ = ["Failure", "backoff_delay", "classify", "retrying", "translate"]

_T = TypeVar("_T")
logger = logging.getLogger("flyte.storage")


class Failure(enum.Enum):
    TRANSIENT = "transient"
    NOT_FOUND = "not_found"
    DENIED = "denied"
    WRONG_KIND = "wrong_kind"  # a directory where a file was expected, or the reverse
    OTHER = "other"


_TRANSIENT_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "ServerBusy",
    "OperationTimedOut",
}
_DENIED_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthenticationFailed",
    "AuthorizationFailure",
    "ExpiredToken",
}
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "NotFound", "ContainerNotFound", "BlobNotFound", "404"}
# Connection-level failures by class name, across aiohttp, botocore, urllib3 and azure-core.
_TRANSIENT_CLASS_NAMES = {
    "ClientConnectionError",
    "ClientOSError",
    "ServerDisconnectedError",
    "ClientPayloadError",
    "ServerTimeoutError",
    "ConnectionTimeoutError",
    "SocketTimeoutError",
    "HTTPClientError",
    "EndpointConnectionError",
    "ConnectionClosedError",
    "ReadTimeoutError",
    "ConnectTimeoutError",
    "ResponseStreamingError",
    "IncompleteReadError",
    "IncompleteRead",
    "ServiceRequestError",
    "ServiceResponseError",
    "FSTimeoutError",
}
_DENIED_CLASS_NAMES = {
    "NoCredentialsError",
    "PartialCredentialsError",
    "ClientAuthenticationError",
    "PermissionDeniedError",  # obstore
    "UnauthenticatedError",  # obstore
}
# obstore's errors carry the HTTP status and S3 error code only in their message.
_OBSTORE_STATUS_RE = re.compile(r"non-2xx status code: (\d{3})")
_OBSTORE_CODE_RE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")
# obstore: "HTTP error: error sending request" (reset, refused, timed out) and the like.
_OBSTORE_TRANSIENT_RE = re.compile(r"HTTP error|error sending request|error decoding response body|timed out")
_OBSTORE_DEBUG = "\n\nDebug source:"


def _is_obstore(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("obstore")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_of(exc: BaseException) -> int | None:
    if _is_obstore(exc):
        match = _OBSTORE_STATUS_RE.search(str(exc))
        return int(match.group(1)) if match else None
    response = getattr(exc, "response", None)
    if isinstance(response, dict):  # botocore ClientError
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status
    for attr in ("status_code", "status", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    return None


def _code_of(exc: BaseException) -> str | None:
    if _is_obstore(exc):
        match = _OBSTORE_CODE_RE.search(str(exc))
        return match.group(1) if match else None
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    code = getattr(exc, "error_code", None)  # azure-core
    return str(code) if code is not None else None


def _classify_one(exc: BaseException) -> Failure | None:
    names = {cls.__name__ for cls in type(exc).__mro__}
    code = _code_of(exc)
    status = _status_of(exc)
    if code in _TRANSIENT_CODES or (status is not None and (status >= 500 or status in (408, 429))):
        return Failure.TRANSIENT
    if code in _DENIED_CODES or status in (401, 403) or names & _DENIED_CLASS_NAMES:
        return Failure.DENIED
    if code in _NOT_FOUND_CODES or status == 404 or "ResourceNotFoundError" in names:
        return Failure.NOT_FOUND
    if names & _TRANSIENT_CLASS_NAMES:
        return Failure.TRANSIENT
    if _is_obstore(exc) and _OBSTORE_TRANSIENT_RE.search(str(exc).split(_OBSTORE_DEBUG)[0]):
        return Failure.TRANSIENT
    if isinstance(exc, (IsADirectoryError, NotADirectoryError)):
        return Failure.WRONG_KIND
    if isinstance(exc, FileNotFoundError):
        return Failure.NOT_FOUND
    if isinstance(exc, PermissionError):
        return Failure.DENIED
    if isinstance(exc, (ConnectionError, TimeoutError, asyncio.TimeoutError)):
        return Failure.TRANSIENT
    return None


def _original(exc: BaseException) -> BaseException:
    """The failure to judge ``exc`` by. When an S3 multipart upload fails, s3fs aborts it; if the
    upload is gone by then (the failed step had in fact completed it, as a CompleteMultipartUpload
    whose answer timed out does), the abort's NoSuchUpload is raised with the real failure as its
    context: judge and report that one, not a "not found" that would never be retried."""
    links = list(_chain(exc))
    for i, link in enumerate(links[:-1]):
        if _code_of(link) == "NoSuchUpload":
            return _original(links[i + 1])
    return exc


def classify(exc: BaseException) -> Failure:
    """What kind of failure ``exc`` is, looking through its causes (s3fs wraps botocore's)."""
    for link in _chain(_original(exc)):
        found = _classify_one(link)
        if found is not None:
            return found
    return Failure.OTHER


def _describe(exc: BaseException) -> str:
    text = str(exc).split(_OBSTORE_DEBUG)[0].strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text


def translate(exc: BaseException, uri: str, attempts: int) -> StorageError:
    """The `flyte.storage` error for a backend failure on ``uri``."""
    if isinstance(exc, StorageError):
        return exc
    kind = classify(exc)
    cause = _describe(_original(exc))
    if kind is Failure.NOT_FOUND:
        return StorageNotFoundError(uri, f"does not exist ({cause})")
    if kind is Failure.DENIED:
        return StorageAccessDeniedError(uri, cause)
    if kind is Failure.WRONG_KIND:
        return InvalidStoragePathError(uri, cause)
    if kind is Failure.TRANSIENT:
        return StorageUnavailableError(uri, cause, attempts)
    return StorageOperationError(uri, cause)


def backoff_delay(attempt: int, config: Storage) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based): exponential, capped, with
    "equal jitter" so that many clients failing together do not retry in lockstep."""
    ceiling = min(config.max_backoff, config.backoff * (2.0**attempt))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


async def retrying(
    operation: Callable[[], Awaitable[_T]],
    *,
    uri: str,
    config: Storage,
    cleanup: Callable[[], Awaitable[None]] | None = None,
) -> _T:
    """Run ``operation`` until it succeeds, retrying transient failures ``config.retries`` times.

    ``cleanup`` runs after every failed attempt (e.g. to remove a temporary file). Non-transient
    failures are raised at once; every failure leaves as a `StorageError` naming ``uri``.
    """
    attempt = 0
    while True:
        try:
            return await operation()
        except asyncio.CancelledError:
            if cleanup is not None:
                await cleanup()
            raise
        except Exception as exc:
            if cleanup is not None:
                await cleanup()
            transient = not isinstance(exc, StorageError) and classify(exc) is Failure.TRANSIENT
            if not transient or attempt >= config.retries:
                raise translate(exc, uri, attempt + 1) from exc
            delay = backoff_delay(attempt, config)
            logger.info(
                "%s: transient failure (%s); retry %d/%d in %.2fs", uri, exc, attempt + 1, config.retries, delay
            )
            attempt += 1
            await asyncio.sleep(delay)
