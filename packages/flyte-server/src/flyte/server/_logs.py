"""TailLogs: an attempt's stdout and stderr as flyteidl2 log lines, followed while it runs.

The executor captures each attempt's output in ``logs/.../<attempt>/{stdout,stderr}``. A tail
sends what is there, then polls the files (and wakes on the action's changes) until the attempt
has ended, when it sends the rest, including a last line without a newline, and ends the stream.
While it runs, a message without lines follows the backlog: everything written so far was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from connectrpc.request import RequestContext
from flyteidl2.common import identifier_pb2
from flyteidl2.logs.dataplane import payload_pb2
from flyteidl2.workflow import run_logs_service_pb2
from flyteidl2.workflow.run_logs_service_connect import RunLogsService

from flyte.server._convert import timestamp
from flyte.server._executor import TERMINAL
from flyte.server._requests import find_action
from flyte.server._rpc_errors import invalid_argument, not_found
from flyte.server._state import ServerState
from flyte.server._store import AttemptRow

POLL_SECONDS = 0.2
LINES_PER_MESSAGE = 500
_READ_BYTES = 1 << 20


class _Follower:
    """Reads what a growing file gained since the last read, as whole lines."""

    def __init__(self, path: Path):
        self._path = path
        self._offset = 0
        self._partial = b""

    def read(self, final: bool) -> list[str]:
        try:
            with open(self._path, "rb") as f:
                f.seek(self._offset)
                data = f.read(_READ_BYTES) if not final else f.read()
        except FileNotFoundError:
            data = b""
        self._offset += len(data)
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        if final and self._partial:
            lines.append(self._partial)
            self._partial = b""
        return [line.decode("utf-8", "replace").rstrip("\r") for line in lines]


def choose_attempt(attempts: list[AttemptRow], wanted: int) -> AttemptRow | None:
    """Attempt ``wanted`` (numbered from 1) of ``attempts``; 0: the latest. None if there is none."""
    if wanted == 0:
        return attempts[-1] if attempts else None
    return next((a for a in attempts if a.attempt == wanted), None)


async def tail_logs(
    state: ServerState, action_id: identifier_pb2.ActionIdentifier, attempt: int
) -> AsyncIterator[list[payload_pb2.LogLine]]:
    """Batches of log lines of ``attempt`` (1-based; 0: the latest) of the action.

    Waits for the attempt to start if the action may still reach it.

    Raises:
        ConnectError: NOT_FOUND for an unknown action, or an attempt that never ran and never will.
    """
    if attempt < 0:
        raise invalid_argument(f"attempt must be 0 (the latest) or a positive number, got {attempt}")
    action = await find_action(state, action_id)
    async with state.events.watch(action.id) as changed:
        while True:
            changed.clear()
            action = await state.store.get_action_by_id(action.id)
            chosen = choose_attempt(await state.store.attempts(action.id), attempt)
            if chosen is not None:
                break
            if action.phase in TERMINAL:
                which = f"attempt {attempt}" if attempt else "any attempt"
                raise not_found(f"action {action.name} of run {action.run_name} has no logs: it never ran {which}")
            await changed.wait()
        followers = [_Follower(Path(chosen.log_dir) / name) for name in ("stdout", "stderr")]
        caught_up = False
        while True:
            changed.clear()
            # Whether it had ended is read before the files: after the end, one last read gets all.
            current = choose_attempt(await state.store.attempts(action.id), chosen.attempt)
            ended = current is None or current.ended_at is not None
            lines: list[str] = []
            for follower in followers:
                lines.extend(await asyncio.to_thread(follower.read, ended))
            now = timestamp(time.time())
            for start in range(0, len(lines), LINES_PER_MESSAGE):
                yield [
                    payload_pb2.LogLine(timestamp=now, message=text, originator=payload_pb2.USER)
                    for text in lines[start : start + LINES_PER_MESSAGE]
                ]
            if ended:
                return
            if not caught_up:
                # An empty message: "that was everything written so far" (clients that only want
                # what exists stop here; followers skip it).
                caught_up = True
                yield []
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(changed.wait(), POLL_SECONDS)


class RunLogsServiceImpl(RunLogsService):
    """RunLogsService.TailLogs: the same stream as DataProxyService.TailLogs, in its own message."""

    def __init__(self, state: ServerState):
        self._state = state

    async def tail_logs(
        self, request: run_logs_service_pb2.TailLogsRequest, ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[run_logs_service_pb2.TailLogsResponse]:
        async for lines in tail_logs(self._state, request.action_id, request.attempt):
            logs = [run_logs_service_pb2.TailLogsResponse.Logs(lines=lines)] if lines else []
            yield run_logs_service_pb2.TailLogsResponse(logs=logs)
