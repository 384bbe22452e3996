"""grpc.aio interceptors: request metadata, default deadlines, and retries of idempotent calls."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import grpc.aio

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})

# Calls that are safe to send twice. Reads are; so are the writes the backend keys by a name the
# client chose (DeployTask by task id and version, EnqueueAction by the deterministic action
# name) and aborts. CreateRun is not: a retried create could start a second run.
_IDEMPOTENT_WRITES = frozenset(
    {
        "AbortAction",
        "AbortQueuedAction",
        "AbortQueuedRun",
        "AbortRun",
        "CreateDownloadLink",
        "CreateUploadLocation",
        "DeployTask",
        "EnqueueAction",
        "UploadInputs",
    }
)
_IDEMPOTENT_PREFIXES = ("Get", "List", "Select")

_BACKOFF_BASE_S = 0.2
_BACKOFF_MAX_S = 5.0


def is_idempotent(method: str) -> bool:
    """Whether the RPC ``/package.Service/Method`` may be retried."""
    name = method.rsplit("/", 1)[-1]
    return name.startswith(_IDEMPOTENT_PREFIXES) or name in _IDEMPOTENT_WRITES


def backoff_s(attempt: int) -> float:
    """Full-jitter exponential backoff before retry number ``attempt`` (0-based)."""
    return random.uniform(0, min(_BACKOFF_MAX_S, _BACKOFF_BASE_S * 2**attempt))


def _method_name(details: grpc.aio.ClientCallDetails) -> str:
    # Typed as str, but grpc.aio hands interceptors the method as bytes.
    method: object = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


class _CallDetails:
    """Builds the details of an outgoing call: our metadata added, a default deadline filled in."""

    def __init__(self, api_key: str | None, timeout_s: float | None):
        self._auth = ("authorization", f"Bearer {api_key}") if api_key else None
        self._timeout_s = timeout_s

    def __call__(self, details: grpc.aio.ClientCallDetails, with_deadline: bool) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if metadata.get("x-request-id") is None:
            metadata.add("x-request-id", uuid.uuid4().hex)
        if self._auth is not None and metadata.get("authorization") is None:
            metadata.add(*self._auth)
        timeout = details.timeout
        if timeout is None and with_deadline:
            timeout = self._timeout_s
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=timeout,
            metadata=metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )


class _UnaryUnary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, prepare: _CallDetails, attempts: int):
        self._prepare = prepare
        self._attempts = attempts

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        details = self._prepare(client_call_details, with_deadline=True)
        attempts = self._attempts if is_idempotent(_method_name(details)) else 1
        for attempt in range(attempts):
            call = await continuation(details, request)
            try:
                await call
            except grpc.aio.AioRpcError as e:
                if e.code() not in RETRYABLE or attempt == attempts - 1:
                    raise
                await asyncio.sleep(backoff_s(attempt))
            else:
                return call
        raise AssertionError("unreachable: the last attempt returns or raises")


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    # Streams (watches, log tails) are long-lived and resumable by the caller: metadata only.
    def __init__(self, prepare: _CallDetails):
        self._prepare = prepare

    async def intercept_unary_stream(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> AsyncIterator[Any] | Any:
        return await continuation(self._prepare(client_call_details, with_deadline=False), request)


def interceptors(api_key: str | None, attempts: int, timeout_s: float | None) -> list[grpc.aio.ClientInterceptor]:
    prepare = _CallDetails(api_key, timeout_s)
    return [_UnaryUnary(prepare, attempts), _UnaryStream(prepare)]
