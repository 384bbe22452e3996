"""The server process: one port answering gRPC (h2c) and Connect (HTTP/1.1), loopback only,
UNIMPLEMENTED for what it does not serve, a clean stop."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import grpc
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from flyteidl2.cluster import payload_pb2
from flyteidl2.cluster.service_connect import ClusterServiceClientSync
from flyteidl2.task import task_service_pb2
from flyteidl2.task.task_service_connect import TaskServiceClientSync
from flyteidl2.workflow import state_service_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, Server, start_server, stop_server


@pytest.mark.asyncio
async def test_a_grpc_client_reaches_the_server(clients: ClientSet):
    answer = await clients.cluster_service.SelectCluster(payload_pb2.SelectClusterRequest())
    # An empty answer means "this endpoint serves everything".
    assert answer == payload_pb2.SelectClusterResponse()


def test_a_connect_client_reaches_the_same_port(server: Server):
    client = ClusterServiceClientSync(server.url)
    try:
        assert client.select_cluster(payload_pb2.SelectClusterRequest()) == payload_pb2.SelectClusterResponse()
    finally:
        client.close()


def test_connect_unary_over_plain_http_1_1_with_json(server: Server):
    request = urllib.request.Request(
        f"{server.url}/flyteidl2.cluster.ClusterService/SelectCluster",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert response.version == 11
        assert json.loads(response.read()) == {}


def test_connect_errors_carry_their_code(server: Server):
    client = TaskServiceClientSync(server.url)
    try:
        with pytest.raises(ConnectError) as e:
            client.get_task_details(
                task_service_pb2.GetTaskDetailsRequest(
                    task_id={"project": PROJECT, "domain": DOMAIN, "name": "never.deployed", "version": "v1"}
                )
            )
    finally:
        client.close()
    assert e.value.code == Code.NOT_FOUND


@pytest.mark.asyncio
async def test_services_not_served_yet_answer_unimplemented(clients: ClientSet):
    with pytest.raises(grpc.aio.AioRpcError) as e:
        await clients.state_service.Get(state_service_pb2.GetRequest())
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_it_listens_on_loopback_only(server: Server):
    port = int(server.address.rsplit(":", 1)[1])
    assert server.address.startswith("127.0.0.1:")
    addresses = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1"}
    for address in addresses:
        if address.startswith("127."):
            continue
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0


def test_it_records_where_it_runs_and_keeps_its_key_private(server: Server):
    info = json.loads((server.data_dir / "server.json").read_text())
    assert info["url"] == server.url
    assert info["pid"] == server.process.pid
    assert (server.data_dir / "signing.key").stat().st_mode & 0o777 == 0o600


def test_sigterm_stops_it_cleanly_and_it_starts_again_on_the_same_data(tmp_path: Path):
    data = tmp_path / "data"
    first = start_server(data)
    assert stop_server(first) == 0
    assert not (data / "server.json").exists()
    key = (data / "signing.key").read_bytes()
    second = start_server(data)
    try:
        assert (data / "signing.key").read_bytes() == key
    finally:
        assert stop_server(second) == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "port must be between 0 and 65535, got 99999"),
        (["--max-concurrency", "0"], "max_concurrency must be at least 1, got 0"),
        (["--executor", "nonsense"], "argument --executor: invalid choice: 'nonsense'"),
        (["--max-upload-bytes", "lots"], "argument --max-upload-bytes: invalid int value: 'lots'"),
    ],
)
def test_a_bad_setting_is_refused_before_anything_is_created(tmp_path: Path, args: list[str], says: str):
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "flyte.server", "--port", "0", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert not data.exists()


def test_a_taken_port_is_named_and_leaves_no_data_dir(tmp_path: Path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    data = tmp_path / "data"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flyte.server", "--port", str(port), "--data-dir", str(data)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        taken.close()
    assert done.returncode == 1
    assert f"flyte-server: error: cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert not data.exists()


def test_a_data_dir_that_is_a_file_is_named_and_left_alone(tmp_path: Path):
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("mine")
    with pytest.raises(RuntimeError, match="exited with code 1 before listening") as failed:
        start_server(not_a_dir)
    assert f"the data dir {not_a_dir} cannot be used" in str(failed.value)
    assert "Traceback" not in str(failed.value)
    assert not_a_dir.read_text() == "mine"


def test_a_server_that_will_not_start_is_reported_with_its_log(tmp_path: Path):
    with pytest.raises(RuntimeError, match="exited with code 2 before listening") as failed:
        start_server(tmp_path / "data", executor="nonsense")
    assert "invalid choice: 'nonsense'" in str(failed.value)
    assert str(tmp_path / "data.log") in str(failed.value)
