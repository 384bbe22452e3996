"""Which failures are retried, how long between attempts, and what each becomes."""

from __future__ import annotations

import asyncio

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

import flyte.storage as storage
from flyte.storage._retry import Failure, backoff_delay, classify, retrying


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (client_error("InternalError", 500), Failure.TRANSIENT),
        (client_error("SlowDown", 503), Failure.TRANSIENT),
        (client_error("RequestTimeout", 400), Failure.TRANSIENT),
        (client_error("AccessDenied", 403), Failure.DENIED),
        (client_error("InvalidAccessKeyId", 403), Failure.DENIED),
        (client_error("NoSuchKey", 404), Failure.NOT_FOUND),
        (client_error("NoSuchBucket", 404), Failure.NOT_FOUND),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), Failure.TRANSIENT),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), Failure.TRANSIENT),
        (ConnectionResetError(), Failure.TRANSIENT),
        (FileNotFoundError("x"), Failure.NOT_FOUND),
        (PermissionError("x"), Failure.DENIED),
        (IsADirectoryError("x"), Failure.WRONG_KIND),
        (ValueError("x"), Failure.OTHER),
    ],
)
def test_failures_are_classified_by_what_they_carry(exc: BaseException, kind: Failure) -> None:
    assert classify(exc) is kind


def test_a_wrapped_cause_is_classified_too() -> None:
    # s3fs turns a ClientError into OSError(EIO) with the ClientError as its cause.
    wrapped = OSError(5, "wrapped")
    wrapped.__cause__ = client_error("ServiceUnavailable", 503)
    assert classify(wrapped) is Failure.TRANSIENT


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    config = storage.Storage(backoff=1.0, max_backoff=8.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delays = {backoff_delay(attempt, config) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


@pytest.mark.asyncio(loop_scope="session")
async def test_transient_failures_are_retried_up_to_the_configured_count() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectionResetError("reset by peer")
        return "done"

    config = storage.Storage(retries=2, backoff=0.001)
    assert await retrying(flaky, uri="s3://b/k", config=config) == "done"
    assert calls == 3


@pytest.mark.asyncio(loop_scope="session")
async def test_non_transient_failures_are_not_retried() -> None:
    calls = 0

    async def denied() -> None:
        nonlocal calls
        calls += 1
        raise client_error("AccessDenied", 403)

    with pytest.raises(storage.StorageAccessDeniedError, match="s3://b/k"):
        await retrying(denied, uri="s3://b/k", config=storage.Storage(retries=5, backoff=0.001))
    assert calls == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_cleanup_runs_after_every_failed_attempt_and_on_cancel() -> None:
    cleaned = 0

    async def cleanup() -> None:
        nonlocal cleaned
        cleaned += 1

    async def always_fails() -> None:
        raise ConnectionResetError()

    with pytest.raises(storage.StorageUnavailableError):
        await retrying(always_fails, uri="u", config=storage.Storage(retries=2, backoff=0.001), cleanup=cleanup)
    assert cleaned == 3

    started = asyncio.Event()

    async def hangs() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.ensure_future(retrying(hangs, uri="u", config=storage.Storage(), cleanup=cleanup))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == 4


def test_errors_belong_to_the_flyte_hierarchy() -> None:
    import flyte.errors

    assert issubclass(storage.StorageNotFoundError, flyte.errors.RuntimeUserError)
    assert issubclass(storage.StorageUnavailableError, flyte.errors.RuntimeSystemError)
    assert issubclass(storage.StorageBackendMissingError, flyte.errors.InitializationError)
    for cls in (storage.StorageNotFoundError, storage.InvalidStoragePathError, storage.StorageUnavailableError):
        assert issubclass(cls, storage.StorageError)


def test_a_failed_abort_of_a_vanished_upload_is_judged_by_the_failure_that_caused_it() -> None:
    # s3fs aborts a multipart upload when a step fails; if the step had in fact completed the
    # upload (its answer was lost), the abort fails with NoSuchUpload, raised with the real
    # failure as its context. Judged by the NoSuchUpload it would be a "not found", never retried.
    import aiohttp
    from s3fs.errors import translate_boto_error

    def failed_upload() -> BaseException:
        try:
            try:
                raise aiohttp.ServerDisconnectedError()
            except aiohttp.ServerDisconnectedError:
                try:
                    error = {"Code": "NoSuchUpload", "Message": "The specified upload does not exist."}
                    meta = {"HTTPStatusCode": 404}
                    raise ClientError({"Error": error, "ResponseMetadata": meta}, "AbortMultipartUpload")
                except ClientError as e:
                    raise translate_boto_error(e) from e
        except Exception as e:
            return e
        raise AssertionError("unreachable")

    exc = failed_upload()
    assert isinstance(exc, FileNotFoundError)
    assert classify(exc) is Failure.TRANSIENT
