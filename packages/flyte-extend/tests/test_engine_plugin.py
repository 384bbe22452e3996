"""LocalEngine, EngineTaskTemplate and the conformance kit, on a small real plugin: a TCP echo server on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
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
from flyte.extend._engine import DEFAULT_IDLE_TIMEOUT_S, IDLE_TIMEOUT_ENV
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
    """Tests start with no echo engine and stop-at-once semantics unless they ask for an idle time."""
    local_echo.idle_timeout = 0
    yield
    assert local_echo.users == 0, "a test left the echo engine in use"
    local_echo.idle_timeout = None
    local_echo.shutdown()


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


# Reuse between tasks ---------------------------------------------------------------------------
@env.task
def server_port(text: str) -> int:
    return flyte_ctx_data()["echo"].port


def test_an_idle_engine_is_reused_by_the_next_task_with_the_same_config():
    local_echo.idle_timeout = 30
    starts = local_echo.starts
    first = run(server_port, text="a").outputs()[0]
    assert (local_echo.running, local_echo.users) == (True, 0)  # idle, waiting for the next task
    second = run(server_port, text="b").outputs()[0]
    assert first == second
    assert local_echo.starts - starts == 1
    assert local_echo.handle is not None
    assert local_echo.handle.echo("up") == "up"


def test_an_idle_engine_restarts_for_a_task_configured_differently():
    local_echo.idle_timeout = 30
    first = run(server_port, text="a").outputs()[0]
    stops = local_echo.stops
    other = server_port.override(plugin_config=Echo(greeting="bonjour"))
    second = run(other, text="b").outputs()[0]
    assert second != first
    assert local_echo.stops - stops == 1


def test_a_busy_engine_is_shared_by_a_task_configured_differently(caplog):
    with local_echo.hold(Echo()) as held:
        other = server_port.override(plugin_config=Echo(greeting="bonjour"))
        assert run(other, text="b").outputs()[0] == held.port
    assert "shares it" in caplog.text


def test_an_idle_engine_stops_when_its_timeout_passes():
    local_echo.idle_timeout = 0.2
    handle = local_echo.acquire(Echo())
    local_echo.release()
    assert local_echo.running
    deadline = time.monotonic() + 10
    while local_echo.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not local_echo.running
    with pytest.raises(ConnectionError):  # refused, or reset by the closing server
        handle.echo("gone")


def test_a_task_arriving_within_the_timeout_cancels_the_stop():
    local_echo.idle_timeout = 0.3
    handle = local_echo.acquire(Echo())
    local_echo.release()
    with local_echo.hold(Echo()) as again:
        time.sleep(0.6)  # longer than the timeout: the cancelled timer must not stop it
        assert again is handle
        assert handle.echo("still") == "still"


def test_the_idle_timeout_comes_from_the_environment(monkeypatch):
    local_echo.idle_timeout = None
    monkeypatch.setenv(IDLE_TIMEOUT_ENV, "2.5")
    assert local_echo.timeout() == 2.5
    monkeypatch.setenv(IDLE_TIMEOUT_ENV, "soon")
    assert local_echo.timeout() == DEFAULT_IDLE_TIMEOUT_S
    monkeypatch.delenv(IDLE_TIMEOUT_ENV)
    assert local_echo.timeout() == DEFAULT_IDLE_TIMEOUT_S
    local_echo.idle_timeout = -1
    assert local_echo.timeout() == 0


def test_shutdown_stops_an_idle_engine_but_not_a_busy_one():
    local_echo.idle_timeout = 30
    with local_echo.hold(Echo()):
        assert local_echo.shutdown() is False
        assert local_echo.running
    assert local_echo.shutdown() is True
    assert not local_echo.running
    assert local_echo.shutdown() is False


def test_keep_alive_holds_a_running_engine_and_starts_none():
    starts = local_echo.starts
    with local_echo.keep_alive() as nothing:
        assert nothing is None
    assert local_echo.starts == starts
    local_echo.idle_timeout = 30
    handle = local_echo.acquire(Echo())
    local_echo.release()
    with local_echo.keep_alive() as kept:
        assert kept is handle
        assert local_echo.users == 1
        assert local_echo.shutdown() is False
    assert local_echo.users == 0


def test_an_idle_engine_stops_when_the_process_exits(tmp_path):
    marker = tmp_path / "stopped"
    script = textwrap.dedent(
        f"""
        from flyte.extend import LocalEngine

        class Marker(LocalEngine[str, str]):
            name = "marker"
            def start(self, config):
                return config
            def stop(self, handle):
                open({str(marker)!r}, "w").write(handle)

        engine = Marker()
        engine.idle_timeout = 3600
        engine.acquire("bye")
        engine.release()
        assert engine.running
        """
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={**os.environ})
    assert marker.read_text() == "bye"
    assert time.monotonic() - started < 30  # the idle timer did not keep the process alive


class ThreadRecorder(LocalEcho):
    """Records the threads its start and stop ran on."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []

    def start(self, config: Echo) -> EchoServer:
        self.threads.append(threading.current_thread())
        return super().start(config)

    def stop(self, handle: EchoServer) -> None:
        self.threads.append(threading.current_thread())
        super().stop(handle)


def test_starts_and_stops_run_on_one_engine_thread_that_outlives_the_run():
    # Processes an engine launches can die with the thread that launched them (Ray's do): the
    # thread must not be a run's short-lived worker thread.
    recorder = ThreadRecorder()
    recorder.idle_timeout = 30

    @dataclass(kw_only=True)
    class RecordedTask(EchoTask):
        engine: ClassVar[LocalEngine[Any, Any]] = recorder

    task = RecordedTask(name="recorded", interface=shout.interface, func=shout.func, plugin_config=Echo())
    assert run(task, text="a").outputs()[0] == "A"
    (started_on,) = recorder.threads
    assert started_on is not threading.current_thread()
    assert started_on.is_alive()  # the run and its worker threads are gone; the engine thread is not
    assert run(task, text="b").outputs()[0] == "B"
    assert recorder.shutdown()
    assert recorder.threads == [started_on, started_on]


class Tuned(LocalEcho):
    """An engine whose running instance serves any greeting, applied live by attach()."""

    def serves(self, handle: EchoServer, running: Echo, wanted: Echo) -> bool:
        return running.broken == wanted.broken

    def attach(self, handle: EchoServer, config: Echo) -> None:
        self.attached.append(config.greeting)

    attached: ClassVar[list[str]] = []


def test_serves_and_attach_let_an_engine_adapt_instead_of_restarting():
    tuned = Tuned()
    tuned.idle_timeout = 30
    try:
        with tuned.hold(Echo("a")) as first:
            pass
        with tuned.hold(Echo("b")) as second:
            assert second is first
        assert (tuned.starts, Tuned.attached) == (1, ["b"])
    finally:
        tuned.shutdown()


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
