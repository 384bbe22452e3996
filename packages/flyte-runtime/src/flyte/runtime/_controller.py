"""Controllers turn task calls inside a run into child actions.

:class:`LocalController` runs a whole run in-process on one asyncio loop: async task bodies run
on the loop, sync ones in worker threads, and every call of a task becomes an action with a
deterministic name, the task's cache, retries and timeout applied, and a record of what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flyte.errors import BaseRuntimeError, MaxRuntimeExceededError, NonRecoverableError
from flyte.models import ActionID, child_action_name
from flyte.runtime._context import _CURRENT, TaskContext, use_context
from flyte.runtime._errors import as_child_error
from flyte.runtime._fingerprint import fingerprint

if TYPE_CHECKING:
    from flyte.runtime._cache_store import LocalCacheStore
    from flyte.runtime._task import TaskTemplate


class Controller(Protocol):
    """What a task call inside a run talks to."""

    traces: TraceRecorder

    def submit(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any: ...

    def submit_from_thread(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Any: ...


class TraceRecorder:
    """Outcomes of ``@flyte.trace`` calls, by (action, function, n-th call in the attempt)."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str, int], Any] = {}
        self._counters: dict[tuple[str, str], int] = {}

    def start_attempt(self, action: str) -> None:
        for key in [k for k in self._counters if k[0] == action]:
            del self._counters[key]

    def next_key(self, action: str, function: str) -> tuple[str, str, int]:
        n = self._counters.get((action, function), 0)
        self._counters[(action, function)] = n + 1
        return action, function, n

    def lookup(self, key: tuple[str, str, int]) -> tuple[bool, Any]:
        if key in self._records:
            return True, self._records[key]
        return False, None

    def record(self, key: tuple[str, str, int], value: Any) -> None:
        self._records[key] = value


@dataclass
class ActionRecord:
    """What happened to one action of a local run."""

    name: str
    task: str
    parent: str | None
    group: str | None
    inputs: Mapping[str, Any]
    phase: str = "RUNNING"
    attempts: int = 0
    cache_hit: bool = False
    started: float = field(default_factory=time.time)
    ended: float | None = None
    outputs: Any = None
    error: BaseRuntimeError | None = None


class LocalController:
    """Runs every action of one run in this process."""

    def __init__(
        self,
        *,
        run_name: str,
        run_base_dir: str,
        raw_data_path: str,
        version: str = "",
        max_concurrency: int | None = None,
        cache_store: LocalCacheStore | None = None,
        overwrite_cache: bool = False,
        disable_run_cache: bool = False,
    ):
        self.run_name = run_name
        self.run_base_dir = run_base_dir
        self.raw_data_path = raw_data_path
        self.version = version
        self.cache_store = cache_store
        self.overwrite_cache = overwrite_cache
        self.disable_run_cache = disable_run_cache
        self.traces = TraceRecorder()
        self.actions: dict[str, ActionRecord] = {}
        self._seq: dict[tuple[str, str], int] = {}
        self._slots = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self._children_waiting: dict[str, int] = {}
        self._cache_locks: dict[str, asyncio.Lock] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    # Submission ---------------------------------------------------------------------------
    def _bind_and_name(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[TaskContext, dict[str, Any], str]:
        """Bind a child call and name it: (parent context, inputs, name).

        The one place child names are made, locally and under a backend alike: a hash of the
        parent, the inputs, the task and how many times the parent called it so far (the call
        order, not completion order), and the group, so a replaying parent finds the same names.
        """
        parent = _CURRENT.get()
        assert parent is not None, "a child action is only submitted inside a run"
        inputs = task.interface.bind(args, kwargs, task.name)
        key = (parent.action.name, task.name)
        seq = self._seq[key] = self._seq.get(key, 0) + 1
        return parent, inputs, child_action_name(parent.action.name, fingerprint(inputs), task.name, seq, parent.group)

    def _new_child(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[dict[str, Any], TaskContext, TaskContext]:
        """Bind the call, name the child and record it: (inputs, child context, parent context)."""
        parent, inputs, name = self._bind_and_name(task, args, kwargs)
        child = TaskContext(
            action=ActionID(name=name, run_name=self.run_name),
            mode="local",
            run_base_dir=self.run_base_dir,
            raw_data_path=self.raw_data_path,
            custom_context=parent.custom_context,
            version=self.version,
            controller=self,
        )
        self.actions[name] = ActionRecord(name, task.name, parent.action.name, parent.group, inputs)
        return inputs, child, parent

    def submit(
        self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> Coroutine[Any, Any, Any]:
        """Name the child now (call order, not completion order, decides names) and run it later."""
        inputs, child, parent = self._new_child(task, args, kwargs)
        return self._run_child(task, inputs, child, parent)

    def submit_from_thread(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """A call from a sync task's thread: run the child and wait for it.

        A plain sync child runs right here, in the parent's thread, which would only sit idle
        waiting for it anyway: no hop to the loop and to another worker thread. Children that
        need the loop (async bodies, plugin hooks, a runtime limit to enforce on time, shared
        concurrency slots, serialized cache entries) go through it.
        """
        if self._runs_inline(task):
            return self._run_inline(task, args, kwargs)
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(self.submit(task, args, kwargs), self.loop).result()

    def _runs_inline(self, task: TaskTemplate[Any, Any]) -> bool:
        return (
            not getattr(task, "is_async", True)
            and not (task.has_pre or task.has_post or task.cache.serialize)
            and task.max_runtime_s is None
            and self._slots is None
        )

    async def run_root(self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], custom: Mapping[str, str]) -> Any:
        """Run ``task`` as the run's root action ``a0``."""
        self.loop = asyncio.get_running_loop()
        root = TaskContext(
            action=ActionID(name="a0", run_name=self.run_name),
            mode="local",
            run_base_dir=self.run_base_dir,
            raw_data_path=self.raw_data_path,
            custom_context=dict(custom),
            version=self.version,
            controller=self,
        )
        self.actions["a0"] = ActionRecord("a0", task.name, None, None, inputs)
        return await self.run_action(task, inputs, root)

    # Concurrency --------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _slot(self, parent: TaskContext) -> AsyncIterator[None]:
        """Hold one of ``max_action_concurrency`` slots while the child runs.

        A parent waiting for its children gives its own slot back meanwhile; otherwise a few
        parents could hold every slot while their children wait for one, forever.
        """
        if self._slots is None:
            yield
            return
        parent_name = parent.action.name
        yields_slot = parent_name != "a0"
        if yields_slot:
            waiting = self._children_waiting[parent_name] = self._children_waiting.get(parent_name, 0) + 1
            if waiting == 1:
                self._slots.release()
        try:
            async with self._slots:
                yield
        finally:
            if yields_slot:
                waiting = self._children_waiting[parent_name] = self._children_waiting[parent_name] - 1
                if waiting == 0:
                    await self._slots.acquire()

    async def _run_child(
        self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], child: TaskContext, parent: TaskContext
    ) -> Any:
        async with self._slot(parent):
            return await self.run_action(task, inputs, child)

    # One action ---------------------------------------------------------------------------
    async def run_action(self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], tctx: TaskContext) -> Any:
        record = self.actions[tctx.action.name]
        key = self._cache_key(task, inputs)
        # serialize=True: concurrent calls with the same key wait for the first one's result.
        lock: Any = self._cache_locks.setdefault(key, asyncio.Lock()) if key and task.cache.serialize else _NO_LOCK
        try:
            async with lock:
                hit, result = self._cache_lookup(task, key, record)
                if not hit:
                    result = await self._run_with_retries(task, inputs, tctx, record)
                    self._cache_store_put(task, key, result)
        except BaseRuntimeError as e:
            _finish(record, task, tctx, error=e)
            raise
        _finish(record, task, tctx, outputs=result)
        return result

    def _run_inline(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
        """:meth:`run_action` for a plain sync child, in the calling thread."""
        inputs, tctx, _ = self._new_child(task, args, kwargs)
        record = self.actions[tctx.action.name]
        key = self._cache_key(task, inputs)
        try:
            hit, result = self._cache_lookup(task, key, record)
            if not hit:
                result = self._run_with_retries_inline(task, inputs, tctx, record)
                self._cache_store_put(task, key, result)
        except BaseRuntimeError as e:
            _finish(record, task, tctx, error=e)
            raise
        _finish(record, task, tctx, outputs=result)
        return result

    def _cache_key(self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any]) -> str | None:
        if not task.cache.is_enabled() or self.disable_run_cache or self.cache_store is None:
            return None
        ignored = set(task.cache.get_ignored_inputs())
        keyed = {k: v for k, v in inputs.items() if k not in ignored}
        return fingerprint({"task": task.name, "version": cache_version(task), "inputs": keyed})

    def _cache_lookup(self, task: TaskTemplate[Any, Any], key: str | None, record: ActionRecord) -> tuple[bool, Any]:
        if key is None or self.cache_store is None or task.cache.behavior == "override" or self.overwrite_cache:
            return False, None
        hit, value = self.cache_store.get(key, _seconds(task.cache.max_age))
        record.cache_hit = hit
        return hit, value

    def _cache_store_put(self, task: TaskTemplate[Any, Any], key: str | None, result: Any) -> None:
        if key is not None and self.cache_store is not None:
            self.cache_store.put(key, task.name, cache_version(task), result)

    def _begin_attempt(self, tctx: TaskContext, record: ActionRecord, attempt: int) -> TaskContext:
        record.attempts = attempt + 1
        self.traces.start_attempt(tctx.action.name)
        return tctx if attempt == 0 else tctx.replace(attempt_number=attempt)

    def _retry_delay(self, task: TaskTemplate[Any, Any], tctx: TaskContext, error: Exception, attempt: int) -> float:
        """Seconds to wait before the next attempt; raises the parent-facing error when there is none."""
        if isinstance(error, NonRecoverableError) or attempt == task.retries.count:
            raise as_child_error(error, task.name, tctx.action.name) from error
        backoff = task.retries.backoff
        return backoff.delay(attempt).total_seconds() if backoff is not None else 0.0

    async def _run_with_retries(
        self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], tctx: TaskContext, record: ActionRecord
    ) -> Any:
        for attempt in range(task.retries.count + 1):
            attempt_ctx = self._begin_attempt(tctx, record, attempt)
            try:
                return await self._attempt(task, inputs, attempt_ctx)
            except Exception as e:
                delay = self._retry_delay(task, tctx, e, attempt)
            if delay:
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _run_with_retries_inline(
        self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], tctx: TaskContext, record: ActionRecord
    ) -> Any:
        func = task.func  # type: ignore[attr-defined]  # only AsyncFunctionTaskTemplate runs inline
        for attempt in range(task.retries.count + 1):
            attempt_ctx = self._begin_attempt(tctx, record, attempt)
            try:
                with use_context(attempt_ctx):
                    return func(**inputs)
            except Exception as e:
                delay = self._retry_delay(task, tctx, e, attempt)
            if delay:
                time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _attempt(self, task: TaskTemplate[Any, Any], inputs: Mapping[str, Any], tctx: TaskContext) -> Any:
        with use_context(tctx):
            if task.has_pre:
                extra = await task.pre(**inputs)
                if extra:
                    tctx.data.update(extra)
            limit = task.max_runtime_s
            body = task.execute(**inputs)
            if limit is None:
                result = await body
            else:
                try:
                    result = await asyncio.wait_for(body, limit)
                except asyncio.TimeoutError:
                    raise MaxRuntimeExceededError(
                        f"{task.name} ran longer than its max_runtime of {limit:g}s and was cancelled"
                    ) from None
            return await task.post(result) if task.has_post else result


class _NoLock:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None


_NO_LOCK = _NoLock()


def _finish(
    record: ActionRecord,
    task: TaskTemplate[Any, Any],
    tctx: TaskContext,
    outputs: Any = None,
    error: BaseRuntimeError | None = None,
) -> None:
    record.phase = "FAILED" if error is not None else "SUCCEEDED"
    record.outputs, record.error, record.ended = outputs, error, time.time()
    report = tctx.data.get("_report")
    if task.report and report is not None:
        report.flush()


def cache_version(task: TaskTemplate[Any, Any]) -> str:
    cache = task.cache
    if cache.version_override:
        return cache.version_override
    base = getattr(task, "source_hash", task.name)
    return f"{base}{cache.salt}" if cache.salt else str(base)


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, (int, float)) else float(value.total_seconds())
