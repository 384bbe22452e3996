"""Tasks the remote-run tests send to a real embedded server (a0 imports this file from the bundle)."""

import asyncio

from flyte.runtime import TaskEnvironment

env = TaskEnvironment("remote")


@env.task
async def add(x: int, y: int = 1) -> int:
    return x + y


@env.task
async def fan(n: int) -> list[int]:
    return list(await asyncio.gather(*(add(i, 1) for i in range(n))))


@env.task
def pair(name: str) -> tuple[str, int]:
    return name.upper(), len(name)


@env.task
def boom(x: int) -> int:
    raise ValueError(f"cannot handle {x}")
