"""The controller ``a0`` uses under a backend: every task call becomes a child action the backend runs.

A call names the child deterministically (parent, inputs, task, call sequence, group), writes its
``inputs.pb`` under the run's base, and sends QueueService.EnqueueAction with the child's
TaskSpec (the same bundle and version as the parent). One StateService.Watch stream per parent
reports the children's phases: it first replays every child that exists, then sends a sentinel,
then live changes. A parent replayed after a crash or a retry therefore finds the children that
already finished and reads their outputs instead of running them again.

Traces (``@flyte.trace``) are recorded as trace actions: their outputs are written under the run's
base and enqueued already finished; a replayed attempt reads them back instead of calling again.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import logging
import os
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyte.errors import ActionAbortedError, BaseRuntimeError, RuntimeSystemError, RuntimeUserError
from flyte.models import ErrorInfo, child_action_name
from flyte.runtime._context import _CURRENT, TaskContext
from flyte.runtime._controller import ActionRecord, LocalController, TraceRecorder
from flyte.runtime._errors import _user_error_class

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.workflow import state_service_pb2

    from flyte.remote import ClientSet
    from flyte.runtime._task import TaskTemplate

logger = logging.getLogger("flyte.runtime.remote_controller")

# How long a parent keeps trying to reach a backend that stopped answering before it gives up.
DISCONNECTED_GIVE_UP_S = 120.0
_RECONNECT_MAX_S = 2.0
# Trace outputs are pickles tagged with this (only this SDK reads them back).
TRACE_TAG = "flyte-trace-cloudpickle"
_TRACE_SEQ = "trace"


@dataclass(frozen=True)
class Backend:
    """Where a0 reaches the backend and the run it works for (from the a0 environment)."""

    endpoint: str
    insecure: bool
    org: str
    project: str
    domain: str

    @classmethod
    def from_env(cls) -> Backend | None:
        """The backend of ``_U_EP_OVERRIDE``; None when a0 was not started by one."""
        endpoint = os.environ.get("_U_EP_OVERRIDE", "")
        if not endpoint:
            return None
        return cls(
            endpoint=endpoint,
            insecure=os.environ.get("_U_INSECURE", "false").lower() in ("1", "true", "yes"),
            org=os.environ.get("_U_ORG_NAME", ""),
            project=os.environ.get("FLYTE_INTERNAL_EXECUTION_PROJECT", ""),
            domain=os.environ.get("FLYTE_INTERNAL_EXECUTION_DOMAIN", ""),
        )


def _terminal(phase: int) -> bool:
    from flyteidl2.common import phase_pb2

    return phase in (
        phase_pb2.ACTION_PHASE_SUCCEEDED,
        phase_pb2.ACTION_PHASE_FAILED,
        phase_pb2.ACTION_PHASE_TIMED_OUT,
        phase_pb2.ACTION_PHASE_ABORTED,
    )


class ParentWatch:
    """The StateService.Watch stream of one parent: the latest update of each of its children.

    It reconnects when the stream breaks (each connection replays every child again); after
    :data:`DISCONNECTED_GIVE_UP_S` without the backend, every waiter fails with a system error.
    """

    def __init__(self, clients: ClientSet, parent: identifier_pb2.ActionIdentifier):
        self._clients = clients
        self._parent = parent
        self.states: dict[str, state_service_pb2.ActionUpdate] = {}
        self.ready = asyncio.Event()
        self._waiters: dict[str, list[asyncio.Future[state_service_pb2.ActionUpdate]]] = {}
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"watch-{self._parent.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def wait_ready(self) -> None:
        await self.ready.wait()
        if self._failure is not None:
            raise self._failure

    async def wait_terminal(self, name: str) -> state_service_pb2.ActionUpdate:
        """The first terminal update of child ``name``."""
        known = self.states.get(name)
        if known is not None and _terminal(known.phase):
            return known
        if self._failure is not None:
            raise self._failure
        future: asyncio.Future[state_service_pb2.ActionUpdate] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(future)
        try:
            return await future
        finally:
            waiting = self._waiters.get(name)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del self._waiters[name]

    def _observe(self, update: state_service_pb2.ActionUpdate) -> None:
        name = update.action_id.name
        self.states[name] = update
        if _terminal(update.phase):
            for future in self._waiters.pop(name, ()):
                if not future.done():
                    future.set_result(update)

    async def _run(self) -> None:
        from flyteidl2.workflow import state_service_pb2

        request = state_service_pb2.WatchRequest(parent_action_id=self._parent)
        disconnected_since: float | None = None
        delay = 0.05
        while True:
            try:
                async for response in self._clients.state_service.Watch(request):
                    disconnected_since, delay = None, 0.05
                    if response.HasField("control_message"):
                        if response.control_message.sentinel:
                            self.ready.set()
                        continue
                    self._observe(response.action_update)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                code = _rpc_code(e)
                if code not in _TRANSIENT:
                    self._fail(RuntimeSystemError("WatchFailed", f"watching child actions failed: {_describe(e)}"))
                    return
                logger.info("watch of %s interrupted (%s); reconnecting", self._parent.name, code)
            now = time.monotonic()
            disconnected_since = disconnected_since or now
            if now - disconnected_since > DISCONNECTED_GIVE_UP_S:
                self._fail(
                    RuntimeSystemError(
                        "BackendUnreachable",
                        f"the backend stopped answering for {DISCONNECTED_GIVE_UP_S:g} s while action "
                        f"{self._parent.name} waited for its children",
                    )
                )
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, _RECONNECT_MAX_S)

    def _fail(self, error: BaseException) -> None:
        self._failure = error
        self.ready.set()
        for futures in self._waiters.values():
            for future in futures:
                if not future.done():
                    future.set_exception(error)
        self._waiters.clear()


class RemoteTraceRecorder(TraceRecorder):
    """Trace outcomes kept by the backend as trace actions of the running action.

    ``lookup`` answers from what the Watch replayed when the attempt started; ``record`` writes
    the value and enqueues the trace in the background (``flush`` waits for those to land).
    """

    def __init__(self, controller: RemoteController):
        super().__init__()
        self._controller = controller
        # Records being written: asyncio tasks (recorded on the loop) or concurrent futures
        # (recorded from a sync task's thread, where no asyncio future may be made).
        self._pending: set[asyncio.Future[None] | concurrent.futures.Future[None]] = set()

    @staticmethod
    def trace_name(key: tuple[str, str, int]) -> str:
        action, function, n = key
        return child_action_name(action, _TRACE_SEQ, function, n + 1)

    def lookup(self, key: tuple[str, str, int]) -> tuple[bool, Any]:
        found = super().lookup(key)
        if found[0]:
            return found
        name = self.trace_name(key)
        if name in self._controller.replayed_traces:
            return True, self._controller.replayed_traces[name]
        return False, None

    def record(self, key: tuple[str, str, int], value: Any) -> None:
        import cloudpickle  # type: ignore[import-untyped]

        super().record(key, value)
        data = cloudpickle.dumps(value)  # now: the value may change after the call returns
        loop = self._controller.loop
        assert loop is not None
        coro = self._controller.record_trace(key, self.trace_name(key), data)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task = loop.create_task(coro)
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
        else:
            future = asyncio.run_coroutine_threadsafe(coro, loop)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait until every record made so far has landed (or failed, which is logged)."""
        while self._pending:
            waiting = [f if isinstance(f, asyncio.Future) else asyncio.wrap_future(f) for f in list(self._pending)]
            results = await asyncio.gather(*waiting, return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    logger.warning("recording a trace failed: %s", result)


class RemoteController(LocalController):
    """Runs one action's task calls as child actions on the backend.

    Args:
        backend: the backend's address and the run's scope.
        run_name: the run.
        action_name: the action this a0 runs (the parent of every child it creates).
        run_base_dir: the run's base (``_U_RUN_BASE``): children's inputs and traces go below it.
        raw_data_path: where offloaded data of this action goes.
        version: the code version; children are deployed with it.
        bundle_uri: the code bundle this a0 was started from (children load from it too).
    """

    def __init__(
        self,
        *,
        backend: Backend,
        run_name: str,
        action_name: str,
        run_base_dir: str,
        raw_data_path: str,
        version: str,
        bundle_uri: str,
    ):
        super().__init__(run_name=run_name, run_base_dir=run_base_dir, raw_data_path=raw_data_path, version=version)
        self.backend = backend
        self.action_name = action_name
        self.bundle_uri = bundle_uri
        self.traces: RemoteTraceRecorder = RemoteTraceRecorder(self)
        self.replayed_traces: dict[str, Any] = {}
        self._clients: ClientSet | None = None
        self._watches: dict[str, ParentWatch] = {}
        self._specs: dict[str, Any] = {}
        self._aborts: set[asyncio.Task[None]] = set()

    # Life cycle ---------------------------------------------------------------------------
    @property
    def clients(self) -> ClientSet:
        if self._clients is None:
            from flyte.remote import ClientSet

            self._clients = ClientSet(self.backend.endpoint, insecure=self.backend.insecure, rpc_retries=8)
        return self._clients

    async def start(self, *, replay_traces: bool) -> None:
        """Bind to the running loop; with ``replay_traces``, read back the traces earlier attempts recorded."""
        self.loop = asyncio.get_running_loop()
        if not replay_traces:
            return
        watch = self._watch(self.action_name)
        await watch.wait_ready()
        for name, update in list(watch.states.items()):
            if update.output_uri.endswith(".trace.pb") and update.phase == _succeeded():
                with contextlib.suppress(Exception):  # an unreadable record: the trace runs again
                    self.replayed_traces[name] = await _read_trace(update.output_uri)

    async def close(self) -> None:
        await self.traces.flush()
        if self._aborts:
            await asyncio.gather(*self._aborts, return_exceptions=True)
        for watch in self._watches.values():
            await watch.stop()
        if self._clients is not None:
            await self._clients.close()

    def _watch(self, parent: str) -> ParentWatch:
        watch = self._watches.get(parent)
        if watch is None:
            watch = self._watches[parent] = ParentWatch(self.clients, self._action_id(parent))
            watch.start()
        return watch

    def _action_id(self, name: str) -> identifier_pb2.ActionIdentifier:
        from flyteidl2.common import identifier_pb2

        b = self.backend
        run = identifier_pb2.RunIdentifier(org=b.org, project=b.project, domain=b.domain, name=self.run_name)
        return identifier_pb2.ActionIdentifier(run=run, name=name)

    # Task calls ---------------------------------------------------------------------------
    def submit(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Coroutine[Any, Any, Any]:
        """Name the child now (call order decides names), enqueue and await it in the coroutine."""
        parent, inputs, name = self._bind_and_name(task, args, kwargs)
        self.actions[name] = ActionRecord(name, task.name, parent.action.name, parent.group, inputs)
        return self._run_remote(task, inputs, name, parent)

    def submit_from_thread(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        assert self.loop is not None
        tctx = _CURRENT.get()

        async def in_loop() -> Any:
            # The context of the calling thread (its action and group) goes along to the loop.
            token = _CURRENT.set(tctx)
            try:
                coro = self.submit(task, args, kwargs)
            finally:
                _CURRENT.reset(token)
            return await coro

        return asyncio.run_coroutine_threadsafe(in_loop(), self.loop).result()

    async def _run_remote(
        self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], name: str, parent: TaskContext
    ) -> Any:
        record = self.actions[name]
        watch = self._watch(parent.action.name)
        try:
            await watch.wait_ready()
            known = watch.states.get(name)
            if known is None or not _terminal(known.phase):
                if known is None:  # not enqueued by an earlier attempt: enqueue it now
                    await self._enqueue(task, inputs, name, parent)
                try:
                    update = await watch.wait_terminal(name)
                except asyncio.CancelledError:
                    self._abort_later(name, f"its parent {parent.action.name} stopped waiting for it")
                    raise
            else:
                update = known
                record.cache_hit = True  # done by an earlier attempt of the parent: not run again
            result = await self._result(task, name, update)
        except BaseRuntimeError as e:
            record.phase, record.error, record.ended = "FAILED", e, time.time()
            raise
        record.phase, record.outputs, record.ended = "SUCCEEDED", result, time.time()
        return result

    async def _enqueue(
        self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], name: str, parent: TaskContext
    ) -> None:
        from flyteidl2.workflow import queue_service_pb2, run_definition_pb2

        import flyte.storage as storage
        from flyte.runtime._io import inputs_message

        task_id, spec = await self._spec(task)
        inputs_uri = storage.join(self.run_base_dir, name, "inputs.pb")
        message = await inputs_message(task, inputs)
        await storage.put_stream(message.SerializeToString(deterministic=True), to_path=inputs_uri)
        request = queue_service_pb2.EnqueueActionRequest(
            action_id=self._action_id(name),
            parent_action_name=parent.action.name,
            input_uri=inputs_uri,
            run_output_base=self.run_base_dir,
            group=parent.group or "",
            task=run_definition_pb2.TaskAction(id=task_id, spec=spec),
        )
        await self._call(self.clients.queue_service.EnqueueAction, request, f"enqueueing {task.name} ({name})")

    async def _spec(self, task: TaskTemplate[Any, Any]) -> tuple[Any, Any]:
        """The child's task id and TaskSpec: the same bundle and version this action was started from."""
        spec = self._specs.get(task.name)
        if spec is None:
            from flyte.remote import Session
            from flyte.runtime._a0 import DefaultTaskResolver
            from flyte.runtime._deploy import task_spec

            loader = DefaultTaskResolver().loader_args(task)
            b = self.backend
            session = Session(b.endpoint, b.insecure, b.org, b.project, b.domain)
            model = await task_spec(
                task, session, bundle_uri=self.bundle_uri, module=loader[1], variable=loader[3], version=self.version
            )
            spec = self._specs[task.name] = (model.task_id.to_proto(), model.to_proto())
        return spec

    async def _result(self, task: TaskTemplate[Any, Any], name: str, update: state_service_pb2.ActionUpdate) -> Any:
        if update.phase != _succeeded():
            raise _child_error(update, task.name, name)
        return await _read_outputs(task, update.output_uri)

    async def _call(self, method: Any, request: Any, what: str) -> Any:
        try:
            return await method(request)
        except Exception as e:
            if _rpc_code(e) is None:
                raise
            raise RuntimeSystemError("EnqueueFailed", f"{what} failed: {_describe(e)}") from e

    def _abort_later(self, name: str, reason: str) -> None:
        from flyteidl2.workflow import queue_service_pb2

        request = queue_service_pb2.AbortQueuedActionRequest(action_id=self._action_id(name), reason=reason)

        async def abort() -> None:
            with contextlib.suppress(Exception):
                await self.clients.queue_service.AbortQueuedAction(request)

        task = asyncio.get_running_loop().create_task(abort())
        self._aborts.add(task)
        task.add_done_callback(self._aborts.discard)

    # Traces -------------------------------------------------------------------------------
    async def record_trace(self, key: tuple[str, str, int], name: str, data: bytes) -> None:
        from flyteidl2.core import literals_pb2
        from flyteidl2.task import common_pb2
        from flyteidl2.workflow import queue_service_pb2, run_definition_pb2

        import flyte.storage as storage

        action, function, _ = key
        outputs = common_pb2.Outputs()
        literal = literals_pb2.Literal(
            scalar=literals_pb2.Scalar(binary=literals_pb2.Binary(value=data, tag=TRACE_TAG))
        )
        outputs.literals.add(name="o0", value=literal)
        uri = storage.join(self.run_base_dir, name, "outputs.trace.pb")
        await storage.put_stream(outputs.SerializeToString(), to_path=uri)
        request = queue_service_pb2.EnqueueActionRequest(
            action_id=self._action_id(name),
            parent_action_name=action,
            run_output_base=self.run_base_dir,
            trace=run_definition_pb2.TraceAction(
                name=function.rsplit(".", 1)[-1],
                phase=_succeeded(),
                outputs={"output_uri": uri},
            ),
        )
        request.trace.start_time.GetCurrentTime()
        request.trace.end_time.CopyFrom(request.trace.start_time)
        await self._call(self.clients.queue_service.EnqueueAction, request, f"recording trace {function}")


# gRPC status codes after which a watch reconnects: the backend restarted or a proxy cut the stream.
_TRANSIENT = frozenset({"UNAVAILABLE", "INTERNAL", "UNKNOWN", "DEADLINE_EXCEEDED"})


def _rpc_code(error: BaseException) -> str | None:
    """The gRPC status code name of an RPC error (``grpc.aio.AioRpcError``), None for anything else."""
    code = getattr(error, "code", None)
    if not callable(code):
        return None
    try:
        return str(code().name)
    except Exception:
        return None


def _describe(error: BaseException) -> str:
    details = getattr(error, "details", None)
    text = details() if callable(details) else str(error)
    return f"{_rpc_code(error) or type(error).__name__}: {text}"


def _succeeded() -> Any:
    from flyteidl2.common import phase_pb2

    return phase_pb2.ACTION_PHASE_SUCCEEDED


async def _read_bytes(uri: str) -> bytes:
    import flyte.storage as storage

    return b"".join([chunk async for chunk in storage.get_stream(uri)])


async def _read_outputs(task: TaskTemplate[Any, Any], output_uri: str) -> Any:
    from flyteidl2.task import common_pb2

    import flyte.storage as storage
    from flyte.runtime._io import io_interface
    from flyte.types import TypeEngine

    interface = io_interface(task)
    names = list(interface.outputs)
    if not names:
        return None
    uri = output_uri if output_uri.endswith(".pb") else storage.join(output_uri, "outputs.pb")
    try:
        message = common_pb2.Outputs.FromString(await _read_bytes(uri))
    except Exception as e:
        raise RuntimeSystemError("OutputsUnreadable", f"reading the outputs of {task.name} at {uri} failed: {e}") from e
    literals = {named.name: named.value for named in message.literals}
    values = []
    for name in names:
        if name not in literals:
            raise RuntimeSystemError("OutputsIncomplete", f"{task.name} wrote no output {name!r} in {uri}")
        values.append(await TypeEngine.to_python_value(literals[name], interface.outputs[name]))
    return values[0] if len(values) == 1 else tuple(values)


async def _read_trace(uri: str) -> Any:
    import cloudpickle
    from flyteidl2.task import common_pb2

    message = common_pb2.Outputs.FromString(await _read_bytes(uri))
    binary = message.literals[0].value.scalar.binary
    if binary.tag != TRACE_TAG:
        raise ValueError(f"{uri} is not a trace record of this SDK")
    return cloudpickle.loads(binary.value)


def _child_error(update: state_service_pb2.ActionUpdate, task_name: str, action_name: str) -> BaseRuntimeError:
    """The exception the parent gets for a child that did not succeed.

    A user error whose code names a built-in exception (``ValueError``) is raised as an instance
    of both :class:`~flyte.errors.RuntimeUserError` and that class, so ``except ValueError``
    keeps working across the action boundary, as it does locally.
    """
    from flyteidl2.common import phase_pb2

    if not update.HasField("error"):
        if update.phase == phase_pb2.ACTION_PHASE_ABORTED:
            return ActionAbortedError(f"child action {action_name} ({task_name}) was aborted")
        phase = phase_pb2.ActionPhase.Name(update.phase)
        return RuntimeSystemError("ChildFailed", f"child action {action_name} ({task_name}) ended {phase}")
    info = ErrorInfo.from_execution_error(update.error)
    error = info.to_exception()
    original = getattr(builtins, info.code, None)
    if (
        type(error) is RuntimeUserError
        and isinstance(original, type)
        and issubclass(original, Exception)
        and not issubclass(original, BaseRuntimeError)
    ):
        cls = _user_error_class(original)
        combined = cls.__new__(cls)
        RuntimeUserError.__init__(combined, info.code, info.message, info.worker)
        error = combined
    error.task_name = task_name  # type: ignore[attr-defined]
    error.action_name = action_name  # type: ignore[attr-defined]
    return error


__all__ = ["Backend", "ParentWatch", "RemoteController", "RemoteTraceRecorder"]
