"""A warm worker ("zygote") for a backend that runs many actions: it imports the runtime once, then
forks a fresh child per action that runs the ``a0`` console script exactly as a new process would.

A new ``a0`` process spends most of its ~0.5 s importing Python modules. This process pays that
once; each fork starts from the same clean, just-imported state, so nothing one action does (a
crash, a module global, an environment variable, a leaked thread) reaches the next one. The
backend starts it with the task's interpreter and environment, for the script the task would run::

    python -c "import sys; sys.path[0] = sys.argv.pop(1); from flyte.runtime._worker import main; main()" DIR

``DIR`` is the folder of the ``a0`` script (what ``sys.path[0]`` is in a fresh ``a0`` process).
It speaks JSON lines over stdin / stdout:

- it sends ``{"ready": true, "pid": P}`` once imported, or ``{"ready": false, "error": ...}``;
- ``{"op": "start", "id": N, "argv": [...], "env": {...}, "cwd": D, "stdout": F, "stderr": F}``
  forks a child that becomes a session leader (so one ``killpg(pid)`` reaches all it starts),
  sends ``{"id": N, "pid": P}`` once the child is in its own session (or ``{"id": N, "error": ...}``),
  and ``{"id": N, "exit": CODE}`` when it ends (a negative code is the signal that killed it);
- ``{"op": "stop"}`` kills every child's process group and exits; end of input (the backend
  died) stops taking work and exits once the running children have ended, as they would have
  outlived a backend that started them as processes.

Forking is safe only with a single thread: the worker never starts one, checks before each fork,
and refuses to fork if an import started one.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import pkgutil
import runpy
import selectors
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
from collections.abc import Sequence
from types import CodeType
from typing import Any

from flyte.runtime._bundle import _memo as bundles

# What an `a0` run may import before it reaches the task's own code: importing it here is the time
# every forked action saves. Packages are imported with every submodule (they load lazily).
PREIMPORT = (
    "asyncio",
    "concurrent.futures.thread",
    "ctypes",
    "importlib.metadata",
    "tarfile",
    "zipfile",
    "cloudpickle",
    "google.protobuf",
    # The remote controller's client: importing it opens no channel and starts no thread.
    "grpc",
    "grpc.aio",
)
PREIMPORT_PACKAGES = (
    "flyteidl2.core",
    "flyteidl2.task",
    "flyte.errors",
    "flyte.models",
    "flyte.storage",
    "flyte.types",
    "flyte.io",
    "flyte.runtime",
    "flyte.remote",
    "flyte.config",
    "flyte.syncify",
)
_PR_SET_PDEATHSIG = 1


def _threads() -> int:
    """Threads of this process, native ones included (a Python-level count misses grpc's)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


class Worker:
    """The fork server: one instance per process, driven by ``serve()``."""

    def __init__(self, requests: int, replies: int):
        self._requests = requests
        self._replies = replies
        self._children: dict[int, int] = {}  # pid -> request id
        self._unannounced: dict[int, int] = {}  # readiness pipe -> pid, until the pid is sent
        self._buffer = b""
        self._closing = False
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        os.set_blocking(self._wake_r, False)
        # What a fresh process has, restored in each child before it runs anything.
        self._sigint = signal.getsignal(signal.SIGINT)
        self._tempdir = tempfile.tempdir
        self._selector = selectors.DefaultSelector()
        self._pid = os.getpid()
        self._prctl = _prctl()  # looked up once, not in every child
        # A folder: each child writes its cProfile there as <pid>.prof (for measuring only).
        self._profile = os.environ.get("FLYTE_WORKER_PROFILE") or None
        self._scripts: dict[tuple[str, int, int, int], CodeType | None] = {}

    # ------------------------------------------------------------------ protocol

    def send(self, message: dict[str, Any]) -> None:
        if self._replies < 0:
            return
        data = (json.dumps(message) + "\n").encode()
        try:
            while data:
                data = data[os.write(self._replies, data) :]
        except OSError:
            # The backend is gone (EPIPE): nobody to tell, but the running children may finish.
            self._replies = -1

    def serve(self) -> None:
        signal.set_wakeup_fd(self._wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self._selector.register(self._requests, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        while not (self._closing and not self._children):
            for key, _ in self._selector.select():
                if key.fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                elif key.fd == self._requests:
                    self._read_requests()
                else:
                    self._child_ready(key.fd)
            self._reap()

    def _read_requests(self) -> None:
        chunk = os.read(self._requests, 1 << 20)
        if not chunk:
            # The backend is gone: take no more work, let the running actions finish.
            self._closing = True
            self._selector.unregister(self._requests)
            return
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            if line.strip():
                self._handle(json.loads(line))

    def _handle(self, request: dict[str, Any]) -> None:
        if request.get("op") == "stop":
            for pid in list(self._children):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(pid, signal.SIGKILL)
            self._closing = True
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(self._requests)
            return
        ident = request["id"]
        threads = _threads()
        if threads != 1:
            self.send({"id": ident, "error": f"the worker has {threads} threads; forking it is not safe"})
            return
        request["code"] = self._script(request["argv"][0]) if request.get("argv") else None
        bundles.preload(_tgz_argument(request.get("argv", ())))
        try:
            pid, ready = self._fork(request)
        except OSError as e:
            self.send({"id": ident, "error": f"fork failed: {e}"})
            return
        self._children[pid] = ident
        # The backend may kill the child's group as soon as it hears the pid: it hears it once
        # that group exists (the child writes to `ready` in its session, or dies and closes it).
        # Meanwhile the worker serves other requests, so a slow-to-schedule child stalls nobody.
        self._unannounced[ready] = pid
        self._selector.register(ready, selectors.EVENT_READ)

    def _child_ready(self, ready: int) -> None:
        pid = self._unannounced.pop(ready, None)
        self._selector.unregister(ready)
        with contextlib.suppress(OSError):
            os.read(ready, 1)
        os.close(ready)
        if pid is not None and pid in self._children:
            self.send({"id": self._children[pid], "pid": pid})

    def _script(self, path: str) -> CodeType | None:
        """``path`` compiled, once per version of the file (None: the child runs it the usual way,
        and meets whatever error reading or compiling it gives)."""
        try:
            info = os.stat(path)
        except OSError:
            return None
        key = (path, info.st_ino, info.st_mtime_ns, info.st_size)
        if key not in self._scripts:
            try:
                with open(path, "rb") as f:
                    self._scripts[key] = compile(f.read(), path, "exec", dont_inherit=True)
            except (OSError, SyntaxError, ValueError):
                self._scripts[key] = None
        return self._scripts[key]

    def _fork(self, request: dict[str, Any]) -> tuple[int, int]:
        """Fork the child for ``request``; returns its pid and the pipe it signals readiness on."""
        ready_r, ready_w = os.pipe()
        # Whatever is buffered now would be written again by every child.
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: it never returns
            os.close(ready_r)
            self._child(request, ready_w)
        os.close(ready_w)
        return pid, ready_r

    def _reap(self) -> None:
        while self._children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for ready, waiting in list(self._unannounced.items()):
                if waiting == pid:  # it ended before its readiness was read: its pid comes first
                    self._child_ready(ready)
            ident = self._children.pop(pid, None)
            if ident is not None:
                self.send({"id": ident, "exit": os.waitstatus_to_exitcode(status)})

    # ------------------------------------------------------------------ the child

    def _child(self, request: dict[str, Any], ready: int) -> None:
        code = 1
        try:
            os.setsid()
            _die_with_parent(self._pid, self._prctl)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, self._sigint)
            self._selector.close()
            for fd in (self._requests, self._replies, self._wake_r, self._wake_w, *self._unannounced):
                if fd >= 0:
                    os.close(fd)
            _redirect(0, os.devnull, os.O_RDONLY)
            _redirect(1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            _redirect(2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.write(ready, b"1")
            os.close(ready)
            os.chdir(request["cwd"])
            _set_environ(request["env"])
            time.tzset()
            tempfile.tempdir = self._tempdir  # gettempdir() caches; TMPDIR may differ
            code = _run_script(request["argv"], self._profile, request.get("code"))
        except BaseException:
            with contextlib.suppress(BaseException):
                traceback.print_exc()
        finally:
            with contextlib.suppress(BaseException):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)


def _set_environ(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env``, touching only what differs (most of it is the worker's own)."""
    for key in [k for k in os.environ if k not in env]:
        del os.environ[key]
    current = os.environ
    for key, value in env.items():
        if current.get(key) != value:
            current[key] = value


def _redirect(fd: int, path: str, flags: int) -> None:
    opened = os.open(path, flags, 0o666)
    if opened != fd:
        os.dup2(opened, fd)
        os.close(opened)


def _prctl() -> Any:
    """libc's ``prctl`` on Linux, else None."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except Exception:
        return None


def _die_with_parent(parent: int, prctl: Any) -> None:
    """If the worker dies, its children die too: nobody is left who could report how they ended."""
    if prctl is None:
        return
    with contextlib.suppress(Exception):
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the worker died before the call above
        os._exit(1)


def _tgz_argument(argv: Sequence[str]) -> str | None:
    """The ``--tgz`` bundle an ``a0`` command line names, if any."""
    for i, arg in enumerate(argv):
        if arg == "--tgz" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--tgz="):
            return arg[len("--tgz=") :]
    return None


def _exec_main(code: CodeType, path: str) -> None:
    """Run ``code`` as the ``__main__`` module of script ``path``, as ``runpy.run_path`` would."""
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __loader__=None, __package__=None, __spec__=None)
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(code, module.__dict__)
    finally:
        if previous is not None:
            sys.modules["__main__"] = previous


def _run_script(argv: list[str], profile: str | None = None, code_object: CodeType | None = None) -> int:
    """Run ``argv[0]`` (a Python script; ``code_object`` is it, compiled) as ``__main__``, then exit
    the way the interpreter would."""
    sys.argv = list(argv)
    code = 0
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
    try:
        if code_object is not None:
            _exec_main(code_object, argv[0])
        else:
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as e:
        code = _exit_code(e.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 128 + signal.SIGINT
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    # Interpreter shutdown: non-daemon threads are joined, then atexit callbacks run.
    with contextlib.suppress(Exception):
        threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    if profiler is not None and profile is not None:
        profiler.disable()
        with contextlib.suppress(OSError):
            profiler.dump_stats(os.path.join(profile, f"{os.getpid()}.prof"))
    return code


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    with contextlib.suppress(Exception):
        print(value, file=sys.stderr)
    return 1


def _preimport() -> list[str]:
    """Import what an ``a0`` run needs; returns what failed (the child imports it, or fails, itself)."""
    failed = []

    def load(name: str) -> Any:
        try:
            return importlib.import_module(name)
        except Exception as e:
            failed.append(f"{name}: {type(e).__name__}: {e}")
            return None

    for name in PREIMPORT:
        load(name)
    for name in PREIMPORT_PACKAGES:
        package = load(name)
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), name + "."):
            load(info.name)
    # Parsing a0's command line compiles argparse's patterns into `re`'s cache: once, here.
    a0 = sys.modules.get("flyte.runtime._a0")
    with contextlib.suppress(BaseException):
        a0.parse_args(["--inputs", "i", "--outputs-path", "o", "--tgz", "t", "--resolver", "r", "mod", "m"])  # type: ignore[union-attr]
    # Every a0 run that converts a value loads the type plugins first (an entry-point scan).
    types_plugins = sys.modules.get("flyte.types._plugins")
    if types_plugins is not None:
        try:
            types_plugins.load_type_plugins()
        except Exception as e:
            failed.append(f"type plugins: {type(e).__name__}: {e}")
    return failed


def main() -> None:
    """Entry point: keep the protocol's descriptors, import the runtime, then serve requests."""
    # Our protocol moves off fds 0 / 1, so a stray print at import time cannot corrupt it.
    requests, replies = os.dup(0), os.dup(1)
    _redirect(0, os.devnull, os.O_RDONLY)
    os.dup2(2, 1)
    worker = Worker(requests, replies)
    failed = _preimport()
    for line in failed:
        print(f"flyte warm worker: not preimported: {line}", file=sys.stderr)
    threads = _threads()
    if threads != 1:
        worker.send({"ready": False, "error": f"importing the runtime started {threads - 1} thread(s)"})
        return
    # Objects that exist now are never collected: the GC does not touch (and copy) their pages.
    gc.collect()
    gc.freeze()
    worker.send({"ready": True, "pid": os.getpid(), "modules": len(sys.modules)})
    worker.serve()


if __name__ == "__main__":
    main()
