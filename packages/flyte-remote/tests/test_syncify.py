import asyncio
import threading

import pytest

from flyte.syncify import SyncCallFromLoopError, Syncify

syncer = Syncify("test-syncify")


@syncer
async def loop_thread_name() -> str:
    return threading.current_thread().name


@syncer
async def double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


@syncer
async def count(n: int):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


class Client:
    def __init__(self, base: int):
        self.base = base

    @syncer
    async def add(self, x: int) -> int:
        return self.base + x

    @syncer
    @classmethod
    async def make(cls, base: int) -> "Client":
        return cls(base)

    @syncer
    @staticmethod
    async def ping() -> str:
        return "pong"


def test_a_sync_call_runs_the_coroutine_on_the_background_loop():
    assert double(21) == 42
    assert loop_thread_name() == "test-syncify"


@pytest.mark.asyncio
async def test_aio_awaits_on_the_same_background_loop_from_another_loop():
    assert await double.aio(4) == 8
    assert await loop_thread_name.aio() == "test-syncify"


def test_async_generators_become_sync_iterators():
    assert list(count(4)) == [0, 1, 2, 3]


@pytest.mark.asyncio
async def test_async_generators_become_async_iterators_with_aio():
    assert [i async for i in count.aio(3)] == [0, 1, 2]


def test_methods_classmethods_and_staticmethods_bind_as_usual():
    client = Client.make(10)
    assert isinstance(client, Client)
    assert client.add(5) == 15
    assert Client.ping() == "pong"


@pytest.mark.asyncio
async def test_bound_methods_have_aio_too():
    client = await Client.make.aio(1)
    assert await client.add.aio(1) == 2


def test_exceptions_propagate_with_their_type():
    @syncer
    async def fail() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError, match="missing"):
        fail()


@pytest.mark.asyncio
async def test_sync_call_from_the_loop_thread_raises_instead_of_deadlocking():
    @syncer
    async def outer() -> int:
        return double(1)  # wrong: blocking call from inside the loop

    with pytest.raises(SyncCallFromLoopError, match=r"use `await .*double.aio\(...\)` instead"):
        await outer.aio()


def test_sync_iteration_from_the_loop_thread_raises_instead_of_deadlocking():
    @syncer
    async def outer() -> list[int]:
        return list(count(2))

    with pytest.raises(SyncCallFromLoopError, match="async for"):
        outer()


def test_sync_call_works_inside_a_foreign_running_loop_like_jupyter():
    async def notebook_cell() -> int:
        return double(5)  # a notebook calls the sync form while its own loop runs

    assert asyncio.run(notebook_cell()) == 10


def test_breaking_out_of_a_sync_iteration_closes_the_async_generator():
    closed = threading.Event()

    @syncer
    async def watch():
        try:
            for i in range(100):
                yield i
        finally:
            closed.set()

    for i in watch():
        if i == 2:
            break
    assert closed.wait(5)


def test_decorating_a_plain_function_is_a_type_error_naming_it():
    def plain() -> None:
        pass

    with pytest.raises(TypeError, match="plain"):
        syncer(plain)


def test_the_wrapper_keeps_name_and_docstring():
    @syncer
    async def documented() -> None:
        """Does things."""

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Does things."
