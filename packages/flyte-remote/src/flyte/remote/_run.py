"""``flyte.remote.Run``: a run on a backend, its phase, its wait, its inputs and outputs."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from typing import IO, TYPE_CHECKING, Any

from flyte.models import ActionOutputs
from flyte.remote._action import (
    TERMINAL_PHASES,
    Action,
    ActionDetails,
    error_of,
    phase_filter,
    tail_logs,
    watch_details,
)
from flyte.remote._action import phase_name as _phase_name
from flyte.remote._errors import RunNotFoundError
from flyte.remote._session import Session, call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import interface_pb2
    from flyteidl2.workflow import run_definition_pb2

    from flyte.errors import BaseRuntimeError

__all__ = ["TERMINAL_PHASES", "Run"]
_OUTPUT_NAME = re.compile(r"o(\d+)")


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
        self._action = action  # the root action as last seen
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
        return error_of(details, f"run {self.name}")

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
        self._details = self._action = details
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
            not_found=RunNotFoundError,
        )
        return cls(response.details.action, session)

    @syncify
    @classmethod
    async def listall(
        cls,
        limit: int = 100,
        in_phase: str | tuple[str, ...] | None = None,
        task_name: str | None = None,
        created_after: float | None = None,
        sort_by: tuple[str, str] = ("created_at", "desc"),
        project: str | None = None,
        domain: str | None = None,
    ) -> AsyncIterator[Run]:
        """Runs of the project, newest first by default, at most ``limit``.

        Args:
            limit: how many runs at most (pages through ListRuns, 100 at a time).
            in_phase: only runs whose root action is in this phase (or one of these phases).
            task_name: only runs of this task (its full name, ``env.function``).
            created_after: only runs created after this Unix time.
            sort_by: ``(field, "asc" | "desc")`` with field ``created_at``, ``updated_at``,
                ``name`` or ``phase``.
        """
        from flyteidl2.common import identifier_pb2, list_pb2
        from flyteidl2.task import task_definition_pb2
        from flyteidl2.workflow import run_service_pb2

        session = current_session()
        project_id = identifier_pb2.ProjectIdentifier(
            organization=session.org, name=project or session.project, domain=domain or session.domain
        )
        filters = [phase_filter(in_phase)] if in_phase else []
        if created_after is not None:
            filters.append(
                list_pb2.Filter(function=list_pb2.Filter.GREATER_THAN, field="created_at", values=[str(created_after)])
            )
        field, direction = sort_by
        if direction.lower() not in ("asc", "desc"):
            raise ValueError(f"sort_by direction must be 'asc' or 'desc', got {direction!r}")
        sort = list_pb2.Sort(
            key=field,
            direction=list_pb2.Sort.ASCENDING if direction.lower() == "asc" else list_pb2.Sort.DESCENDING,
        )
        token, seen = "", 0
        while seen < limit:
            request = run_service_pb2.ListRunsRequest(
                project_id=project_id,
                request=list_pb2.ListRequest(
                    limit=min(100, limit - seen), token=token, filters=filters, sort_by_fields=[sort]
                ),
            )
            if task_name:
                request.task_name.CopyFrom(
                    task_definition_pb2.TaskName(
                        org=session.org, project=project_id.name, domain=project_id.domain, name=task_name
                    )
                )
            response = await call(session, clients_for(session).run_service.ListRuns, request)
            for pb in response.runs:
                seen += 1
                yield cls(pb.action, session)
                if seen >= limit:
                    return
            token = response.token
            if not token or not response.runs:
                return

    @syncify
    async def details(self) -> ActionDetails:
        """Fetch the root action's details now (phase, attempts, error, task spec)."""
        await self._refresh()
        assert self._details is not None
        return ActionDetails(self._details, self._session)

    async def _refresh(self) -> None:
        from flyteidl2.workflow import run_service_pb2

        response = await call(
            self._session,
            clients_for(self._session).run_service.GetRunDetails,
            run_service_pb2.GetRunDetailsRequest(run_id=self._action_id.run),
            not_found=RunNotFoundError,
        )
        self._update(response.details.action)

    @property
    def action(self) -> Action:
        """The run's root action (``a0``)."""
        return Action(self._action, self._session)

    @syncify
    async def watch(self) -> AsyncIterator[ActionDetails]:
        """The root action's details each time they change, ending with the run's terminal state.

        Example:
            >>> for details in run.watch():  # doctest: +SKIP
            ...     print(details.phase)
        """
        async for details in watch_details(self._session, self._action_id):
            self._update(details.pb2)
            yield details

    @syncify
    async def get_logs(self, attempt: int | None = None, follow: bool = False) -> AsyncIterator[str]:
        """The lines the root action's attempt (default: the latest) wrote; see ``Action.get_logs``."""
        async for line in tail_logs(self._session, self._action_id, attempt, follow):
            yield line

    @syncify
    async def show_logs(self, attempt: int | None = None, follow: bool = False, file: IO[str] | None = None) -> None:
        """Print the root action's log lines; ``follow`` keeps printing until the attempt ends."""
        await self.action.show_logs.aio(attempt=attempt, follow=follow, file=file)

    @syncify
    async def wait(self, timeout: float | None = None, quiet: bool = True) -> Run:
        """Wait until the run reaches a terminal phase; returns the run.

        Follows WatchActionDetails on the root action (falling back to polling GetRunDetails if the
        stream breaks). Does not raise when the run failed: call :meth:`raise_for_status`.

        Args:
            timeout: seconds to wait at most (default: no limit).
            quiet: ``False`` prints each phase the run reaches, with its attempt, to stderr.

        Raises:
            TimeoutError: the run was not done after ``timeout`` seconds.
        """
        try:
            await asyncio.wait_for(self._follow(quiet), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"run {self.name} is still {self.phase} after {timeout} s") from None
        return self

    async def _follow(self, quiet: bool = True) -> None:
        shown = ""
        async for details in self.watch.aio():
            if not quiet and details.phase != shown:
                shown = details.phase
                attempts = len(details.pb2.attempts)
                print(
                    f"[flyte] run {self.name}: {shown}" + (f" (attempt {attempts})" if attempts else ""),
                    file=sys.stderr,
                )
        # The stream's last message is terminal; read the final state (attempts, error) once more.
        await self._refresh()

    @syncify
    async def abort(self, reason: str = "aborted by the user") -> None:
        """Abort the run (its running actions are killed); aborting a finished run changes nothing."""
        from flyteidl2.workflow import run_service_pb2

        await call(
            self._session,
            clients_for(self._session).run_service.AbortRun,
            run_service_pb2.AbortRunRequest(run_id=self._action_id.run, reason=reason),
            not_found=RunNotFoundError,
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
            await self._refresh()
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
            await self._refresh()
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
