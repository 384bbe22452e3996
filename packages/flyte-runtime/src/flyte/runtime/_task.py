"""Task templates: a function plus everything needed to run it as an action.

Calling a task outside a run is a plain function call. Inside a run it submits a child action to
the current controller, which names it, applies cache, retries and timeouts, and returns the
result (or raises the child's error as a :class:`~flyte.errors.RuntimeUserError`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast

from flyte.errors import SyncTaskCallInAsyncContextError, TraceDoesNotAllowNestedTasksError
from flyte.models import (
    Cache,
    Resources,
    RetryStrategy,
    Timeout,
    as_cache,
    as_retry_strategy,
    as_timeout,
    secrets_tuple,
)
from flyte.runtime._context import _CURRENT
from flyte.runtime._interface import NativeInterface
from flyte.runtime._plugins import TaskPluginRegistry
from flyte.runtime._threads import run_in_thread
from flyte.runtime._trace import in_trace

if TYPE_CHECKING:
    from flyte.models import Documentation, Link, PodTemplate, ReusePolicy, Secret, Trigger
    from flyte.runtime._environment import TaskEnvironment

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_MAX_INLINE_IO_BYTES = 10 * 1024 * 1024


@dataclass(kw_only=True)
class TaskTemplate(Generic[P, R]):
    """Everything about a task except how its body runs.

    Plugin authors subclass :class:`AsyncFunctionTaskTemplate` (through ``flyte.extend``) and
    override :meth:`pre`, :meth:`post` and :meth:`custom_config`.
    """

    name: str
    interface: NativeInterface
    short_name: str = ""
    task_type: str = "python"
    image: Any = "auto"
    resources: Resources | None = None
    cache: Cache = field(default_factory=lambda: Cache("disable"))
    retries: RetryStrategy = field(default_factory=lambda: RetryStrategy(0))
    timeout: Timeout | None = None
    env_vars: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[Secret, ...] = ()
    reusable: ReusePolicy | None = None
    docs: Documentation | None = None
    report: bool = False
    max_inline_io_bytes: int = DEFAULT_MAX_INLINE_IO_BYTES
    pod_template: PodTemplate | str | None = None
    interruptible: bool = False
    queue: str | None = None
    service_account: str | None = None
    triggers: tuple[Trigger, ...] = ()
    links: tuple[Link, ...] = ()
    plugin_config: Any = None
    parent_env: TaskEnvironment | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.short_name:
            self.short_name = self.name.rsplit(".", 1)[-1]
        # Most tasks have no plugin hooks: skip awaiting the no-op ones on every attempt.
        self.has_pre = type(self).pre is not TaskTemplate.pre
        self.has_post = type(self).post is not TaskTemplate.post

    @property
    def max_runtime_s(self) -> float | None:
        """The action's runtime limit in seconds; None (or 0) means none."""
        if self.timeout is None or self.timeout.max_runtime is None:
            return None
        runtime = self.timeout.max_runtime
        seconds = runtime if isinstance(runtime, (int, float)) else runtime.total_seconds()
        return float(seconds) or None

    # Hooks for plugins ----------------------------------------------------------------------
    async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Runs before the task body, in the action; its dict lands in ``flyte.ctx().data``."""
        return {}

    async def post(self, return_vals: Any) -> Any:
        """Runs after the task body; may transform the return value."""
        return return_vals

    def custom_config(self, sctx: Any) -> dict[str, Any] | None:
        """The plugin's custom section of the task template (e.g. a SparkJob as a dict)."""
        return None

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define how its body runs")

    def override(self, **kwargs: Any) -> TaskTemplate[P, R]:
        """A copy of this task with some settings changed; the original is untouched.

        Example:
            >>> bigger = train.override(resources=flyte.Resources(cpu=8), retries=3)  # doctest: +SKIP
        """
        changes = normalize_task_settings(kwargs, where=f"{self.name}.override()")
        if "plugin_config" in changes and isinstance(self, AsyncFunctionTaskTemplate):
            # A new plugin_config selects its registered task class, as TaskEnvironment does.
            target = TaskPluginRegistry.find(changes["plugin_config"]) or AsyncFunctionTaskTemplate
            if target is not type(self):
                return cast(TaskTemplate[P, R], _rebuild_as(target, self, changes))
        return dataclasses.replace(self, **changes)


@dataclass(kw_only=True)
class AsyncFunctionTaskTemplate(TaskTemplate[P, R]):
    """A task whose body is a Python function, sync or async."""

    func: Callable[P, Any]

    def __post_init__(self) -> None:
        super().__post_init__()
        self.is_async = inspect.iscoroutinefunction(self.func)
        functools.update_wrapper(self, self.func)

    @functools.cached_property
    def source_hash(self) -> str:
        """A hash of the function's source: the default cache version, stable across processes."""
        try:
            source = inspect.getsource(self.func)
        except (OSError, TypeError):  # defined in a REPL: fall back to its bytecode
            source = repr(getattr(self.func, "__code__", self.func))
        return hashlib.sha256(source.encode()).hexdigest()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        """Run the body where it belongs: async on the loop, sync in a worker thread."""
        if self.is_async:
            return await self.func(*args, **kwargs)
        return await run_in_thread(self.func, *args, **kwargs)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        tctx = _CURRENT.get()
        if tctx is None or tctx.controller is None:
            return cast(R, self.func(*args, **kwargs))  # outside a run: a plain call
        if in_trace():
            raise TraceDoesNotAllowNestedTasksError(
                f"{self.name} was called inside a @flyte.trace function; traces must not start tasks"
            )
        in_loop = _in_event_loop()
        if self.is_async and in_loop:
            return cast(R, tctx.controller.submit(self, args, kwargs))  # an awaitable of R
        if in_loop:
            raise SyncTaskCallInAsyncContextError(
                f"sync task {self.name} was called from async code; use `await {self.short_name}.aio(...)`"
            )
        return cast(R, tctx.controller.submit_from_thread(self, args, kwargs))

    def aio(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
        """The awaitable form, for calling any task (sync or async) from async code."""
        tctx = _CURRENT.get()
        if tctx is None or tctx.controller is None:
            if self.is_async:
                return cast(Awaitable[R], self.func(*args, **kwargs))
            return run_in_thread(self.func, *args, **kwargs)
        return cast(Awaitable[R], tctx.controller.submit(self, args, kwargs))


def _rebuild_as(target: type[Any], task: TaskTemplate[Any, Any], changes: dict[str, Any]) -> Any:
    """``task`` as an instance of ``target`` with ``changes``; the task type is the target class's own."""
    accepted = {f.name for f in dataclasses.fields(target) if f.init} - {"task_type"}
    values = {f.name: getattr(task, f.name) for f in dataclasses.fields(task) if f.init and f.name in accepted}
    return target(**{**values, **changes})


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def normalize_task_settings(settings: dict[str, Any], where: str) -> dict[str, Any]:
    """Turn user-facing task arguments into the template's field types, naming what is wrong."""
    out = dict(settings)
    if "cache" in out:
        out["cache"] = as_cache(out["cache"])
    if "retries" in out:
        out["retries"] = as_retry_strategy(out["retries"])
    if "timeout" in out:
        out["timeout"] = as_timeout(out["timeout"] or None)
    if "secrets" in out:
        out["secrets"] = secrets_tuple(out["secrets"])
    for plural in ("triggers", "links"):
        if plural in out and not isinstance(out[plural], tuple):
            out[plural] = (out[plural],) if out[plural] else ()
    if "env_vars" in out:
        out["env_vars"] = dict(out["env_vars"] or {})
    if "max_inline_io_bytes" in out and (
        not isinstance(out["max_inline_io_bytes"], int) or out["max_inline_io_bytes"] <= 0
    ):
        raise ValueError(f"{where}: max_inline_io_bytes must be a positive int, got {out['max_inline_io_bytes']!r}")
    unknown = set(out) - {f.name for f in dataclasses.fields(AsyncFunctionTaskTemplate)}
    if unknown:
        raise TypeError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    return out


__all__ = ["AsyncFunctionTaskTemplate", "TaskTemplate", "normalize_task_settings"]
