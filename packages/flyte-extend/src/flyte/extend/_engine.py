"""A compute engine (Spark, Dask, Ray) run around task bodies, shared while in use.

Engines are expensive to start (a JVM, a scheduler and worker processes, a Ray head) and some
allow only one instance per process (one SparkContext per JVM). So a process holds at most one
running instance of each engine: the first task that needs it starts it, tasks running at the
same time share it, and the last one to finish stops it. Whoever wants it kept warm across
tasks (a test session, a notebook, a parent task) holds it with :meth:`LocalEngine.hold`.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar, Generic, TypeVar

from flyte.errors import BaseRuntimeError, RuntimeSystemError

ConfigT = TypeVar("ConfigT")
HandleT = TypeVar("HandleT")

logger = logging.getLogger("flyte.extend")


class LocalEngine(ABC, Generic[ConfigT, HandleT]):
    """One process-wide engine, started on first use and stopped when its last user releases it.

    Subclasses name the engine and say how to start and stop it; everything else (counting
    users, starting once under concurrency, reporting a failed start) is here.

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
        >>> calc.running
        False
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handle: HandleT | None = None
        self._config: ConfigT | None = None
        self._users = 0

    # What a subclass provides -------------------------------------------------------------
    @abstractmethod
    def start(self, config: ConfigT) -> HandleT:
        """Start the engine (blocking; called in a worker thread, never on the event loop)."""

    @abstractmethod
    def stop(self, handle: HandleT) -> None:
        """Stop what :meth:`start` started (blocking)."""

    def check(self, config: ConfigT) -> None:
        """Refuse a config that cannot work, before anything starts; raise a user error naming why."""

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
        return self._users > 0

    def acquire(self, config: ConfigT) -> HandleT:
        """Start the engine if it is not running, count one more user, and return its handle.

        Raises:
            RuntimeSystemError: the engine failed to start (``code="EngineStartFailed"``, the
                engine's name in the message and in ``error.engine``).
        """
        with self._lock:
            if self._users == 0:
                self.check(config)
                self._handle = self._start(config)
                self._config = config
            elif config != self._config:
                # One engine per process: a task configured differently shares the running one.
                logger.warning(
                    "the local %s engine is already running with %r; a task asking for %r shares it",
                    self.name,
                    self._config,
                    config,
                )
            self._users += 1
            assert self._handle is not None
            return self._handle

    def release(self) -> None:
        """Count one user less; the last one out stops the engine."""
        with self._lock:
            if self._users == 0:
                raise RuntimeError(f"the local {self.name} engine was released more often than acquired")
            self._users -= 1
            if self._users > 0:
                return
            handle, self._handle, self._config = self._handle, None, None
            assert handle is not None
            try:
                self.stop(handle)
            except Exception as e:  # a failed stop must not turn a finished task into a failed one
                logger.warning("the local %s engine did not stop cleanly: %s", self.name, e)

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

    def _start(self, config: ConfigT) -> HandleT:
        try:
            return self.start(config)
        except BaseRuntimeError:
            raise
        except Exception as e:
            err = RuntimeSystemError(
                "EngineStartFailed", f"the local {self.name} engine failed to start: {type(e).__name__}: {e}"
            )
            err.engine = self.name  # type: ignore[attr-defined]
            raise err from e
