"""``a0``: what a task container (or the embedded server) runs to execute one action.

    a0 --inputs <uri> --outputs-path <prefix> --version <v> --raw-data-path <prefix>
       --checkpoint-path <p> --prev-checkpoint <p> --run-name <r> --name <action>
       --run-start-time <t> (--tgz <bundle> | --pkl <bundle>) --dest <dir>
       [--resolver <class> mod <module> instance <variable>]

It fetches and unpacks the code bundle, loads the task through the resolver, reads
``inputs.pb``, runs the task once (retries belong to the backend), and writes
``<outputs-path>/outputs.pb`` or, when the task fails, ``<outputs-path>/error.pb`` (an
ErrorDocument with kind and origin) and exits 0. A non-zero exit without ``outputs.pb`` means
``a0`` itself could not run: a system error. Started by a backend (``_U_EP_OVERRIDE`` set) from
a ``tgz`` bundle, its task calls become child actions the backend runs (the remote controller);
otherwise they run in this process through a local controller.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import functools
import importlib
import inspect
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyte.errors import BaseRuntimeError, CodeBundleError, ModuleLoadError, RuntimeDataValidationError

logger = logging.getLogger("flyte.a0")

# Resolvers that name the same default behaviour (the public SDK writes its own class path into
# the task specs it deploys; tasks deployed by either SDK must run here).
DEFAULT_RESOLVERS = frozenset(
    {
        "flyte.runtime.DefaultTaskResolver",
        "flyte.runtime._a0.DefaultTaskResolver",
        "flyte._internal.resolvers.default.DefaultTaskResolver",
    }
)


@dataclass(frozen=True)
class A0Args:
    inputs: str
    outputs_path: str
    version: str
    raw_data_path: str
    run_name: str
    name: str
    dest: Path
    tgz: str | None = None
    pkl: str | None = None
    checkpoint_path: str | None = None
    prev_checkpoint: str | None = None
    run_start_time: str | None = None
    resolver: str | None = None
    resolver_args: tuple[str, ...] = ()


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """Built once (a warm worker builds it before it forks); defaults that read the environment
    are filled in by :func:`parse_args`, so the cached parser holds none."""
    parser = argparse.ArgumentParser(prog="a0", description="Run one Flyte action.")
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--outputs-path", required=True)
    parser.add_argument("--version", default="")
    parser.add_argument("--raw-data-path", default="")
    parser.add_argument("--checkpoint-path")
    parser.add_argument("--prev-checkpoint")
    parser.add_argument("--run-name")
    parser.add_argument("--name")
    parser.add_argument("--run-start-time")
    code = parser.add_mutually_exclusive_group()
    code.add_argument("--tgz")
    code.add_argument("--pkl")
    parser.add_argument("--dest", default=".")
    parser.add_argument("--image-cache", help=argparse.SUPPRESS)
    parser.add_argument("--resolver")
    parser.add_argument("resolver_args", nargs=argparse.REMAINDER)
    return parser


def parse_args(argv: list[str]) -> A0Args:
    parser = _parser()
    ns = parser.parse_args(argv)
    if ns.pkl is None and ns.resolver is None:
        parser.error("one of --pkl or --resolver is required to find the task")
    return A0Args(
        inputs=ns.inputs,
        outputs_path=ns.outputs_path,
        version=ns.version,
        raw_data_path=ns.raw_data_path,
        run_name=ns.run_name if ns.run_name is not None else os.environ.get("RUN_NAME", ""),
        name=ns.name if ns.name is not None else os.environ.get("ACTION_NAME", "a0"),
        dest=Path(ns.dest),
        tgz=ns.tgz,
        pkl=ns.pkl,
        checkpoint_path=ns.checkpoint_path,
        prev_checkpoint=ns.prev_checkpoint,
        run_start_time=ns.run_start_time,
        resolver=ns.resolver,
        resolver_args=tuple(ns.resolver_args),
    )


class DefaultTaskResolver:
    """Finds a task as a module-level variable: resolver args ``mod <module> instance <variable>``."""

    def loader_args(self, task: Any) -> list[str]:
        func = getattr(task, "func", None)
        module = getattr(func, "__module__", None)
        if module is None:
            raise ModuleLoadError(f"cannot tell which module defines {task!r}")
        for name, value in vars(sys.modules[module]).items():
            if value is task:
                return ["mod", module, "instance", name]
        raise ModuleLoadError(f"{task!r} is not a module-level variable of {module}; a0 could not find it")

    def load_task(self, loader_args: tuple[str, ...]) -> Any:
        pairs = dict(zip(loader_args[::2], loader_args[1::2], strict=False))
        if "mod" not in pairs or "instance" not in pairs:
            raise ModuleLoadError(f"resolver arguments must be `mod <module> instance <variable>`, got {loader_args}")
        try:
            module = importlib.import_module(pairs["mod"])
        except Exception as e:
            raise ModuleLoadError(f"importing {pairs['mod']} failed: {type(e).__name__}: {e}") from e
        try:
            return getattr(module, pairs["instance"])
        except AttributeError:
            raise ModuleLoadError(f"module {pairs['mod']} has no task {pairs['instance']!r}") from None


async def load_code(args: A0Args) -> Any | None:
    """Fetch and unpack the bundle; returns the task itself for a pkl bundle."""
    import flyte.storage as storage
    from flyte.runtime._bundle import extract_bundle, load_pkl_bundle

    bundle = args.tgz or args.pkl
    if bundle is None:
        return None
    local = _local_file(bundle)
    download: str | None = None
    if local is None:  # in a bucket (or not there): fetch a copy, removed once unpacked
        download = tempfile.mkdtemp(prefix="flyte-bundle-")
        local = Path(download) / Path(bundle).name
    try:
        if download is not None:
            try:
                await storage.get(bundle, str(local))
            except Exception as e:
                raise CodeBundleError(f"downloading the code bundle {bundle} failed: {e}") from e
        if args.pkl:
            return await asyncio.to_thread(load_pkl_bundle, local)
        await asyncio.to_thread(extract_bundle, local, args.dest)
        return None
    finally:
        if download is not None:
            shutil.rmtree(download, ignore_errors=True)


def _local_file(uri: str) -> Path | None:
    """The bundle itself when it is a file on this machine: read in place, not copied first."""
    from urllib.parse import unquote, urlparse

    import flyte.storage as storage

    if storage.is_remote(uri):
        return None
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            return None
        uri = unquote(parsed.path)
    path = Path(uri)
    return path if path.is_file() else None


def load_task(args: A0Args, from_pkl: Any | None) -> Any:
    if from_pkl is not None:
        return from_pkl
    if args.resolver not in DEFAULT_RESOLVERS:
        module, _, cls = (args.resolver or "").rpartition(".")
        try:
            resolver = getattr(importlib.import_module(module), cls)()
        except Exception as e:
            raise ModuleLoadError(f"cannot load the task resolver {args.resolver!r}: {e}") from e
    else:
        resolver = DefaultTaskResolver()
    return resolver.load_task(args.resolver_args)


async def read_inputs(task: Any, uri: str) -> dict[str, Any]:
    """The task's inputs from ``inputs.pb``; defaults fill what the file does not carry."""
    from flyteidl2.task import common_pb2

    import flyte.storage as storage
    from flyte.runtime._io import io_interface
    from flyte.types import TypeEngine

    interface = io_interface(task)
    try:
        raw = b"".join([chunk async for chunk in storage.get_stream(uri)])
    except storage.StorageNotFoundError:
        raw = b""  # a task without inputs may be started without an inputs file
    message = common_pb2.Inputs.FromString(raw)
    values: dict[str, Any] = {}
    for named in message.literals:
        if named.name not in interface.inputs:
            raise RuntimeDataValidationError(named.name, f"not an input of {task.name}", task.name)
        values[named.name] = await TypeEngine.to_python_value(named.value, interface.inputs[named.name][0])
    for name, (_, default) in interface.inputs.items():
        if name in values:
            continue
        if default is inspect.Parameter.empty:
            raise RuntimeDataValidationError(name, "missing from inputs.pb and has no default", task.name)
        values[name] = default
    return values


async def write_outputs(task: Any, result: Any, outputs_path: str) -> None:
    from flyteidl2.task import common_pb2

    import flyte.storage as storage
    from flyte.runtime._io import io_interface
    from flyte.types import TypeEngine

    interface = io_interface(task)
    names = list(interface.outputs)
    values = [result] if len(names) == 1 else list(result) if names else []
    if len(values) != len(names):
        raise RuntimeDataValidationError("outputs", f"expected {len(names)} values, got {result!r}", task.name)
    message = common_pb2.Outputs()
    for name, value in zip(names, values, strict=True):
        python_type = interface.outputs[name]
        literal = await TypeEngine.to_literal(value, python_type, TypeEngine.to_literal_type(python_type))
        message.literals.add(name=name, value=literal)
    await storage.put_stream(message.SerializeToString(), to_path=storage.join(outputs_path, "outputs.pb"))


async def write_error(error: BaseException, outputs_path: str) -> None:
    import flyte.storage as storage
    from flyte.models import error_document_from_exception

    document = error_document_from_exception(error)
    await storage.put_stream(document.SerializeToString(), to_path=storage.join(outputs_path, "error.pb"))


class _PhaseExecutor(concurrent.futures.ThreadPoolExecutor):
    """The loop's default executor in ``a0``: runs calls inline while ``inline`` is set.

    Loading the code, reading the inputs and writing the outputs are steps ``a0`` takes one after
    another, so the small blocking file operations they hand to ``asyncio.to_thread`` gain
    nothing from a thread: starting the pool's threads and passing the GIL back and forth cost
    more than the calls. While the task body runs, calls go to real threads as usual.
    """

    inline = True

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        if not self.inline:
            return super().submit(fn, *args, **kwargs)
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:  # as a pool thread would: the awaiting caller gets it
            future.set_exception(e)
        return future


async def run(args: A0Args) -> int:
    """Run the action; 0 when outputs.pb or error.pb was written."""
    from flyte.io import use_raw_data_path

    loop = asyncio.get_running_loop()
    previous = getattr(loop, "_default_executor", None)
    executor = _PhaseExecutor(thread_name_prefix="a0")
    loop.set_default_executor(executor)
    try:
        # The whole attempt, not only the task body, writes under the action's raw data path:
        # outputs encoded after the body returns (a DataFrame.from_df, a large pickle) too.
        with use_raw_data_path(args.raw_data_path or None):
            return await _run(args, executor)
    finally:
        if not executor._threads:
            # Nothing to shut down: put back what the loop had (under `a0`, nothing), which also
            # spares asyncio.run the thread it starts to shut a default executor down.
            loop._default_executor = previous  # type: ignore[attr-defined]


async def _run(args: A0Args, executor: _PhaseExecutor) -> int:
    from flyte.models import ActionID
    from flyte.runtime._context import TaskContext
    from flyte.runtime._controller import ActionRecord
    from flyte.runtime._remote_controller import RemoteController

    run_base = os.environ.get("_U_RUN_BASE", args.outputs_path)
    try:
        task = load_task(args, await load_code(args))
        inputs = await read_inputs(task, args.inputs)
    except BaseRuntimeError as e:
        await write_error(e, args.outputs_path)
        return 0
    executor.inline = False  # from here on the task's own code may run: real threads
    controller = _controller(args, run_base)
    if isinstance(controller, RemoteController):
        try:
            # A first attempt has no earlier traces to replay; later ones (a retry, or a rerun
            # after the backend restarted) read them back before the task body starts.
            await controller.start(replay_traces=os.environ.get("FLYTE_ATTEMPT_NUMBER", "0") != "0")
        except BaseRuntimeError as e:
            await controller.close()
            await write_error(e, args.outputs_path)
            return 0
    controller.loop = asyncio.get_running_loop()
    tctx = TaskContext(
        action=ActionID(name=args.name, run_name=args.run_name),
        mode="remote",
        run_base_dir=run_base,
        raw_data_path=args.raw_data_path,
        version=args.version,
        controller=controller,
    )
    controller.actions[args.name] = ActionRecord(args.name, task.name, None, None, inputs)
    try:
        result = await controller._attempt(task, inputs, tctx)
    except Exception as e:
        await _close(controller)
        executor.inline = True
        await write_error(e, args.outputs_path)
        return 0
    await _close(controller)
    executor.inline = True
    try:
        await write_outputs(task, result, args.outputs_path)
    except BaseRuntimeError as e:
        await write_error(e, args.outputs_path)
    return 0


def _controller(args: A0Args, run_base: str) -> Any:
    """The remote controller under a backend (children become actions), else a local one."""
    from flyte.runtime._controller import LocalController
    from flyte.runtime._remote_controller import Backend, RemoteController

    backend = Backend.from_env()
    if backend is not None and args.tgz:
        return RemoteController(
            backend=backend,
            run_name=args.run_name,
            action_name=args.name,
            run_base_dir=run_base,
            raw_data_path=args.raw_data_path,
            version=args.version,
            bundle_uri=args.tgz,
        )
    return LocalController(
        run_name=args.run_name, run_base_dir=run_base, raw_data_path=args.raw_data_path, version=args.version
    )


async def _close(controller: Any) -> None:
    close = getattr(controller, "close", None)
    if close is not None:
        await close()


def main(argv: list[str] | None = None) -> None:
    """Console script ``a0``."""
    logging.basicConfig(level=os.environ.get("FLYTE_LOG_LEVEL", "WARNING"))
    args = parse_args(sys.argv[1:] if argv is None else argv)
    dest = str(args.dest.resolve())
    if dest not in sys.path:
        sys.path.insert(0, dest)
    sys.exit(asyncio.run(run(args)))
