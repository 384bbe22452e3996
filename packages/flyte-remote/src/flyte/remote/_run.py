"""``flyte.remote.Run``: a run on a backend, its phase, its wait, its inputs and outputs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from flyte.models import ActionOutputs
from flyte.remote._session import Session, call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import interface_pb2
    from flyteidl2.workflow import run_definition_pb2

    from flyte.errors import BaseRuntimeError

TERMINAL_PHASES = frozenset({"SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT"})
_POLL_S = 0.5
_OUTPUT_NAME = re.compile(r"o(\d+)")


def _phase_name(phase: int) -> str:
    from flyteidl2.common import phase_pb2

    return str(phase_pb2.ActionPhase.Name(phase)).removeprefix("ACTION_PHASE_")


class Run:
    """A run on a Flyte 2 backend. Every method is sync, with ``.aio`` for async code.

    Example:
        >>> run = flyte.run(main, n=3)  # doctest: +SKIP
        >>> run.wait()  # doctest: +SKIP
        >>> run.outputs().o0  # doctest: +SKIP
    """

    def __init__(self, action: run_definition_pb2.Action | run_definition_pb2.ActionDetails, session: Session):
        self._session = session
        self._action_id: identifier_pb2.ActionIdentifier = action.id
        self._phase = _phase_name(action.status.phase)
        self._details: run_definition_pb2.ActionDetails | None = None
        if hasattr(action, "error_info"):
            self._details = action  # type: ignore[assignment]

    # --- state ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return str(self._action_id.run.name)

    @property
    def project(self) -> str:
        return str(self._action_id.run.project)

    @property
    def domain(self) -> str:
        return str(self._action_id.run.domain)

    @property
    def url(self) -> str:
        """Where the run is shown: ``<backend>/v2/runs/project/<p>/domain/<d>/<name>``."""
        return f"{self._session.console_base}/v2/runs/project/{self.project}/domain/{self.domain}/{self.name}"

    @property
    def phase(self) -> str:
        """The phase last seen: ``QUEUED``, ``RUNNING``, ``SUCCEEDED``, ``FAILED``, ..."""
        return self._phase

    def done(self) -> bool:
        """Whether the run had reached a terminal phase when last seen (see :meth:`wait`)."""
        return self._phase in TERMINAL_PHASES

    @property
    def error(self) -> BaseRuntimeError | None:
        """The run's error as a ``flyte.errors`` exception, if it failed when last seen."""
        details = self._details
        if details is None or self._phase not in ("FAILED", "TIMED_OUT", "ABORTED"):
            return None
        if details.HasField("error_info"):
            return _error_from_info(details.error_info)
        if self._phase == "ABORTED":
            return _abort_error(details)
        from flyte.errors import RuntimeSystemError

        return RuntimeSystemError("Unknown", f"run {self.name} ended {self._phase} without an error report")

    def raise_for_status(self) -> None:
        """Raise the run's error (the task's original exception type and message) if it failed.

        Uses the state last seen; call :meth:`wait` first to see the final one.
        """
        error = self.error
        if error is not None:
            raise error

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, phase={self.phase!r}, url={self.url!r})"

    def _update(self, details: run_definition_pb2.ActionDetails) -> None:
        self._details = details
        self._phase = _phase_name(details.status.phase)

    # --- calls ----------------------------------------------------------------------------

    @syncify
    @classmethod
    async def get(cls, name: str, project: str | None = None, domain: str | None = None) -> Run:
        """The run called ``name`` in the configured (or given) project and domain."""
        from flyteidl2.common import identifier_pb2
        from flyteidl2.workflow import run_service_pb2

        session = current_session()
        run_id = identifier_pb2.RunIdentifier(
            org=session.org, project=project or session.project, domain=domain or session.domain, name=name
        )
        response = await call(
            session,
            clients_for(session).run_service.GetRunDetails,
            run_service_pb2.GetRunDetailsRequest(run_id=run_id),
        )
        return cls(response.details.action, session)

    @syncify
    @classmethod
    async def listall(
        cls,
        limit: int = 100,
        in_phase: str | tuple[str, ...] | None = None,
        project: str | None = None,
        domain: str | None = None,
    ) -> AsyncIterator[Run]:
        """Runs of the project, newest first, at most ``limit``; ``in_phase`` filters by phase name."""
        from flyteidl2.common import identifier_pb2, list_pb2, phase_pb2
        from flyteidl2.workflow import run_service_pb2

        session = current_session()
        project_id = identifier_pb2.ProjectIdentifier(
            organization=session.org, name=project or session.project, domain=domain or session.domain
        )
        filters = []
        if in_phase:
            phases = (in_phase,) if isinstance(in_phase, str) else in_phase
            values = [str(phase_pb2.ActionPhase.Value("ACTION_PHASE_" + p.upper())) for p in phases]
            filters.append(list_pb2.Filter(function=list_pb2.Filter.VALUE_IN, field="phase", values=values))
        token, seen = "", 0
        while seen < limit:
            page = min(100, limit - seen)
            response = await call(
                session,
                clients_for(session).run_service.ListRuns,
                run_service_pb2.ListRunsRequest(
                    project_id=project_id, request=list_pb2.ListRequest(limit=page, token=token, filters=filters)
                ),
            )
            for pb in response.runs:
                seen += 1
                yield cls(pb.action, session)
                if seen >= limit:
                    return
            token = response.token
            if not token or not response.runs:
                return

    @syncify
    async def details(self) -> run_definition_pb2.ActionDetails:
        """Fetch the root action's details now (phase, attempts, error, task spec)."""
        from flyteidl2.workflow import run_service_pb2

        response = await call(
            self._session,
            clients_for(self._session).run_service.GetRunDetails,
            run_service_pb2.GetRunDetailsRequest(run_id=self._action_id.run),
        )
        details: run_definition_pb2.ActionDetails = response.details.action
        self._update(details)
        return details

    @syncify
    async def wait(self, timeout: float | None = None) -> Run:
        """Wait until the run reaches a terminal phase; returns the run.

        Follows WatchActionDetails on the root action (falling back to polling GetRunDetails if the
        stream breaks). Does not raise when the run failed: call :meth:`raise_for_status`.

        Raises:
            TimeoutError: the run was not done after ``timeout`` seconds.
        """
        try:
            await asyncio.wait_for(self._follow(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"run {self.name} is still {self.phase} after {timeout} s") from None
        return self

    async def _follow(self) -> None:
        import grpc
        from flyteidl2.workflow import run_service_pb2

        clients = clients_for(self._session)
        try:
            stream = clients.run_service.WatchActionDetails(
                run_service_pb2.WatchActionDetailsRequest(action_id=self._action_id)
            )
            async for response in stream:
                self._update(response.details)
                if self.done():
                    break
        except grpc.aio.AioRpcError as e:
            if e.code() not in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL):
                raise
        # Read the final state once more (or poll, when the stream is not available).
        while True:
            await self.details.aio()
            if self.done():
                return
            await asyncio.sleep(_POLL_S)

    @syncify
    async def abort(self, reason: str = "aborted by the user") -> None:
        """Abort the run (its running actions are killed); aborting a finished run changes nothing."""
        from flyteidl2.workflow import run_service_pb2

        await call(
            self._session,
            clients_for(self._session).run_service.AbortRun,
            run_service_pb2.AbortRunRequest(run_id=self._action_id.run, reason=reason),
        )

    async def _action_data(self) -> Any:
        from flyteidl2.dataproxy import dataproxy_service_pb2

        return await call(
            self._session,
            clients_for(self._session).dataproxy_service.GetActionData,
            dataproxy_service_pb2.GetActionDataRequest(action_id=self._action_id),
        )

    async def _interface(self) -> interface_pb2.TypedInterface:
        if self._details is None or not self._details.HasField("task"):
            await self.details.aio()
        assert self._details is not None
        return self._details.task.task_template.interface

    @syncify
    async def inputs(self) -> dict[str, Any]:
        """The root task's inputs, decoded through the TypeEngine."""
        from flyte.types import TypeEngine

        data = await self._action_data()
        types = TypeEngine.guess_python_types((await self._interface()).inputs)
        return {n.name: await TypeEngine.to_python_value(n.value, types.get(n.name, Any)) for n in data.inputs.literals}

    @syncify
    async def outputs(self) -> ActionOutputs:
        """The root task's outputs (``o0``, ``o1``, ...) decoded through the TypeEngine.

        Raises:
            the run's error if it failed; RuntimeError if it has not finished.
        """
        from flyte.types import TypeEngine

        if not self.done():
            await self.details.aio()
        self.raise_for_status()
        if self._phase != "SUCCEEDED":
            raise RuntimeError(f"run {self.name} is {self._phase}; it has no outputs yet (call wait() first)")
        data = await self._action_data()
        types = TypeEngine.guess_python_types((await self._interface()).outputs)
        named = sorted(data.outputs.literals, key=lambda n: _output_order(n.name))
        values = [await TypeEngine.to_python_value(n.value, types.get(n.name, Any)) for n in named]
        return ActionOutputs(tuple(values), tuple(n.name for n in named))


def _output_order(name: str) -> tuple[int, str]:
    match = _OUTPUT_NAME.fullmatch(name)
    return (int(match.group(1)), "") if match else (1 << 30, name)


def _error_from_info(info: run_definition_pb2.ErrorInfo) -> BaseRuntimeError:
    """The ``flyte.errors`` exception for a run's ErrorInfo (ErrorDocument -> exception mapping)."""
    from flyteidl2.workflow import run_definition_pb2

    from flyte.models import ErrorInfo

    kind = {run_definition_pb2.ErrorInfo.KIND_USER: "user", run_definition_pb2.ErrorInfo.KIND_SYSTEM: "system"}
    return ErrorInfo(code=info.code, message=info.message, kind=kind.get(info.kind, "unknown")).to_exception()  # type: ignore[arg-type]


def _abort_error(details: run_definition_pb2.ActionDetails) -> BaseRuntimeError:
    from flyte.errors import ActionAbortedError

    reason = details.abort_info.reason if details.HasField("abort_info") else ""
    return ActionAbortedError(f"run {details.id.run.name} was aborted" + (f": {reason}" if reason else ""))
