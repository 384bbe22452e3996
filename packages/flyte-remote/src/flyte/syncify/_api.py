"""`syncify`: one async implementation, a sync call by default and an ``.aio`` form for async code."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import MethodType
from typing import Any, Generic, Protocol, TypeVar, overload

from flyte.syncify._loop import BackgroundLoop

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")


class SyncFunction(Protocol[R_co]):
    """What ``@syncify`` makes of an ``async def``: call it, or await its ``.aio``."""

    def __call__(self, *args: Any, **kwargs: Any) -> R_co: ...

    def aio(self, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, R_co]: ...


class SyncGenFunction(Protocol[R_co]):
    """What ``@syncify`` makes of an async generator: iterate it, or ``async for`` over its ``.aio``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Iterator[R_co]: ...

    def aio(self, *args: Any, **kwargs: Any) -> AsyncIterator[R_co]: ...


class _Wrapper(Generic[R]):
    """The callable that replaces a decorated function; a descriptor, so methods bind as usual."""

    def __init__(self, func: Callable[..., Any], loop: BackgroundLoop, is_gen: bool | None = None):
        self._func = func
        self._loop = loop
        self._is_gen = inspect.isasyncgenfunction(func) if is_gen is None else is_gen
        functools.update_wrapper(self, func)

    def __get__(self, instance: object, owner: type | None = None) -> _Wrapper[R]:
        if instance is None:
            return self
        return _Wrapper(MethodType(self._func, instance), self._loop, self._is_gen)

    @property
    def _name(self) -> str:
        return getattr(self._func, "__qualname__", repr(self._func))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._is_gen:
            return self._loop.iterate(self._func(*args, **kwargs), self._name)
        return self._loop.run(self._func(*args, **kwargs), self._name)

    def aio(self, *args: Any, **kwargs: Any) -> Any:
        if self._is_gen:
            return self._loop.iterate_async(self._func(*args, **kwargs))
        return self._loop.run_async(self._func(*args, **kwargs))

    def __repr__(self) -> str:
        return f"<syncified {self._name}>"


class _ClassMethodWrapper(Generic[R]):
    """``@syncify`` over ``@classmethod``: binds to the class, then behaves like any wrapper."""

    def __init__(self, func: Callable[..., Any], loop: BackgroundLoop):
        self._func = func
        self._loop = loop
        self._is_gen = inspect.isasyncgenfunction(func)
        self.__doc__ = func.__doc__
        self.__wrapped__ = func

    def __get__(self, instance: object, owner: type | None = None) -> _Wrapper[R]:
        cls = owner if owner is not None else type(instance)
        return _Wrapper(MethodType(self._func, cls), self._loop, self._is_gen)


class Syncify:
    """A decorator factory bound to one background loop.

    Example:
        >>> syncer = Syncify("example")
        >>> @syncer
        ... async def double(x: int) -> int:
        ...     return 2 * x
        >>> double(21)
        42

    In async code, ``await double.aio(21)`` runs the same coroutine on the same background loop.
    Every client object the SDK creates inside such calls is therefore bound to that one loop,
    whichever loop (or none) the caller runs.
    """

    def __init__(self, name: str = "flyte-syncify"):
        self.loop = BackgroundLoop(name)

    @overload
    def __call__(self, func: Callable[..., Coroutine[Any, Any, R]]) -> SyncFunction[R]: ...

    @overload
    def __call__(self, func: Callable[..., AsyncIterator[R]]) -> SyncGenFunction[R]: ...

    @overload
    def __call__(self, func: classmethod[Any, Any, Any]) -> Any: ...

    @overload
    def __call__(self, func: staticmethod[Any, Any]) -> Any: ...

    def __call__(self, func: Any) -> Any:
        if isinstance(func, classmethod):
            return _ClassMethodWrapper(_async_function(func.__func__), self.loop)
        if isinstance(func, staticmethod):
            return staticmethod(_Wrapper(_async_function(func.__func__), self.loop))
        return _Wrapper(_async_function(func), self.loop)


def _async_function(func: Callable[..., Any]) -> Callable[..., Any]:
    if not (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)):
        name = getattr(func, "__qualname__", repr(func))
        raise TypeError(f"syncify needs an `async def` function or async generator, got {name}")
    return func
