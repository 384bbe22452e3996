"""``flyte.remote.Action`` and ``ActionDetails``: one action of a run, its attempts, logs and errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any

from flyte.remote._errors import ActionNotFoundError, LogsNotAvailableError
from flyte.remote._session import Session, call, clients_for, current_session, unreachable
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.task import task_definition_pb2
    from flyteidl2.workflow import run_definition_pb2

    from flyte.errors import BaseRuntimeError

TERMINAL_PHASES = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
POLL_SECONDS = 0.5
# Without ``follow``: a backend that does not mark the end of the backlog (an empty message) has
# sent what there is once its stream is quiet this long.
LOGS_IDLE_SECONDS = 1.0


def phase_name(phase: int) -> str:
    from flyteidl2.common import phase_pb2

    return str(phase_pb2.ActionPhase.Name(phase)).removeprefix("ACTION_PHASE_")


def phase_filter(in_phase: str | tuple[str, ...] | list[str]) -> Any:
    """A ListRequest filter on phase names (``"RUNNING"``, ``"succeeded"``, ...)."""
    from flyteidl2.common import list_pb2, phase_pb2

    phases = (in_phase,) if isinstance(in_phase, str) else tuple(in_phase)
    values = []
    for p in phases:
        try:
            values.append(str(phase_pb2.ActionPhase.Value("ACTION_PHASE_" + p.upper())))
        except ValueError:
            known = ", ".join(n.removeprefix("ACTION_PHASE_") for n in phase_pb2.ActionPhase.keys()[1:])
            raise ValueError(f"unknown phase {p!r}; expected one of {known}") from None
    return list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=values)


def error_from_info(info: run_definition_pb2.ErrorInfo) -> BaseRuntimeError:
    """The ``flyte.errors`` exception for an ErrorInfo (ErrorDocument -> exception mapping)."""
    from flyteidl2.workflow import run_definition_pb2

    from flyte.models import ErrorInfo

    kind = {run_definition_pb2.ErrorInfo.KIND_USER: "user", run_definition_pb2.ErrorInfo.KIND_SYSTEM: "system"}
    return ErrorInfo(code=info.code, message=info.message, kind=kind.get(info.kind, "unknown")).to_exception()  # type: ignore[arg-type]


def error_of(details: run_definition_pb2.ActionDetails, what: str) -> BaseRuntimeError | None:
    """The error of a failed, timed-out or aborted action; None while it has not failed."""
    phase = phase_name(details.status.phase)
    if phase not in ("FAILED", "TIMED_OUT", "ABORTED"):
        return None
    if phase == "ABORTED":
        from flyte.errors import ActionAbortedError

        reason = details.abort_info.reason if details.HasField("abort_info") else ""
        return ActionAbortedError(f"{what} was aborted" + (f": {reason}" if reason else ""))
    if details.HasField("error_info"):
        return error_from_info(details.error_info)
    from flyte.errors import RuntimeSystemError

    return RuntimeSystemError("Unknown", f"{what} ended {phase} without an error report")


def _time(ts: Any, present: bool) -> datetime | None:
    # ts: a google.protobuf Timestamp (protobuf comes with flyteidl2; not imported here).
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, timezone.utc) if present else None


def action_id(run_name: str, name: str, session: Session, project: str | None, domain: str | None) -> Any:
    from flyteidl2.common import identifier_pb2

    return identifier_pb2.ActionIdentifier(
        run=identifier_pb2.RunIdentifier(
            org=session.org, project=project or session.project, domain=domain or session.domain, name=run_name
        ),
        name=name,
    )


async def tail_logs(
    session: Session, action: identifier_pb2.ActionIdentifier, attempt: int | None, follow: bool
) -> AsyncIterator[str]:
    """The lines of an attempt's log (DataProxyService.TailLogs); ``attempt`` None: the latest."""
    import grpc
    from flyteidl2.dataproxy import dataproxy_service_pb2

    request = dataproxy_service_pb2.TailLogsRequest(action_id=action, attempt=attempt or 0)
    stream = clients_for(session).dataproxy_service.TailLogs(request, timeout=None)
    responses = stream.__aiter__()
    try:
        while True:
            try:
                if follow:
                    response = await responses.__anext__()
                else:
                    response = await asyncio.wait_for(responses.__anext__(), LOGS_IDLE_SECONDS)
            except (StopAsyncIteration, asyncio.TimeoutError):
                return
            if not response.logs and not follow:
                return  # the backend says it sent everything written so far
            for logs in response.logs:
                for line in logs.lines:
                    yield str(line.message)
    except grpc.aio.AioRpcError as e:
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            raise unreachable(session, RuntimeError(e.details() or "unavailable")) from e
        if e.code() == grpc.StatusCode.NOT_FOUND:
            raise LogsNotAvailableError(e.details() or f"action {action.name} has no logs") from e
        raise
    finally:
        stream.cancel()


@dataclass(frozen=True)
class Attempt:
    """One attempt of an action: its number (from 1), phase, times and error."""

    number: int
    phase: str
    start_time: datetime | None
    end_time: datetime | None
    error: BaseRuntimeError | None

    @classmethod
    def from_proto(cls, pb: run_definition_pb2.ActionAttempt) -> Attempt:
        return cls(
            number=int(pb.attempt),
            phase=phase_name(pb.phase),
            start_time=_time(pb.start_time, pb.HasField("start_time")),
            end_time=_time(pb.end_time, pb.HasField("end_time")),
            error=error_from_info(pb.error_info) if pb.HasField("error_info") else None,
        )


class _ActionBase:
    """What Action and ActionDetails share: identity, phase, logs."""

    _session: Session
    _id: identifier_pb2.ActionIdentifier
    _status: run_definition_pb2.ActionStatus

    @property
    def name(self) -> str:
        return str(self._id.name)

    @property
    def run_name(self) -> str:
        return str(self._id.run.name)

    @property
    def project(self) -> str:
        return str(self._id.run.project)

    @property
    def domain(self) -> str:
        return str(self._id.run.domain)

    @property
    def action_id(self) -> identifier_pb2.ActionIdentifier:
        return self._id

    @property
    def phase(self) -> str:
        """``QUEUED``, ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ``ABORTED``, ``TIMED_OUT``, ..."""
        return phase_name(self._status.phase)

    @property
    def start_time(self) -> datetime | None:
        return _time(self._status.start_time, self._status.HasField("start_time"))

    @property
    def end_time(self) -> datetime | None:
        return _time(self._status.end_time, self._status.HasField("end_time"))

    def done(self) -> bool:
        """Whether the action had reached a terminal phase when last seen."""
        return self.phase in TERMINAL_PHASES

    @syncify
    async def get_logs(self, attempt: int | None = None, follow: bool = False) -> AsyncIterator[str]:
        """The lines the attempt (default: the latest) wrote to stdout and stderr.

        With ``follow`` the lines keep coming while the attempt runs, until it ends; without, the
        iteration stops once the backend has sent what there is.

        Raises:
            LogsNotAvailableError: the action never started that attempt.
        """
        async for line in tail_logs(self._session, self._id, attempt, follow):
            yield line

    @syncify
    async def show_logs(self, attempt: int | None = None, follow: bool = False, file: IO[str] | None = None) -> None:
        """Print the attempt's log lines (to stdout by default); ``follow`` as in :meth:`get_logs`."""
        out = file or sys.stdout
        async for line in tail_logs(self._session, self._id, attempt, follow):
            print(line, file=out, flush=True)

    @syncify
    async def abort(self, reason: str = "aborted by the user") -> None:
        """Abort the action (it is killed if it runs); aborting a finished action changes nothing."""
        from flyteidl2.workflow import run_service_pb2

        await call(
            self._session,
            clients_for(self._session).run_service.AbortAction,
            run_service_pb2.AbortActionRequest(action_id=self._id, reason=reason),
            not_found=ActionNotFoundError,
        )


class ActionDetails(_ActionBase):
    """Everything known about an action: phase, attempts, error, the task spec it runs.

    Example:
        >>> details = flyte.remote.ActionDetails.get("r3x9...", "a0")  # doctest: +SKIP
        >>> [a.phase for a in details.attempts]  # doctest: +SKIP
    """

    def __init__(self, pb2: run_definition_pb2.ActionDetails, session: Session):
        self.pb2 = pb2
        self._session = session
        self._id = pb2.id
        self._status = pb2.status

    @property
    def attempts(self) -> list[Attempt]:
        return [Attempt.from_proto(a) for a in self.pb2.attempts]

    @property
    def error(self) -> BaseRuntimeError | None:
        """The action's error as a ``flyte.errors`` exception, if it failed, timed out or was aborted."""
        return error_of(self.pb2, f"action {self.name} of run {self.run_name}")

    @property
    def error_info(self) -> run_definition_pb2.ErrorInfo | None:
        return self.pb2.error_info if self.pb2.HasField("error_info") else None

    @property
    def abort_reason(self) -> str | None:
        return self.pb2.abort_info.reason if self.pb2.HasField("abort_info") else None

    @property
    def task_name(self) -> str:
        return str(self.pb2.metadata.task.id.name)

    @property
    def task(self) -> task_definition_pb2.TaskSpec:
        """The spec of the task version the action runs."""
        return self.pb2.task

    @property
    def runtime_seconds(self) -> float | None:
        start, end = self.start_time, self.end_time
        return (end - start).total_seconds() if start and end else None

    def raise_for_status(self) -> None:
        error = self.error
        if error is not None:
            raise error

    def __repr__(self) -> str:
        return f"ActionDetails(run={self.run_name!r}, name={self.name!r}, phase={self.phase!r})"

    @syncify
    @classmethod
    async def get(
        cls, run_name: str, name: str, project: str | None = None, domain: str | None = None
    ) -> ActionDetails:
        """The details of action ``name`` of run ``run_name``.

        Raises:
            ActionNotFoundError: no such run or action.
        """
        from flyteidl2.workflow import run_service_pb2

        session = current_session()
        response = await call(
            session,
            clients_for(session).run_service.GetActionDetails,
            run_service_pb2.GetActionDetailsRequest(action_id=action_id(run_name, name, session, project, domain)),
            not_found=ActionNotFoundError,
        )
        return cls(response.details, session)

    @syncify
    async def watch(self) -> AsyncIterator[ActionDetails]:
        """The action's details each time they change, ending with its terminal state."""
        async for details in watch_details(self._session, self._id):
            yield details

    @syncify
    async def wait(self, timeout: float | None = None) -> ActionDetails:
        """Wait for a terminal phase; returns the final details (it does not raise if the action failed).

        Raises:
            TimeoutError: still not done after ``timeout`` seconds.
        """
        return await wait_for_details(self._session, self._id, timeout, self)


class Action(_ActionBase):
    """An action of a run as listed: identity, phase, times. :meth:`details` fetches the rest.

    Example:
        >>> for action in flyte.remote.Action.listall(for_run_name="r3x9..."):  # doctest: +SKIP
        ...     print(action.name, action.phase)
    """

    def __init__(self, pb2: run_definition_pb2.Action | run_definition_pb2.ActionDetails, session: Session):
        self.pb2 = pb2
        self._session = session
        self._id = pb2.id
        self._status = pb2.status

    @property
    def task_name(self) -> str:
        return str(self.pb2.metadata.task.id.name)

    @property
    def parent(self) -> str | None:
        return str(self.pb2.metadata.parent) or None

    def __repr__(self) -> str:
        return f"Action(run={self.run_name!r}, name={self.name!r}, phase={self.phase!r})"

    @syncify
    @classmethod
    async def get(cls, run_name: str, name: str, project: str | None = None, domain: str | None = None) -> Action:
        """Action ``name`` of run ``run_name`` (in the configured or given project and domain).

        Raises:
            ActionNotFoundError: no such run or action.
        """
        details = await ActionDetails.get.aio(run_name, name, project, domain)
        return cls(details.pb2, details._session)

    @syncify
    @classmethod
    async def listall(
        cls,
        for_run_name: str,
        in_phase: str | tuple[str, ...] | None = None,
        limit: int = 1000,
        project: str | None = None,
        domain: str | None = None,
    ) -> AsyncIterator[Action]:
        """The actions of run ``for_run_name`` in creation order, at most ``limit``.

        Raises:
            RunNotFoundError: no such run.
        """
        from flyteidl2.common import identifier_pb2, list_pb2
        from flyteidl2.workflow import run_service_pb2

        from flyte.remote._errors import RunNotFoundError

        session = current_session()
        run_id = identifier_pb2.RunIdentifier(
            org=session.org, project=project or session.project, domain=domain or session.domain, name=for_run_name
        )
        filters = [phase_filter(in_phase)] if in_phase else []
        token, seen = "", 0
        while seen < limit:
            response = await call(
                session,
                clients_for(session).run_service.ListActions,
                run_service_pb2.ListActionsRequest(
                    run_id=run_id,
                    request=list_pb2.ListRequest(limit=min(100, limit - seen), token=token, filters=filters),
                ),
                not_found=RunNotFoundError,
            )
            for pb in response.actions:
                seen += 1
                yield cls(pb, session)
                if seen >= limit:
                    return
            token = response.token
            if not token or not response.actions:
                return

    @syncify
    async def details(self) -> ActionDetails:
        """Fetch the action's details now (attempts, error, task spec)."""
        return await ActionDetails.get.aio(self.run_name, self.name, self.project, self.domain)

    @syncify
    async def watch(self) -> AsyncIterator[ActionDetails]:
        """The action's details each time they change, ending with its terminal state."""
        async for details in watch_details(self._session, self._id):
            self._status = details.pb2.status
            yield details

    @syncify
    async def wait(self, timeout: float | None = None) -> ActionDetails:
        """Wait for a terminal phase; returns the final details (it does not raise if the action failed).

        Raises:
            TimeoutError: still not done after ``timeout`` seconds.
        """
        details = await wait_for_details(self._session, self._id, timeout, self)
        self._status = details.pb2.status
        return details


async def watch_details(session: Session, action: identifier_pb2.ActionIdentifier) -> AsyncIterator[ActionDetails]:
    """WatchActionDetails until a terminal phase; polls GetActionDetails if the stream is unavailable."""
    import grpc
    from flyteidl2.workflow import run_service_pb2

    last: ActionDetails | None = None
    try:
        stream = clients_for(session).run_service.WatchActionDetails(
            run_service_pb2.WatchActionDetailsRequest(action_id=action), timeout=None
        )
        async for response in stream:
            last = ActionDetails(response.details, session)
            yield last
            if last.done():
                return
    except grpc.aio.AioRpcError as e:
        if e.code() == grpc.StatusCode.NOT_FOUND:
            raise ActionNotFoundError(e.details() or f"action {action.name} does not exist") from e
        if e.code() not in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL):
            raise
    while True:
        details = await ActionDetails.get.aio(action.run.name, action.name, action.run.project, action.run.domain)
        if last is None or details.pb2 != last.pb2:
            last = details
            yield details
        if details.done():
            return
        await asyncio.sleep(POLL_SECONDS)


async def wait_for_details(
    session: Session, action: identifier_pb2.ActionIdentifier, timeout: float | None, owner: _ActionBase
) -> ActionDetails:
    final: list[ActionDetails] = []

    async def follow() -> None:
        async for details in watch_details(session, action):
            final[:] = [details]

    try:
        await asyncio.wait_for(follow(), timeout)
    except asyncio.TimeoutError:
        phase = final[-1].phase if final else owner.phase
        raise TimeoutError(
            f"action {action.name} of run {action.run.name} is still {phase} after {timeout} s"
        ) from None
    return final[-1]
