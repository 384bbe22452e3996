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


# Settings only a cluster honours still travel in the deployed spec.
from flyte.models import Resources, Secret  # noqa: E402

settings_env = TaskEnvironment("remote_settings", resources=Resources(cpu=2, memory="1Gi"))


@settings_env.task(cache="auto", retries=2, secrets=Secret(key="api-key"), report=True)
async def with_settings(x: int) -> int:
    return x
