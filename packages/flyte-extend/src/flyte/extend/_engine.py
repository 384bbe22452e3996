"""A compute engine (Spark, Dask, Ray) run around task bodies, shared while in use, kept warm between tasks.

Engines are expensive to start (a JVM, a scheduler and worker processes, a Ray head) and some
allow only one instance per process (one SparkContext per JVM). So a process holds at most one
running instance of each engine: the first task that needs it starts it, tasks running at the
same time share it, and when the last one finishes the engine stays up, idle, for
:attr:`LocalEngine.idle_timeout` seconds (``FLYTE_ENGINE_IDLE_TIMEOUT``, default 60): the next
task whose config the running engine serves reuses it; one whose config it does not serve
restarts it. An idle engine stops when the timeout passes, when :meth:`LocalEngine.shutdown` is
called, or when the process exits. Whoever wants it kept up regardless (a test session, a
notebook) holds it with :meth:`LocalEngine.hold`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, ClassVar, Generic, TypeVar

from flyte.errors import BaseRuntimeError, RuntimeSystemError

ConfigT = TypeVar("ConfigT")
HandleT = TypeVar("HandleT")

logger = logging.getLogger("flyte.extend")

IDLE_TIMEOUT_ENV = "FLYTE_ENGINE_IDLE_TIMEOUT"
DEFAULT_IDLE_TIMEOUT_S = 60.0


class LocalEngine(ABC, Generic[ConfigT, HandleT]):
    """One process-wide engine: started on first use, shared, kept idle between tasks, then stopped.

    Subclasses name the engine and say how to start and stop it (and, optionally, which configs a
    running engine serves); everything else (counting users, starting once under concurrency,
    the idle timer, reporting a failed start, stopping at exit) is here.

    Attributes:
        idle_timeout: seconds an engine nobody uses stays up for the next task; ``0`` stops it as
            soon as its last user leaves; None (the default) reads ``FLYTE_ENGINE_IDLE_TIMEOUT``
            (default 60).

    Example:
        >>> class Calculator(LocalEngine[int, list[int]]):
        ...     name = "calculator"
        ...     def start(self, config: int) -> list[int]:
        ...         return [config]
        ...     def stop(self, handle: list[int]) -> None:
        ...         handle.clear()
        >>> calc = Calculator()
        >>> with calc.hold(7) as handle:
        ...     handle, calc.users
        ([7], 1)
        >>> calc.running, calc.users  # idle, kept for the next task
        (True, 0)
        >>> calc.shutdown()
        True
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._handle: HandleT | None = None
        self._config: ConfigT | None = None
        self._users = 0
        self._timer: threading.Timer | None = None
        self._generation = 0  # bumped at every start and stop: a stale idle timer does nothing
        self._at_exit = False
        self._thread: threading.Thread | None = None
        self._calls: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self.idle_timeout: float | None = None

    # What a subclass provides -------------------------------------------------------------
    @abstractmethod
    def start(self, config: ConfigT) -> HandleT:
        """Start the engine (blocking; called on the engine's own long-lived thread, never on the event loop)."""

    @abstractmethod
    def stop(self, handle: HandleT) -> None:
        """Stop what :meth:`start` started (blocking; on the engine's own thread too)."""

    def check(self, config: ConfigT) -> None:
        """Refuse a config that cannot work, before anything starts; raise a user error naming why."""

    def serves(self, handle: HandleT, running: ConfigT, wanted: ConfigT) -> bool:
        """Whether the engine started with ``running`` can serve a task configured with ``wanted``.

        The default: only an equal config. An engine whose local form ignores some settings (a
        pod template, say) or can apply some to a running instance says so here; an idle engine
        that does not serve ``wanted`` is stopped and started again with it.
        """
        return bool(running == wanted)

    def attach(self, handle: HandleT, config: ConfigT) -> None:
        """Called on every acquire of a running (reused) engine: apply what ``config`` may change live."""

    def context_data(self, handle: HandleT) -> dict[str, Any]:
        """What a task of this engine finds in ``flyte.ctx().data`` (e.g. ``{"spark_session": ...}``)."""
        return {}

    # Shared use ---------------------------------------------------------------------------
    @property
    def users(self) -> int:
        """How many tasks (and holders) use the running engine now."""
        return self._users

    @property
    def running(self) -> bool:
        """Whether the engine is up: in use, or idle and waiting for the next task."""
        return self._handle is not None

    @property
    def handle(self) -> HandleT | None:
        """The running engine's handle (session, client, ...), or None when it is not running."""
        return self._handle

    def timeout(self) -> float:
        """The idle timeout in effect, in seconds."""
        if self.idle_timeout is not None:
            return max(0.0, float(self.idle_timeout))
        raw = os.environ.get(IDLE_TIMEOUT_ENV)
        if raw is None or not raw.strip():
            return DEFAULT_IDLE_TIMEOUT_S
        try:
            return max(0.0, float(raw))
        except ValueError:
            logger.warning("%s=%r is not a number of seconds; using %s", IDLE_TIMEOUT_ENV, raw, DEFAULT_IDLE_TIMEOUT_S)
            return DEFAULT_IDLE_TIMEOUT_S

    def acquire(self, config: ConfigT) -> HandleT:
        """Start the engine if it is not running (or restart an idle one that does not serve
        ``config``), count one more user, and return its handle.

        Raises:
            RuntimeSystemError: the engine failed to start (``code="EngineStartFailed"``, the
                engine's name in the message and in ``error.engine``).
        """
        with self._lock:
            self.check(config)  # a config that cannot work fails first, whatever is running
            self._cancel_timer()
            handle = self._handle
            if handle is not None:
                if self.serves(handle, self._config, config):  # type: ignore[arg-type]
                    self.attach(handle, config)
                elif self._users == 0:
                    logger.info("restarting the idle local %s engine for a task configured differently", self.name)
                    self._stop_now()
                    handle = None
                else:
                    # One engine per process: a task configured differently shares the busy one.
                    logger.warning(
                        "the local %s engine is in use with %r; a task asking for %r shares it",
                        self.name,
                        self._config,
                        config,
                    )
            if handle is None:
                handle = self._handle = self._start(config)
                self._config = config
                self._generation += 1
                if not self._at_exit:
                    # Registered after the engine's own start: atexit runs it first (LIFO).
                    atexit.register(self.shutdown)
                    self._at_exit = True
            self._users += 1
            return handle

    def release(self) -> None:
        """Count one user less; after the last one the engine idles for :meth:`timeout` seconds, then stops."""
        with self._lock:
            if self._users == 0:
                raise RuntimeError(f"the local {self.name} engine was released more often than acquired")
            self._users -= 1
            if self._users > 0:
                return
            timeout = self.timeout()
            if timeout <= 0:
                self._stop_now()
                return
            timer = threading.Timer(timeout, self._stop_if_idle, args=(self._generation,))
            timer.daemon = True
            timer.name = f"flyte-{self.name}-idle"
            self._timer = timer
            timer.start()

    def shutdown(self) -> bool:
        """Stop the engine now if it is running and nobody uses it; True when it was stopped."""
        with self._lock:
            if self._handle is None or self._users > 0:
                return False
            self._cancel_timer()
            self._stop_now()
            return True

    @contextlib.contextmanager
    def hold(self, config: ConfigT) -> Iterator[HandleT]:
        """Keep the engine running for the block, so the tasks inside share one start.

        Example:
            >>> with local_spark.hold(Spark()) as session:  # doctest: +SKIP
            ...     flyte.run(etl_one)
            ...     flyte.run(etl_two)  # no second start
        """
        handle = self.acquire(config)
        try:
            yield handle
        finally:
            self.release()

    @contextlib.contextmanager
    def keep_alive(self) -> Iterator[HandleT | None]:
        """Keep a running engine from stopping during the block (without starting one).

        Yields the handle, or None when the engine is not running. What a DataFrame encoder
        uses: a frame returned by a task is written after the task released the engine.
        """
        with self._lock:
            if self._handle is None:
                handle = None
            else:
                self._cancel_timer()
                self._users += 1
                handle = self._handle
        try:
            yield handle
        finally:
            if handle is not None:
                self.release()

    # Internals ------------------------------------------------------------------------------
    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _stop_if_idle(self, generation: int) -> None:
        with self._lock:
            if generation == self._generation and self._users == 0 and self._handle is not None:
                self._timer = None
                self._stop_now()

    def _on_engine_thread(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` on this engine's own long-lived thread and wait for it.

        Starts and stops happen there, never on the short-lived worker threads of a run's event
        loop: an engine's processes can be tied to the thread that launched them (Ray's are
        killed when it exits), and the engine outlives the run that started it.
        """
        if threading.current_thread() is self._thread:
            return call()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve_calls, name=f"flyte-{self.name}-engine", daemon=True)
                self._thread.start()
        done: Future[Any] = Future()
        self._calls.put((call, done))
        return done.result()

    def _serve_calls(self) -> None:
        while True:
            call, done = self._calls.get()
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(call())
            except BaseException as e:  # handed to the waiting caller
                done.set_exception(e)

    def _stop_now(self) -> None:
        handle = self._handle
        self._generation += 1
        if handle is None:
            self._config = None
            return
        try:
            self._on_engine_thread(lambda: self.stop(handle))
        except Exception as e:  # a failed stop must not turn a finished task into a failed one
            logger.warning("the local %s engine did not stop cleanly: %s", self.name, e)
        finally:
            # Only now: ``running`` stays true until the engine's stop has returned, so whoever
            # sees it false finds the engine's ports and processes gone, not closing.
            self._handle, self._config = None, None

    def _start(self, config: ConfigT) -> HandleT:
        try:
            handle: HandleT = self._on_engine_thread(lambda: self.start(config))
            return handle
        except BaseRuntimeError:
            raise
        except Exception as e:
            err = RuntimeSystemError(
                "EngineStartFailed", f"the local {self.name} engine failed to start: {type(e).__name__}: {e}"
            )
            err.engine = self.name  # type: ignore[attr-defined]
            raise err from e
