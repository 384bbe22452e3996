"""Hello, Flyte 2: a task fanning out to child tasks.

flyte run --local examples/hello.py main --n 5
"""

import asyncio

import flyte

env = flyte.TaskEnvironment(name="hello")


@env.task
async def say_hello(name: str, i: int) -> str:
    return f"hello {name} #{i}"


@env.task
async def main(name: str = "world", n: int = 3) -> list[str]:
    """Greet `name` n times, each greeting its own child action."""
    return list(await asyncio.gather(*(say_hello(name, i) for i in range(n))))


if __name__ == "__main__":
    flyte.init()
    print(flyte.run(main, name="python").outputs().o0)
