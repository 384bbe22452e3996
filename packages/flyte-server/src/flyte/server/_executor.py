"""``Executor``: runs queued actions as ``a0`` processes, with a concurrency limit, retries,
timeouts and aborts, recording every phase in SQLite and waking the watchers.

One asyncio task per queued action waits for a slot (FIFO), then runs attempts until one succeeds,
the error is not recoverable, the retries or the deadline are used up, or the action is aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from flyteidl2.common import phase_pb2
from flyteidl2.task import run_pb2, task_definition_pb2

from flyte.models import ErrorInfo
from flyte.server._config import ServerConfig
from flyte.server._events import ActionEvents
from flyte.server._launchers import make_launcher
from flyte.server._layout import DataLayout, from_uri, to_uri
from flyte.server._outcome import ABORTED, FAILED, SUCCEEDED, TIMED_OUT, Outcome, judge
from flyte.server._policy import AttemptPolicy
from flyte.server._process import A0, CONSTANT_TASK_ENV, Launch, RunningAttempt, find_a0, render
from flyte.server._secrets import secret_env
from flyte.server._store import ActionRow, MetadataStore

logger = logging.getLogger("flyte.server.executor")

QUEUED = phase_pb2.ACTION_PHASE_QUEUED
INITIALIZING = phase_pb2.ACTION_PHASE_INITIALIZING
RUNNING = phase_pb2.ACTION_PHASE_RUNNING
TERMINAL = frozenset({SUCCEEDED, FAILED, TIMED_OUT, ABORTED})
ACTIVE = (QUEUED, phase_pb2.ACTION_PHASE_WAITING_FOR_RESOURCES, INITIALIZING, RUNNING)
_RETRIES_EXHAUSTED = "RetriesExhausted|"


# An attempt that ended: its number, its outcome and the exit code of its process.
_AttemptEnd = tuple[int, Outcome, "int | None"]


@dataclass
class _Handle:
    """What abort() needs to reach a queued or running action."""

    abort: asyncio.Event = field(default_factory=asyncio.Event)
    started: bool = False  # holds a slot: the attempt loop, not abort(), records the end
    process: RunningAttempt | None = None
    lent: bool = False  # gave its slot back because it waits for child actions


class Executor:
    """Runs actions; start() re-queues what a previous server left unfinished.

    Args:
        store: the metadata store.
        events: notified on every change of an action.
        layout: the data dir's folders.
        config: concurrency, the a0 program, kill grace.
        endpoint: this server's address, given to tasks as ``_U_EP_OVERRIDE``.
    """

    def __init__(
        self, store: MetadataStore, events: ActionEvents, layout: DataLayout, config: ServerConfig, endpoint: str
    ):
        self._store = store
        self._events = events
        self._layout = layout
        self._config = config
        self._endpoint = endpoint
        self._slots = asyncio.Semaphore(config.concurrency)
        self._handles: dict[int, _Handle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._parents: set[int] = set()  # actions that started task children (since this start)
        self._launcher = make_launcher(config)

    async def start(self) -> None:
        for action in await self._store.actions_in_phases(ACTIVE):
            logger.info("resuming action %s/%s", action.run_name, action.name)
            self.enqueue(action.id)

    async def stop(self) -> None:
        """Kill every running attempt and cancel every queued action (they resume on the next start)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._launcher.close()

    def enqueue(self, action_id: int) -> None:
        if action_id in self._handles:
            return
        self._handles[action_id] = _Handle()
        task = asyncio.create_task(self._run(action_id), name=f"action-{action_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def abort(self, action: ActionRow, reason: str) -> bool:
        """Abort ``action``: kill its process if it runs, else end it now. False if it had ended."""
        if action.phase in TERMINAL or not await self._store.set_abort_reason(action.id, reason):
            return False
        self._parents.add(action.id)  # children it started before a restart are aborted too
        handle = self._handles.get(action.id)
        if handle is not None:
            handle.abort.set()
            if handle.started:
                return True  # the attempt loop kills the process and records ABORTED
        await self._finish(action.id, Outcome(ABORTED, ErrorInfo("Aborted", reason, kind="user", recoverable=False)))
        return True

    def lend_slot(self, action_id: int) -> None:
        """``action`` now waits for child actions: its slot goes to them until it ends.

        Otherwise parents holding every slot would wait forever for children that never get one.
        A parent that computes again after its children finished runs beside ``max_concurrency``
        others (an orchestrator mostly waits, so this rarely oversubscribes).
        """
        self._parents.add(action_id)
        handle = self._handles.get(action_id)
        if handle is not None and handle.started and not handle.lent:
            handle.lent = True
            self._slots.release()

    async def _abort_children(self, action_id: int) -> None:
        """An action that ended takes its unfinished child actions (and theirs) with it."""
        if action_id not in self._parents:
            return  # it never started a task child: nothing to look up
        self._parents.discard(action_id)
        action = await self._store.get_action_by_id(action_id)
        reason = action.abort_reason or f"its parent action {action.name} ended"
        for child in await self._store.active_children(action.run_id, action.name, ACTIVE):
            await self.abort(child, reason)

    # ------------------------------------------------------------------ the attempt loop

    async def _run(self, action_id: int) -> None:
        handle = self._handles[action_id]
        try:
            await self._slots.acquire()
            try:
                if handle.abort.is_set():
                    return
                handle.started = True
                await self._run_attempts(action_id, handle)
            finally:
                if not handle.lent:
                    self._slots.release()
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug here must not leave the action running forever
            logger.exception("action %s failed inside the server", action_id)
            await self._finish(action_id, Outcome(FAILED, ErrorInfo("InternalError", repr(e), kind="system")))
        finally:
            self._handles.pop(action_id, None)

    async def _run_attempts(self, action_id: int, handle: _Handle) -> None:
        action = await self._store.get_action_by_id(action_id)
        if action.phase in TERMINAL:
            return
        spec = task_definition_pb2.TaskSpec.FromString(action.task_spec)
        policy = AttemptPolicy.from_template(spec.task_template)
        started = time.monotonic()
        outcome = await self._resume_interrupted(action)
        attempt, failures = action.attempts, 0
        ended: _AttemptEnd | None = None  # an attempt whose end is not recorded yet
        while outcome is None or (outcome.retryable and failures < policy.retries):
            if outcome is not None:
                if ended is not None:  # the failed attempt's end, recorded before the retry waits
                    await self._end_attempt(action_id, *ended)
                    ended = None
                failures += 1
                if not await self._sleep_unless_aborted(policy.backoff(failures), handle):
                    outcome = Outcome(ABORTED)
                    break
            if handle.abort.is_set():
                outcome = Outcome(ABORTED)
                break
            attempt += 1
            limit = _attempt_limit(policy, started)
            if limit is not None and limit <= 0:
                outcome = _timed_out("DeadlineExceededError", policy.deadline)
                break
            outcome, ended = await self._attempt(action, spec, attempt, limit, handle)
            if outcome.phase == ABORTED:
                break
        assert outcome is not None
        if outcome.phase != SUCCEEDED and failures and outcome.error is not None and outcome.error.kind == "user":
            err = outcome.error
            outcome = Outcome(outcome.phase, ErrorInfo(_RETRIES_EXHAUSTED + err.code, err.message, err.kind, False))
        # The last attempt's end and the action's end land in one transaction.
        await self._finish(action_id, outcome, ended)

    async def _resume_interrupted(self, action: ActionRow) -> Outcome | None:
        """After a restart: the result an unfinished attempt already wrote, if it wrote one."""
        if action.attempts == 0:
            return None  # never started: nothing to look up
        attempts = await self._store.attempts(action.id)
        if not attempts or attempts[-1].ended_at is not None:
            return None
        last = attempts[-1]
        outcome = await judge(from_uri(last.outputs_uri), None)
        phase = outcome.phase if outcome is not None else FAILED
        error = outcome.error if outcome is not None else ErrorInfo("Interrupted", "the server stopped", "system")
        await self._store.finish_attempt(action.id, last.attempt, phase, _error_bytes(error), None)
        # An attempt cut short by the server is not the task's failure: it does not use up a retry.
        return outcome if outcome is not None and outcome.phase == SUCCEEDED else None

    async def _attempt(
        self, action: ActionRow, spec: task_definition_pb2.TaskSpec, attempt: int, limit: float | None, handle: _Handle
    ) -> tuple[Outcome, _AttemptEnd | None]:
        """Run one attempt; returns its outcome and its end for the caller to record (None: recorded)."""
        run_base = Path(action.run_base)
        outputs = run_base / action.name / str(attempt)
        logs = self._layout.logs(action.org, action.project, action.domain, action.run_name, action.name, attempt)
        await self._store.start_attempt(action.id, attempt, INITIALIZING, to_uri(outputs), str(logs))
        self._events.changed(action.id)
        try:
            launch = self._launch(action, spec, attempt, outputs, logs)
            process = await self._launcher.start(launch)
        except (OSError, ValueError) as e:
            outcome = Outcome(FAILED, ErrorInfo("LaunchFailed", f"cannot start the action: {e}", "system", False))
            await self._store.finish_attempt(action.id, attempt, outcome.phase, _error_bytes(outcome.error), None)
            return outcome, None
        handle.process = process
        try:
            await self._store.update_action(action.id, phase=RUNNING)
            self._events.changed(action.id)
            outcome, exit_code = await self._wait(process, limit, handle, outputs, launch.stderr)
        finally:
            handle.process = None
            await process.kill(self._config.kill_grace_seconds)
        return outcome, (attempt, outcome, exit_code)

    async def _end_attempt(self, action_id: int, attempt: int, outcome: Outcome, exit_code: int | None) -> None:
        await self._store.finish_attempt(action_id, attempt, outcome.phase, _error_bytes(outcome.error), exit_code)
        self._events.changed(action_id)

    async def _wait(
        self, process: RunningAttempt, limit: float | None, handle: _Handle, outputs: Path, stderr: Path
    ) -> tuple[Outcome, int | None]:
        exited = asyncio.ensure_future(process.wait())
        aborted = asyncio.ensure_future(handle.abort.wait())
        try:
            done, _ = await asyncio.wait({exited, aborted}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            aborted.cancel()
        if exited in done:
            code = exited.result()
            outcome = await judge(outputs, code, stderr)
            assert outcome is not None
            return outcome, code
        code = await process.kill(self._config.kill_grace_seconds)
        if aborted in done:
            return Outcome(ABORTED), code
        return _timed_out("MaxRuntimeExceededError", limit), code

    async def _sleep_unless_aborted(self, seconds: float, handle: _Handle) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(handle.abort.wait(), seconds)
        return not handle.abort.is_set()

    async def _finish(self, action_id: int, outcome: Outcome, ended: _AttemptEnd | None = None) -> None:
        """Record the action's end (and its last attempt's, when ``ended`` says it is not yet recorded)."""
        now = time.time()
        if outcome.phase == ABORTED:
            action = await self._store.get_action_by_id(action_id)
            reason = action.abort_reason or "aborted"
            error: ErrorInfo | None = outcome.error or ErrorInfo("Aborted", reason, kind="user", recoverable=False)
        else:
            error = outcome.error
        attempt_end = None
        if ended is not None:
            attempt, attempt_outcome, exit_code = ended
            attempt_end = (attempt, attempt_outcome.phase, _error_bytes(attempt_outcome.error), exit_code)
        await self._store.update_action(
            action_id, phase=outcome.phase, error=_error_bytes(error), ended_at=now, attempt_end=attempt_end
        )
        self._events.changed(action_id)
        await self._abort_children(action_id)

    # ------------------------------------------------------------------ the process

    def _launch(
        self, action: ActionRow, spec: task_definition_pb2.TaskSpec, attempt: int, outputs: Path, logs: Path
    ) -> Launch:
        template = spec.task_template
        if not template.HasField("container"):
            raise ValueError("the task has no container; this server runs container (a0) tasks only")
        container = template.container
        run_base = Path(action.run_base)
        checkpoints = run_base / ".checkpoints" / action.name
        values = {
            "input": str(from_uri(action.input_uri)),
            "outputPrefix": str(outputs),
            "rawOutputDataPrefix": str(run_base / ".raw" / action.name / str(attempt)),
            "checkpointOutputPrefix": str(checkpoints / str(attempt)),
            "prevCheckpointPrefix": str(checkpoints / str(attempt - 1)) if attempt > 1 else "",
            "runName": action.run_name,
            "actionName": action.name,
            "runStartTime": datetime.fromtimestamp(action.created_at, timezone.utc).isoformat(),
            "project": action.project,
            "domain": action.domain,
            "org": action.org,
        }
        argv = render([*container.command, *container.args], values)
        if not argv:
            raise ValueError("the task's container has neither command nor args")
        if argv[0] == A0:
            a0 = find_a0(self._config.a0_command)
            if a0 is None:
                raise ValueError("the a0 program was not found; install flyte-runtime next to flyte-server")
            argv[0] = a0
        env = dict(os.environ)
        env.update({kv.key: kv.value for kv in container.env})
        # The run's environment (`flyte run --env`) applies to every task of the run.
        env.update({kv.key: kv.value for kv in run_pb2.RunSpec.FromString(action.run_spec).envs.values})
        env.update(secret_env(self._layout, template, action))  # the secrets the task asks for; raises if missing
        env.update(
            {
                "_U_RUN_BASE": str(run_base),
                "RUN_NAME": action.run_name,
                "ACTION_NAME": action.name,
                "FLYTE_INTERNAL_EXECUTION_PROJECT": action.project,
                "FLYTE_INTERNAL_EXECUTION_DOMAIN": action.domain,
                "_U_ORG_NAME": action.org or "local",
                "_U_EP_OVERRIDE": self._endpoint,
                "_U_INSECURE": "true",
                "FLYTE_ATTEMPT_NUMBER": str(attempt - 1),
                **CONSTANT_TASK_ENV,
            }
        )
        return Launch(
            image=container.image or None,
            argv=argv,
            env=env,
            cwd=self._layout.workdir(action.run_id, action.name, attempt),
            stdout=logs / "stdout",
            stderr=logs / "stderr",
        )


def _attempt_limit(policy: AttemptPolicy, started: float) -> float | None:
    limits = [x for x in (policy.max_runtime,) if x is not None]
    if policy.deadline is not None:
        limits.append(policy.deadline - (time.monotonic() - started))
    return min(limits) if limits else None


def _timed_out(code: str, seconds: float | None) -> Outcome:
    message = f"the attempt ran longer than its limit of {seconds:g} s and was killed" if seconds else "timed out"
    return Outcome(TIMED_OUT, ErrorInfo(code, message, kind="user", recoverable=True))


def _error_bytes(error: ErrorInfo | None) -> bytes | None:
    return error.to_execution_error().SerializeToString() if error is not None else None
