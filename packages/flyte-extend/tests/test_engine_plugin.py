"""LocalEngine, EngineTaskTemplate and the conformance kit, on a small real plugin: a TCP echo server on loopback."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from flyteidl2.core.literals_pb2 import KeyValuePair
from google.protobuf import json_format

from flyte.errors import MaxRuntimeExceededError
from flyte.extend import (
    AsyncFunctionTaskTemplate,
    EngineTaskTemplate,
    LocalEngine,
    RuntimeSystemError,
    SerializationContext,
    TaskPluginRegistry,
    ctx,
)
from flyte.extend.testing import PluginConformance
from flyte.runtime import TaskEnvironment, run


@dataclass
class Echo:
    """The plugin's config: a greeting, and whether the engine refuses to start."""

    greeting: str = "hello"
    broken: bool = False


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(self.rfile.readline())


@dataclass
class EchoServer:
    server: socketserver.ThreadingTCPServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def echo(self, text: str) -> str:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(text.encode() + b"\n")
            return conn.makefile().readline().strip()


class LocalEcho(LocalEngine[Echo, EchoServer]):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.stops = 0

    def check(self, config: Echo) -> None:
        if not config.greeting:
            raise ValueError("Echo.greeting must not be empty")

    def start(self, config: Echo) -> EchoServer:
        if config.broken:
            # A real failure: binding a port that is not ours to bind.
            socketserver.ThreadingTCPServer(("192.0.2.1", 0), _Handler)
        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        self.starts += 1
        return EchoServer(server, thread)

    def stop(self, handle: EchoServer) -> None:
        handle.server.shutdown()
        handle.server.server_close()
        self.stops += 1

    def context_data(self, handle: EchoServer) -> dict[str, Any]:
        return {"echo": handle}


local_echo = LocalEcho()


@dataclass(kw_only=True)
class EchoTask(EngineTaskTemplate[Any, Any]):
    plugin_config: Echo
    task_type: str = "echo"
    engine: ClassVar[LocalEngine[Any, Any]] = local_echo

    def custom_config(self, sctx: Any) -> dict[str, Any]:
        # Shaped as flyteidl2.core.KeyValuePair, so the kit has a real message to decode it as.
        return {"key": "greeting", "value": self.plugin_config.greeting}


TaskPluginRegistry.register(Echo, EchoTask)


env = TaskEnvironment("echo-tests", plugin_config=Echo())


@env.task
def shout(text: str) -> str:
    server = flyte_ctx_data()["echo"]
    return str(server.echo(text.upper()))


@env.task
async def shout_async(text: str) -> str:
    server = flyte_ctx_data()["echo"]
    return str(await asyncio.to_thread(server.echo, text.upper()))


def flyte_ctx_data() -> dict[str, Any]:
    tctx = ctx()
    assert tctx is not None
    return tctx.data


@pytest.fixture(autouse=True)
def no_engine_left_running():
    yield
    assert local_echo.users == 0, "a test left the echo engine running"


# LocalEngine ---------------------------------------------------------------------------------
def test_an_engine_starts_on_first_use_and_stops_with_its_last_user():
    starts, stops = local_echo.starts, local_echo.stops
    first = local_echo.acquire(Echo())
    second = local_echo.acquire(Echo())
    assert first is second
    assert (local_echo.starts - starts, local_echo.users) == (1, 2)
    local_echo.release()
    assert first.echo("still up") == "still up"
    local_echo.release()
    assert local_echo.stops - stops == 1
    with pytest.raises(ConnectionRefusedError):
        first.echo("gone")


def test_hold_keeps_one_engine_for_several_runs():
    starts = local_echo.starts
    with local_echo.hold(Echo()):
        assert run(shout, text="a").outputs()[0] == "A"
        assert run(shout, text="b").outputs()[0] == "B"
        assert local_echo.users == 1
    assert local_echo.starts - starts == 1


def test_an_engine_that_fails_to_start_is_a_system_error_naming_it():
    with pytest.raises(RuntimeSystemError, match="local echo engine failed to start") as info:
        local_echo.acquire(Echo(broken=True))
    assert info.value.code == "EngineStartFailed"
    assert info.value.engine == "echo"
    assert isinstance(info.value.__cause__, OSError)
    assert local_echo.users == 0


def test_check_refuses_a_config_before_anything_starts():
    starts = local_echo.starts
    with pytest.raises(ValueError, match="greeting must not be empty"):
        local_echo.acquire(Echo(greeting=""))
    assert local_echo.starts == starts


def test_releasing_more_than_acquired_is_an_error():
    with pytest.raises(RuntimeError, match="released more often than acquired"):
        local_echo.release()


# EngineTaskTemplate through local runs --------------------------------------------------------
def test_the_body_finds_the_engine_in_the_task_context():
    assert run(shout, text="hi").outputs()[0] == "HI"
    assert run(shout_async, text="hey").outputs()[0] == "HEY"


def test_concurrent_tasks_share_one_engine():
    parent_env = TaskEnvironment("echo-parent")

    @parent_env.task
    async def fan_out(n: int) -> list[str]:
        return list(await asyncio.gather(*(shout.aio(text=f"t{i}") for i in range(n))))

    starts = local_echo.starts
    assert run(fan_out, n=4).outputs()[0] == ["T0", "T1", "T2", "T3"]
    assert local_echo.starts - starts == 1


def test_a_timed_out_body_releases_its_engine():
    @env.task(timeout=1)
    async def hangs() -> None:
        await asyncio.sleep(30)

    stops = local_echo.stops
    with pytest.raises(MaxRuntimeExceededError):
        run(hangs)
    assert local_echo.stops - stops == 1


def test_a_failed_start_fails_the_task_as_a_system_error_and_is_retried():
    broken = shout.override(plugin_config=Echo(broken=True), retries=1)
    with pytest.raises(RuntimeSystemError, match="echo engine failed to start") as info:
        run(broken, text="x")
    assert info.value.engine == "echo"


# task.override(plugin_config=...) -----------------------------------------------------------
def test_override_with_a_plugin_config_selects_the_plugin_task_class():
    plain_env = TaskEnvironment("echo-plain")

    @plain_env.task(retries=3)
    def plain(text: str) -> str:
        return text

    as_echo = plain.override(plugin_config=Echo("yo"))
    assert type(as_echo) is EchoTask
    assert (as_echo.task_type, as_echo.retries.count, as_echo.name) == ("echo", 3, plain.name)
    back = as_echo.override(plugin_config=None)
    assert type(back) is AsyncFunctionTaskTemplate
    assert back.task_type == "python"


# The conformance kit ------------------------------------------------------------------------
def echo_twice(text: str) -> str:
    return str(flyte_ctx_data()["echo"].echo(text * 2))


class TestEchoConformance(PluginConformance):
    task_type = "echo"
    custom_message = KeyValuePair
    task_inputs: ClassVar[dict[str, Any]] = {"text": "ab"}
    expected_output = "abab"
    context_keys = frozenset({"echo"})

    def plugin_config(self) -> Echo:
        return Echo("hi")

    def expected_custom(self, sctx: SerializationContext) -> dict[str, Any]:
        return {"key": "greeting", "value": "hi"}

    def task_body(self) -> Callable[..., Any]:
        return echo_twice


@dataclass
class Leaky(Echo):
    """A plugin whose task forgets to release its engine and whose custom config is not its message."""


@dataclass(kw_only=True)
class LeakyTask(EchoTask):
    plugin_config: Any
    task_type: str = "leaky"

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await AsyncFunctionTaskTemplate.execute(self, *args, **kwargs)  # skips the release

    def custom_config(self, sctx: Any) -> dict[str, Any]:
        return {"key": "greeting", "volume": 11}


TaskPluginRegistry.register(Leaky, LeakyTask)


class LeakyConformance(TestEchoConformance):
    task_type = "leaky"

    def plugin_config(self) -> Any:
        return Leaky()


def test_the_kit_fails_a_plugin_that_leaks_its_engine(tmp_path, monkeypatch):
    kit = LeakyConformance()
    with pytest.raises(AssertionError, match="engine was not released"):
        kit.test_runs_locally_with_its_engine()
    local_echo.release()  # what the leaky task forgot


def test_the_kit_fails_a_custom_config_that_is_not_its_message():
    with pytest.raises(json_format.ParseError, match="volume"):
        LeakyConformance().test_custom_config_decodes_as_its_message()
