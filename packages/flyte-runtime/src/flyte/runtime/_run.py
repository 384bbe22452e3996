"""``flyte.run`` and ``flyte.with_runcontext``: start a run and get a handle on its result."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from flyte.errors import BaseRuntimeError, InitializationError
from flyte.runtime._context import pending_custom_context
from flyte.runtime._controller import ActionRecord, LocalController
from flyte.runtime._init import current_state
from flyte.runtime._outputs import ActionOutputs, outputs_of
from flyte.runtime._task import TaskTemplate

if TYPE_CHECKING:
    from flyte.remote import Run as RemoteRun

AnyRun = Union["Run", "RemoteRun"]
"""What ``flyte.run`` returns: a finished local :class:`Run`, or a :class:`flyte.remote.Run`."""

_NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _new_run_name() -> str:
    """``r`` and 19 random base36 characters (os.urandom: no `secrets`/`random` import at start-up)."""
    return "r" + "".join(_NAME_ALPHABET[b % 36] for b in os.urandom(19))


def local_runs_dir() -> Path:
    """Where local runs leave their records: ``$FLYTE_LOCAL_RUNS_DIR`` or the temp folder."""
    explicit = os.environ.get("FLYTE_LOCAL_RUNS_DIR")
    if explicit:
        return Path(explicit)
    return _temp_dir() / "flyte" / "runs"


def _temp_dir() -> Path:
    # tempfile.gettempdir() would import shutil, bz2, lzma and random on every CLI start.
    for var in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(var)
        if value and os.path.isdir(value):
            return Path(value)
    if os.path.isdir("/tmp"):
        return Path("/tmp")
    import tempfile

    return Path(tempfile.gettempdir())


def local_cache_path() -> Path:
    """The local cache database: ``$FLYTE_LOCAL_CACHE`` or ``~/.cache/flyte/local-cache.sqlite``."""
    explicit = os.environ.get("FLYTE_LOCAL_CACHE")
    if explicit:
        return Path(explicit)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "flyte" / "local-cache.sqlite"


@dataclass
class Run:
    """A run's handle. Local runs are finished when ``flyte.run`` returns."""

    name: str
    url: str
    task_name: str
    phase: str
    actions: dict[str, ActionRecord] = field(repr=False)
    _outputs: ActionOutputs | None = field(default=None, repr=False)
    _error: BaseRuntimeError | None = field(default=None, repr=False)

    def done(self) -> bool:
        return self.phase in ("SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")

    def wait(self, *_: Any, **__: Any) -> Run:
        """Wait for the run to finish (a local run already has)."""
        return self

    def outputs(self) -> ActionOutputs:
        """The root task's outputs: ``o0``, ``o1``, ... (and a NamedTuple's field names)."""
        self.raise_for_status()
        assert self._outputs is not None
        return self._outputs

    def inputs(self) -> dict[str, Any]:
        """The root task's inputs, defaults included."""
        return dict(self.actions["a0"].inputs)

    def raise_for_status(self) -> None:
        """Raise the run's error if it failed."""
        if self._error is not None:
            raise self._error

    @property
    def error(self) -> BaseRuntimeError | None:
        return self._error


class _Runner:
    """Runs a task with the settings of one ``with_runcontext`` call."""

    def __init__(self, **settings: Any):
        self.settings = settings

    def run(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> AnyRun:
        """Run ``task`` and return when the run finishes; raises the run's error if it fails."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self._run(task, args, kwargs))
        # Called from a running loop (a notebook, async code): run on the SDK's own loop.
        from flyte.syncify import syncify

        return syncify.loop.run(self._run(task, args, kwargs), "flyte.run")

    async def run_aio(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> AnyRun:
        return await self._run(task, args, kwargs)

    async def _run(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> AnyRun:
        remote_tasks = sys.modules.get("flyte.remote._task")  # loaded if a deployed task was looked up
        if remote_tasks is not None and isinstance(task, remote_tasks.Task):
            from flyte.runtime._remote_run import run_remote_task

            return await run_remote_task(task, args, kwargs, self.settings)  # runs on the task's backend
        if not isinstance(task, TaskTemplate):
            raise TypeError(f"flyte.run needs a task (a function decorated with @env.task), got {task!r}")
        mode = self.settings.get("mode") or current_state().mode
        if mode == "remote":
            from flyte.runtime._remote_run import run_remote

            return await run_remote(task, args, kwargs, self.settings)
        if mode != "local":
            raise InitializationError(
                "RemoteModeUnavailable",
                "user",
                "remote runs are not available in this version of the SDK yet; "
                "call flyte.init() without an endpoint (or pass mode='local') to run in-process",
            )
        return await self._run_local(task, args, kwargs)

    async def _run_local(self, task: TaskTemplate[Any, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Run:
        from flyte.runtime._cache_store import LocalCacheStore

        name = self.settings.get("name") or _new_run_name()
        base = Path(self.settings.get("run_base_dir") or local_runs_dir() / name)
        raw = self.settings.get("raw_data_path") or str(base / "raw")
        controller = LocalController(
            run_name=name,
            run_base_dir=str(base),
            raw_data_path=raw,
            version=self.settings.get("version") or "",
            max_concurrency=self.settings.get("max_action_concurrency"),
            cache_store=LocalCacheStore(local_cache_path()),
            overwrite_cache=bool(self.settings.get("overwrite_cache")),
            disable_run_cache=bool(self.settings.get("disable_run_cache")),
        )
        inputs = task.interface.bind(args, kwargs, task.name)
        custom = {**pending_custom_context(), **(self.settings.get("custom_context") or {})}
        error: BaseRuntimeError | None = None
        outputs: ActionOutputs | None = None
        with _environment(self.settings.get("env_vars")):
            try:
                result = await controller.run_root(task, inputs, custom)
                outputs = outputs_of(task, result)
            except BaseRuntimeError as e:
                error = e
        run = Run(
            name=name,
            url=base.as_uri(),
            task_name=task.name,
            phase="FAILED" if error else "SUCCEEDED",
            actions=controller.actions,
            _outputs=outputs,
            _error=error,
        )
        _write_record(base, run)
        if error is not None:
            raise error
        return run


@contextlib.contextmanager
def _environment(env_vars: Mapping[str, str] | None) -> Iterator[None]:
    """Run-level ``env_vars``: set in this process for the run's duration (local mode)."""
    if not env_vars:
        yield
        return
    saved = {k: os.environ.get(k) for k in env_vars}
    os.environ.update(env_vars)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _write_record(base: Path, run: Run) -> None:
    """The run's record: one JSON file listing every action with its inputs, outputs, phase,
    attempts and error.

    Values are written as JSON where they are JSON (dataclasses and pydantic models as their
    fields); anything else as its ``repr``. A local run deliberately does not load protobuf and
    the TypeEngine just to keep a record: that would cost more start-up time than the run.
    """
    record = {
        "name": run.name,
        "task": run.task_name,
        "phase": run.phase,
        "written": time.time(),
        "actions": [
            {
                "name": a.name,
                "task": a.task,
                "parent": a.parent,
                "group": a.group,
                "phase": a.phase,
                "attempts": a.attempts,
                "cache_hit": a.cache_hit,
                "started": a.started,
                "ended": a.ended,
                "inputs": a.inputs,
                "outputs": a.outputs,
                "error": None if a.error is None else _error_record(a.error),
            }
            for a in run.actions.values()
        ],
    }
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / "run.json.tmp"
    tmp.write_text(json.dumps(record, default=_jsonable))  # compact: the C encoder, fast for big fan-outs
    tmp.replace(base / "run.json")


def _error_record(error: BaseRuntimeError) -> dict[str, Any]:
    return {
        "code": error.code,
        "kind": error.kind,
        "message": str(error),
        "traceback": getattr(error, "child_traceback", None),
    }


def _jsonable(value: Any) -> Any:
    """What JSON cannot encode by itself: dataclasses and pydantic models by field, the rest by repr."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


class _RunFunction:
    """``flyte.run(task, ...)``, with ``flyte.run.aio(task, ...)`` for async code."""

    def __call__(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> AnyRun:
        return _Runner().run(task, *args, **kwargs)

    async def aio(self, task: TaskTemplate[Any, Any], *args: Any, **kwargs: Any) -> AnyRun:
        return await _Runner().run_aio(task, *args, **kwargs)


run = _RunFunction()


def with_runcontext(mode: str | None = None, **settings: Any) -> _Runner:
    """A runner with run-level settings: ``name``, ``version``, ``raw_data_path``,
    ``run_base_dir``, ``overwrite_cache``, ``disable_run_cache``, ``env_vars``,
    ``custom_context``, ``max_action_concurrency``, ``project``, ``domain``, ``labels``, ...

    Example:
        >>> flyte.with_runcontext(name="nightly", overwrite_cache=True).run(main, day="2026-11-29")  # doctest: +SKIP
    """
    if mode not in (None, "local", "remote", "hybrid"):
        raise ValueError(f"with_runcontext(mode={mode!r}): expected 'local', 'remote' or 'hybrid'")
    limit = settings.get("max_action_concurrency")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"with_runcontext(max_action_concurrency={limit!r}): expected a positive int")
    return _Runner(mode=mode, **settings)
