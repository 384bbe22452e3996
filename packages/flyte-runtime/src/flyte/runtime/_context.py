"""The running task's context: who it is, where its data goes, and what it inherits.

One :class:`TaskContext` is current per action, carried by a context variable, so it follows the
action into worker threads (sync tasks) and into every coroutine it starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from flyte.io import use_raw_data_path
from flyte.models import ActionID

if TYPE_CHECKING:
    from flyte.runtime._controller import Controller

Mode = Literal["local", "remote", "hybrid"]


@dataclass(frozen=True)
class TaskContext:
    """What a task can know about the action it runs as (``flyte.ctx()`` inside a task).

    Attributes:
        action: the action's id (its name and its run's name).
        mode: ``"local"`` in-process, ``"remote"`` in a container started by a backend.
        run_base_dir: where the run's records live (a folder or a blob prefix).
        raw_data_path: where the task's offloaded data (files, frames) is written.
        attempt_number: 0 for the first attempt, 1 for the first retry, ...
        custom_context: key/values set with ``flyte.custom_context`` and inherited by children.
        data: per-action scratch space that plugins fill (``data["spark_session"]``).
        version: the code version of the run.
        group: the enclosing ``flyte.group`` name, if any.
    """

    action: ActionID
    mode: Mode
    run_base_dir: str
    raw_data_path: str
    attempt_number: int = 0
    custom_context: Mapping[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict, compare=False)
    version: str = ""
    group: str | None = None
    controller: Controller | None = field(default=None, repr=False, compare=False)

    def replace(self, **changes: Any) -> TaskContext:
        return dataclasses.replace(self, **changes)


_CURRENT: ContextVar[TaskContext | None] = ContextVar("flyte_task_context", default=None)
# Key/values set by flyte.custom_context() outside any task, for the next flyte.run to pick up.
_PENDING_CUSTOM: ContextVar[Mapping[str, str] | None] = ContextVar("flyte_pending_custom_context", default=None)


def ctx() -> TaskContext | None:
    """The context of the task running now, or None outside a task."""
    return _CURRENT.get()


@contextlib.contextmanager
def use_context(tctx: TaskContext | None) -> Iterator[TaskContext | None]:
    """Make ``tctx`` current; files, frames and large pickles the task writes go to its raw data path."""
    token = _CURRENT.set(tctx)
    try:
        with use_raw_data_path(tctx.raw_data_path if tctx is not None else None):
            yield tctx
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def custom_context(**context: str) -> Iterator[None]:
    """Add key/values that this task's child actions (and theirs) inherit.

    Outside a task, the values seed the next ``flyte.run`` started inside the block.

    Example:
        >>> with custom_context(experiment="e42"):  # doctest: +SKIP
        ...     await train(data)  # train sees flyte.get_custom_context()["experiment"]
    """
    for key, value in context.items():
        if not isinstance(value, str):
            raise TypeError(f"custom_context values must be strings; {key}={value!r} is {type(value).__name__}")
    tctx = _CURRENT.get()
    if tctx is None:
        token = _PENDING_CUSTOM.set({**(_PENDING_CUSTOM.get() or {}), **context})
        try:
            yield
        finally:
            _PENDING_CUSTOM.reset(token)
        return
    with use_context(tctx.replace(custom_context={**tctx.custom_context, **context})):
        yield


def get_custom_context() -> dict[str, str]:
    """The custom context in effect: inherited key/values plus those set in this task."""
    tctx = _CURRENT.get()
    return dict(tctx.custom_context if tctx is not None else (_PENDING_CUSTOM.get() or {}))


def pending_custom_context() -> Mapping[str, str]:
    return _PENDING_CUSTOM.get() or {}


@contextlib.contextmanager
def group(name: str) -> Iterator[None]:
    """Group the child actions created inside the block under ``name`` (in the UI and in names).

    Example:
        >>> with group("preprocess"):  # doctest: +SKIP
        ...     parts = await asyncio.gather(*(clean(p) for p in paths))
    """
    if not name or not isinstance(name, str):
        raise ValueError(f"group name must be a non-empty string, got {name!r}")
    tctx = _CURRENT.get()
    if tctx is None:
        yield
        return
    nested = f"{tctx.group}/{name}" if tctx.group else name
    with use_context(tctx.replace(group=nested)):
        yield
