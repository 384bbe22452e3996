"""ClientSet against a real grpcio server on a loopback port."""

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator

import grpc
import grpc.aio
import pytest
import pytest_asyncio
from flyteidl2.workflow import run_service_pb2, run_service_pb2_grpc

from flyte.config import PlatformConfig
from flyte.remote import ClientSet, Endpoint


class RunService(run_service_pb2_grpc.RunServiceServicer):
    """Fails on demand, records what it received."""

    def __init__(self) -> None:
        self.unavailable_left = 0
        self.calls: dict[str, int] = {}
        self.metadata: list[dict[str, str]] = []
        self.delay_s = 0.0

    def _record(self, name: str, context: grpc.aio.ServicerContext) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        self.metadata.append({m.key: m.value for m in context.invocation_metadata()})

    async def GetRunDetails(self, request, context):
        self._record("GetRunDetails", context)
        if self.unavailable_left > 0:
            self.unavailable_left -= 1
            await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
        await asyncio.sleep(self.delay_s)
        return run_service_pb2.GetRunDetailsResponse()

    async def CreateRun(self, request, context):
        self._record("CreateRun", context)
        await context.abort(grpc.StatusCode.UNAVAILABLE, "try again")

    async def AbortRun(self, request, context):
        self._record("AbortRun", context)
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such run")

    async def WatchActionDetails(self, request, context):
        self._record("WatchActionDetails", context)
        for _ in range(3):
            yield run_service_pb2.WatchActionDetailsResponse()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[RunService, int]]:
    service = RunService()
    srv = grpc.aio.server()
    run_service_pb2_grpc.add_RunServiceServicer_to_server(service, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    await srv.start()
    try:
        yield service, port
    finally:
        await srv.stop(None)


def fast_backoff(monkeypatch):
    monkeypatch.setattr("flyte.remote._interceptors.backoff_s", lambda attempt: 0.01)


@pytest.mark.asyncio
async def test_a_unary_call_reaches_the_server_with_request_id_and_bearer_token(server):
    service, port = server
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, api_key="s3cret") as clients:
        reply = await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert isinstance(reply, run_service_pb2.GetRunDetailsResponse)
    md = service.metadata[0]
    assert md["authorization"] == "Bearer s3cret"
    assert len(md["x-request-id"]) == 32


@pytest.mark.asyncio
async def test_api_key_defaults_to_the_environment(server, monkeypatch):
    service, port = server
    monkeypatch.setenv("FLYTE_API_KEY", "from-env")
    async with ClientSet(f"127.0.0.1:{port}", insecure=True) as clients:
        await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert service.metadata[0]["authorization"] == "Bearer from-env"


@pytest.mark.asyncio
async def test_no_api_key_sends_no_authorization(server, monkeypatch):
    service, port = server
    monkeypatch.delenv("FLYTE_API_KEY", raising=False)
    async with ClientSet(f"127.0.0.1:{port}", insecure=True) as clients:
        await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert "authorization" not in service.metadata[0]


@pytest.mark.asyncio
async def test_an_idempotent_call_is_retried_through_unavailable_with_one_request_id(server, monkeypatch):
    fast_backoff(monkeypatch)
    service, port = server
    service.unavailable_left = 2
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=3) as clients:
        await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert service.calls["GetRunDetails"] == 3
    assert len({md["x-request-id"] for md in service.metadata}) == 1


@pytest.mark.asyncio
async def test_retries_give_up_after_rpc_retries_attempts(server, monkeypatch):
    fast_backoff(monkeypatch)
    service, port = server
    service.unavailable_left = 5
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=2) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert service.calls["GetRunDetails"] == 2


@pytest.mark.asyncio
async def test_create_run_is_never_retried(server, monkeypatch):
    fast_backoff(monkeypatch)
    service, port = server
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=5) as clients:
        with pytest.raises(grpc.aio.AioRpcError):
            await clients.run_service.CreateRun(run_service_pb2.CreateRunRequest())
    assert service.calls["CreateRun"] == 1


@pytest.mark.asyncio
async def test_a_non_transient_error_fails_at_once(server, monkeypatch):
    fast_backoff(monkeypatch)
    service, port = server
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=5) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients.run_service.AbortRun(run_service_pb2.AbortRunRequest())
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert service.calls["AbortRun"] == 1


@pytest.mark.asyncio
async def test_the_default_deadline_applies_to_unary_calls(server, monkeypatch):
    fast_backoff(monkeypatch)
    service, port = server
    service.delay_s = 2.0
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=2, timeout_s=0.2) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert service.calls["GetRunDetails"] == 2  # DEADLINE_EXCEEDED is retried too


@pytest.mark.asyncio
async def test_streams_carry_metadata_and_deliver_every_message(server):
    service, port = server
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, api_key="k") as clients:
        stream = clients.run_service.WatchActionDetails(run_service_pb2.WatchActionDetailsRequest())
        received = [m async for m in stream]
    assert len(received) == 3
    assert service.metadata[0]["authorization"] == "Bearer k"


@pytest.mark.asyncio
async def test_an_unreachable_endpoint_fails_with_unavailable(monkeypatch):
    fast_backoff(monkeypatch)
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ClientSet(f"127.0.0.1:{port}", insecure=True, rpc_retries=1, timeout_s=2) as clients:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.asyncio
async def test_from_config_uses_the_platform_settings(server):
    service, port = server
    clients = ClientSet.from_config(PlatformConfig(endpoint=f"dns:///127.0.0.1:{port}", insecure=True))
    await clients.run_service.GetRunDetails(run_service_pb2.GetRunDetailsRequest())
    await clients.close()
    assert service.calls["GetRunDetails"] == 1


def test_from_config_without_an_endpoint_says_which_setting_is_missing():
    with pytest.raises(ValueError, match=r"admin.endpoint / FLYTE_ADMIN_ENDPOINT"):
        ClientSet.from_config(PlatformConfig())


@pytest.mark.parametrize(
    ("given", "insecure", "target", "plain"),
    [
        ("localhost:8090", True, "localhost:8090", True),
        ("dns:///flyte.example.com:443", False, "dns:///flyte.example.com:443", False),
        ("http://localhost:8090", False, "localhost:8090", True),
        ("https://flyte.example.com", True, "flyte.example.com:443", False),
        ("http://[::1]:9000", False, "[::1]:9000", True),
    ],
)
def test_endpoint_forms(given, insecure, target, plain):
    assert Endpoint.parse(given, insecure) == Endpoint(target, plain)


@pytest.mark.parametrize("bad", ["", "   ", "ftp://host", "http://"])
def test_bad_endpoints_are_rejected_with_the_accepted_forms(bad):
    with pytest.raises(ValueError, match="expected host:port"):
        Endpoint.parse(bad)


def test_rpc_retries_below_one_is_rejected():
    with pytest.raises(ValueError, match="rpc_retries must be at least 1"):
        ClientSet("localhost:1", rpc_retries=0)


def test_import_flyte_remote_loads_no_grpc():
    code = "import sys, flyte.remote; print(any(m == 'grpc' or m.startswith('grpc.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
