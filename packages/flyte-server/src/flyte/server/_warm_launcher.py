"""``WarmLauncher`` (``--executor warm``): attempts forked from a warm worker that has already
imported the runtime, instead of a fresh ``a0`` process that spends ~0.5 s importing it.

The worker (``flyte.runtime._worker``, run by the ``a0`` script's own interpreter; the server
still never imports the runtime) forks one child per attempt. The child is a session leader with
the attempt's environment, working folder and log files, and runs the ``a0`` script as a new
process would; it starts from the worker's just-imported state every time, so one attempt's
crash or leaked state never reaches another. Killing an attempt kills its process group, as for
a process.

Each worker serves one *startup environment*: the interpreter, the script's folder and every
environment variable except the per-attempt ones the runtime reads only when it runs
(``RUN_NAME``, ``FLYTE_ATTEMPT_NUMBER``...). Modules imported by the worker saw exactly the
environment the task sees, so a task whose ``env_vars`` differ gets a worker of its own (at most
``MAX_WORKERS``, the least recently used idle one is stopped first).

Whatever cannot run warm runs as a process: a program that is not the runtime's ``a0`` script,
an attempt that comes while its worker is still starting (so no attempt waits for a worker and
none is slower than with the process executor), a worker that cannot start (it is retried after
``RETRY_AFTER_SECONDS``), every worker busy with a different environment.

A worker that dies takes its running attempts with it: they end as system errors (killed),
their files judged as usual, and the next attempt starts a new worker. When the server dies, its
worker takes no more work but lets the running attempts finish, as processes would.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import shlex
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flyte.server._process import Launch, Launcher, ProcessLauncher, RunningAttempt

logger = logging.getLogger("flyte.server.warm")

# Set per attempt by the executor and read by the runtime only while it runs: they do not change
# what importing the runtime does, so attempts that differ only in these share a worker.
PER_ATTEMPT_ENV = frozenset(
    {
        "_U_RUN_BASE",
        "RUN_NAME",
        "ACTION_NAME",
        "FLYTE_INTERNAL_EXECUTION_PROJECT",
        "FLYTE_INTERNAL_EXECUTION_DOMAIN",
        "_U_ORG_NAME",
        "_U_EP_OVERRIDE",
        "_U_INSECURE",
        "FLYTE_ATTEMPT_NUMBER",
    }
)
RUNTIME_SCRIPT_MARK = "from flyte.runtime._a0 import"
WORKER_BOOT = "import sys; sys.path[0] = sys.argv.pop(1); from flyte.runtime._worker import main; main()"
MAX_WORKERS = 4
READY_TIMEOUT_SECONDS = 60.0
FORK_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 30.0
# The exit status of an attempt whose worker died: it was killed (and judged like any other kill).
LOST_EXIT_CODE = -int(signal.SIGKILL)


class WorkerUnavailable(Exception):
    """The worker cannot take this attempt; it runs as a process instead."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient  # expected (a worker is starting): not worth a warning


@dataclass(frozen=True)
class WorkerKey:
    """What a worker's imports depend on: interpreter (and its flags), script folder, environment."""

    interpreter: tuple[str, ...]
    script_dir: str
    env: tuple[tuple[str, str], ...]


def runtime_interpreter(program: str) -> tuple[str, ...] | None:
    """The interpreter command of ``program`` if it is the runtime's ``a0`` console script, else None.

    A console script is a small Python file whose ``#!`` line names its interpreter and which
    imports ``flyte.runtime._a0``; anything else (another program, a wrapper) runs as a process.
    """
    try:
        with open(program, "rb") as f:
            head = f.read(8192).decode("utf-8", errors="replace")
    except OSError:
        return None
    first, _, rest = head.partition("\n")
    if not first.startswith("#!") or RUNTIME_SCRIPT_MARK not in rest:
        return None
    try:
        command = tuple(shlex.split(first[2:].strip()))
    except ValueError:
        return None
    if not command or not os.path.isabs(command[0]) or "python" not in os.path.basename(command[0]):
        return None
    return command if os.access(command[0], os.X_OK) else None


def worker_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in PER_ATTEMPT_ENV}


@dataclass
class WarmAttempt:
    """An attempt forked by a worker: its exit status arrives from the worker."""

    pid: int  # 0 until the worker has forked it
    exited: asyncio.Future[int]
    stderr: Path

    async def wait(self) -> int:
        return await asyncio.shield(self.exited)

    def signal_group(self, sig: signal.Signals) -> None:
        if self.pid <= 0:  # not forked (killpg(0) would signal the server's own group)
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    async def kill(self, grace_seconds: float) -> int:
        """SIGTERM the group, SIGKILL it after ``grace_seconds``; returns the exit status."""
        if not self.exited.done():
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.exited), grace_seconds)
        # Also after a clean exit: grandchildren the task left behind must not outlive it.
        self.signal_group(signal.SIGKILL)
        return await asyncio.shield(self.exited)


class Worker:
    """One warm worker process and the attempts it forked."""

    def __init__(self, key: WorkerKey):
        self.key = key
        self.used = time.monotonic()
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._forks: dict[int, asyncio.Future[int]] = {}  # request id -> pid
        self._attempts: dict[int, WarmAttempt] = {}  # request id -> running attempt
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.dead = False
        self.reserved = 0  # attempts given this worker and not yet forked: it must not be stopped

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def busy(self) -> bool:
        return bool(self.reserved or self._forks or self._attempts)

    async def start(self) -> None:
        """Start the worker process and wait until it has imported the runtime."""
        self._process = await asyncio.create_subprocess_exec(
            *self.key.interpreter,
            "-c",
            WORKER_BOOT,
            self.key.script_dir,
            env=dict(self.key.env),
            cwd=self.key.script_dir,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Its own session: a Ctrl-C at the server's terminal does not reach the worker.
            start_new_session=True,
        )
        self._reader = asyncio.create_task(self._read(), name=f"warm-worker-{self._process.pid}")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_SECONDS)
        except BaseException:
            await self.stop()
            raise

    async def fork(self, launch: Launch) -> WarmAttempt:
        if self.dead or self._process is None or self._process.stdin is None:
            raise WorkerUnavailable("the worker has stopped")
        ident = next(self._ids)
        loop = asyncio.get_running_loop()
        forked: asyncio.Future[int] = loop.create_future()
        self._forks[ident] = forked
        attempt = WarmAttempt(0, loop.create_future(), launch.stderr)
        self._attempts[ident] = attempt
        self.used = time.monotonic()
        request = {
            "op": "start",
            "id": ident,
            "argv": launch.argv,
            "env": launch.env,
            "cwd": str(launch.cwd),
            "stdout": str(launch.stdout),
            "stderr": str(launch.stderr),
        }
        try:
            self._process.stdin.write((json.dumps(request) + "\n").encode())
            await self._process.stdin.drain()
            attempt.pid = await asyncio.wait_for(asyncio.shield(forked), FORK_TIMEOUT_SECONDS)
        except (OSError, asyncio.TimeoutError, WorkerUnavailable) as e:
            self._attempts.pop(ident, None)
            if isinstance(e, asyncio.TimeoutError):
                logger.error("warm worker %s did not fork within %s s; stopping it", self.pid, FORK_TIMEOUT_SECONDS)
                await self.stop()
            raise WorkerUnavailable(str(e) or type(e).__name__) from e
        finally:
            self._forks.pop(ident, None)
        return attempt

    async def _read(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        try:
            while line := await self._process.stdout.readline():
                self._dispatch(json.loads(line))
        except (ValueError, KeyError, TypeError, asyncio.LimitOverrunError) as e:
            # Not our worker's protocol: treat it as dead (stop() ends the process).
            logger.error("warm worker %s sent an unreadable message: %r", self.pid, e)
        finally:
            await self._died()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "ready" in message:
            if message["ready"]:
                self._ready.set_result(None)
            else:
                self._ready.set_exception(WorkerUnavailable(str(message.get("error"))))
            return
        ident = message["id"]
        if "pid" in message:
            attempt = self._attempts.get(ident)
            if attempt is not None:
                attempt.pid = int(message["pid"])
            forked = self._forks.get(ident)
            if forked is not None and not forked.done():
                forked.set_result(int(message["pid"]))
        elif "error" in message:
            forked = self._forks.get(ident)
            if forked is not None and not forked.done():
                forked.set_exception(WorkerUnavailable(str(message["error"])))
        elif "exit" in message:
            attempt = self._attempts.pop(ident, None)
            if attempt is not None and not attempt.exited.done():
                attempt.exited.set_result(int(message["exit"]))

    async def _died(self) -> None:
        """The worker is gone: end every attempt it held, so that nothing waits for it forever."""
        self.dead = True
        if not self._ready.done():
            self._ready.set_exception(WorkerUnavailable("the worker exited while starting"))
        for forked in self._forks.values():
            if not forked.done():
                forked.set_exception(WorkerUnavailable("the worker exited"))
        lost = [a for a in self._attempts.values() if not a.exited.done()]
        self._attempts.clear()
        code = None
        if self._process is not None:
            # Its output ended (it exited, or spoke no protocol we know): make sure it is gone.
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
            code = await self._process.wait()
        if lost:
            logger.error("warm worker %s exited (status %s); %d running attempt(s) lost", self.pid, code, len(lost))
        for attempt in lost:
            # Its children die with it (they asked to); their groups may hold grandchildren.
            attempt.signal_group(signal.SIGKILL)
            await asyncio.to_thread(_note_lost, attempt.stderr)
            attempt.exited.set_result(LOST_EXIT_CODE)

    async def stop(self) -> None:
        """Kill the attempts still running and end the worker process."""
        process = self._process
        if process is None:
            return
        if process.returncode is None and process.stdin is not None and not process.stdin.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                process.stdin.write(b'{"op": "stop"}\n')
                process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class WarmLauncher:
    """Starts attempts from warm workers; what cannot run warm runs as a fresh process."""

    def __init__(self, fallback: Launcher | None = None, max_workers: int = MAX_WORKERS):
        self._fallback = fallback or ProcessLauncher()
        self._max_workers = max_workers
        self._workers: dict[WorkerKey, Worker] = {}
        self._starting: dict[WorkerKey, asyncio.Task[Worker]] = {}
        self._failed: dict[WorkerKey, float] = {}  # key -> when its worker last failed to start
        self._scripts: dict[tuple[str, int, int], tuple[tuple[str, ...], str] | None] = {}
        self._lock = asyncio.Lock()

    def warm_up(self, program: str | None, env: Mapping[str, str]) -> None:
        """Start the worker ``program`` would use with ``env`` now, before the first attempt needs it
        (the first one, when the server starts: there is room)."""
        key = self._key(program, env) if program else None
        if key is not None and key not in self._workers and key not in self._starting:
            self._spawn(key)

    async def warm(self, program: str, env: Mapping[str, str]) -> bool:
        """Start the worker ``program`` would use with ``env`` if needed and wait until it is ready.

        Returns False when that program runs as a process (not the runtime, or no worker starts).
        """
        key = self._key(program, env)
        if key is None:
            return False
        async with self._lock:
            worker = self._workers.get(key)
            if worker is not None and not worker.dead:
                return True
            task = self._starting.get(key)
            if task is None:
                try:
                    await self._make_room()
                except WorkerUnavailable:
                    return False
                task = self._spawn(key)
        try:
            await asyncio.shield(task)
        except WorkerUnavailable:
            return False
        return True

    async def start(self, launch: Launch) -> RunningAttempt:
        key = self._key(launch.argv[0], launch.env)
        if key is None:
            return await self._fallback.start(launch)
        await asyncio.to_thread(_prepare, launch)  # what cannot be opened fails here, as for a process
        try:
            worker = await self._worker(key)
            try:
                return await worker.fork(launch)
            finally:
                worker.reserved -= 1
        except WorkerUnavailable as e:
            log = logger.debug if e.transient else logger.warning
            log("running %s as a process: %s", launch.argv[0], e)
            return await self._fallback.start(launch)

    async def close(self) -> None:
        for task in self._starting.values():
            task.cancel()
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        self._starting.clear()
        workers = list(self._workers.values())
        self._workers.clear()
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        await self._fallback.close()

    @property
    def workers(self) -> list[Worker]:
        """The live workers (for tests and diagnostics)."""
        return [w for w in self._workers.values() if not w.dead]

    # ------------------------------------------------------------------ workers

    def _key(self, program: str, env: Mapping[str, str]) -> WorkerKey | None:
        try:
            stat = os.stat(program)
        except OSError:
            return None
        cache_key = (program, stat.st_mtime_ns, stat.st_size)
        if cache_key not in self._scripts:
            interpreter = runtime_interpreter(program)
            script_dir = os.path.dirname(os.path.realpath(program))
            self._scripts[cache_key] = (interpreter, script_dir) if interpreter is not None else None
        known = self._scripts[cache_key]
        if known is None:
            return None
        interpreter, script_dir = known
        return WorkerKey(interpreter, script_dir, tuple(sorted(worker_env(env).items())))

    async def _worker(self, key: WorkerKey) -> Worker:
        """The ready worker for ``key``; else one starts for the next attempts, and this one waits for
        nothing: it runs as a process (never slower than the process executor)."""
        async with self._lock:
            worker = self._workers.get(key)
            if worker is not None and not worker.dead:
                worker.reserved += 1
                return worker
            self._workers.pop(key, None)
            if key in self._starting:
                raise WorkerUnavailable("its warm worker is starting", transient=True)
            failed = self._failed.get(key)
            if failed is not None and time.monotonic() - failed < RETRY_AFTER_SECONDS:
                raise WorkerUnavailable("its warm worker failed to start a moment ago")
            await self._make_room()
            self._spawn(key)
            raise WorkerUnavailable("its warm worker is starting", transient=True)

    def _spawn(self, key: WorkerKey) -> asyncio.Task[Worker]:
        task = asyncio.create_task(self._start_worker(key), name="warm-worker-start")
        # Awaited only by warm(): a failure is logged by _start_worker, not left unretrieved.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self._starting[key] = task
        return task

    async def _make_room(self) -> None:
        self._workers = {k: w for k, w in self._workers.items() if not w.dead}
        while len(self._workers) + len(self._starting) >= self._max_workers:
            idle = [w for w in self._workers.values() if not w.busy]
            if not idle:
                raise WorkerUnavailable(f"all {self._max_workers} warm workers are busy with other environments")
            oldest = min(idle, key=lambda w: w.used)
            del self._workers[oldest.key]
            await oldest.stop()

    async def _start_worker(self, key: WorkerKey) -> Worker:
        worker = Worker(key)
        try:
            await worker.start()
        except (OSError, asyncio.TimeoutError, WorkerUnavailable) as e:
            self._failed[key] = time.monotonic()
            logger.warning("a warm worker for %s did not start: %s", key.interpreter[0], e)
            raise WorkerUnavailable(f"the warm worker did not start: {e}") from e
        finally:
            self._starting.pop(key, None)
        self._failed.pop(key, None)
        self._workers[key] = worker
        logger.info("warm worker %s ready (%s)", worker.pid, key.interpreter[0])
        return worker


def _note_lost(stderr: Path) -> None:
    # The attempt's stderr is quoted in its error: say why it ended there.
    with contextlib.suppress(OSError), open(stderr, "a") as f:
        f.write("\nflyte-server: the warm worker running this attempt exited; the attempt was killed\n")


def _prepare(launch: Launch) -> None:
    launch.cwd.mkdir(parents=True, exist_ok=True)
    launch.stdout.parent.mkdir(parents=True, exist_ok=True)
    launch.stderr.parent.mkdir(parents=True, exist_ok=True)
    for path in (launch.stdout, launch.stderr):
        with open(path, "wb"):
            pass
