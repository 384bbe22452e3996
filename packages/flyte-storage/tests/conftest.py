"""Real servers on loopback for the storage tests: moto (S3), Azurite (Azure Blob), the GCS
emulator, and a fault-injecting proxy in front of moto. Each starts once per session on a
port chosen at run time and is always stopped."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Before gcsfs is imported anywhere: otherwise every gcsfs call first waits ~60 s on a
# control-plane lookup that cannot reach Google from here.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
# moto wants a region, and botocore must never look for instance credentials off-box.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"

import pytest
import pytest_asyncio

import flyte.storage as storage

HERE = Path(__file__).parent
NODE_DIR = HERE / ".node"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
# Fast retries in tests: the backoff's shape is tested on its own.
FAST = {"backoff": 0.01, "max_backoff": 0.05}

_spec = importlib.util.spec_from_file_location("flyte_storage_fault_proxy", HERE / "fault_proxy.py")
assert _spec is not None
assert _spec.loader is not None
fault_proxy = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fault_proxy  # dataclasses look their module up there
_spec.loader.exec_module(fault_proxy)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Backends:
    """What the session's servers registered; `apply()` makes it the storage configuration."""

    configs: dict[str, storage.Storage]

    def apply(self, **overrides: storage.Storage) -> None:
        storage.configure(*{**self.configs, **overrides}.values())


@pytest.fixture(scope="session")
def backends() -> Iterator[Backends]:
    b = Backends({"file": storage.Storage(**FAST)})
    b.apply()
    yield b
    storage.configure()


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def _close_sessions() -> AsyncIterator[None]:
    yield
    await storage.close_filesystems()


# ------------------------------------------------------------------ S3: moto server


@dataclass
class S3Server:
    host: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def client(self, endpoint: str | None = None) -> Any:
        import botocore.session

        return botocore.session.get_session().create_client(
            "s3",
            endpoint_url=endpoint or self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )

    def config(self, endpoint: str | None = None, **kw: Any) -> storage.S3:
        args: dict[str, Any] = {**FAST, **kw}
        return storage.S3(
            endpoint=endpoint or self.endpoint, access_key_id="testing", secret_access_key="testing", **args
        )


@pytest.fixture(scope="session")
def s3_server(backends: Backends) -> Iterator[S3Server]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        s3 = S3Server(host, port)
        s3.client().create_bucket(Bucket="contract")
        backends.configs["s3"] = s3.config()
        backends.apply()
        yield s3
    finally:
        server.stop()


@pytest.fixture
def fault_proxy_s3(s3_server: S3Server, backends: Backends) -> Iterator[Any]:
    """A FaultProxy in front of moto; S3 is configured through it for the test's duration."""
    proxy = fault_proxy.FaultProxy(s3_server.host, s3_server.port)
    proxy.start()
    try:
        backends.apply(s3=s3_server.config(endpoint=f"http://127.0.0.1:{proxy.port}", read_timeout=1.0, retries=3))
        yield proxy
    finally:
        backends.apply()
        proxy.stop()


# ------------------------------------------------------------------ GCS: gcp-storage-emulator


@pytest.fixture(scope="session")
def gcs_server(backends: Backends) -> Iterator[str]:
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        port = server._api._httpd.server_address[1]
        endpoint = f"http://127.0.0.1:{port}"
        request = urllib.request.Request(
            f"{endpoint}/storage/v1/b?project=test",
            data=json.dumps({"name": "contract"}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        urllib.request.urlopen(request).close()
        backends.configs["gs"] = storage.GCS(project="test", token="anon", endpoint=endpoint, **FAST)
        backends.apply()
        yield endpoint
    finally:
        server.stop()


# ------------------------------------------------------------------ Azure: Azurite (npm)


def azurite_executable() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: Azurite (the Azure Blob emulator) needs Node.js and npm")
    exe = NODE_DIR / "node_modules" / ".bin" / "azurite-blob"
    if not exe.exists():
        pytest.fail(f"Azurite is not installed; run: npm ci --prefix {os.path.relpath(NODE_DIR)}")
    return exe


@pytest.fixture(scope="session")
def azurite(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = azurite_executable()
    port = free_port()
    workdir = tmp_path_factory.mktemp("azurite")
    args = [str(exe), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence"]
    args += ["--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent"]
    # In memory, run from a scratch folder: nothing is written into the checkout.
    proc = subprocess.Popen(args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # blocks until Azurite says it listens, or exits
            seen.append(line)
            if "successfully listens" in line:
                break
        else:
            pytest.fail("Azurite exited before listening:\n" + "".join(seen))
        connection = (
            f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        )
        # --silent keeps the access log off the pipe, so an unread pipe can never block it.
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(connection) as client:
            client.create_container("contract")
        backends.configs["abfs"] = storage.ABFS(connection_string=connection, **FAST)
        backends.apply()
        yield connection
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


# ------------------------------------------------------------------ the contract's backends

BACKENDS = ["local", "s3", "gcs", "abfs"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path, backends: Backends) -> str:
    """A fresh, empty base URI on one backend: the contract suite runs once per backend."""
    unique = uuid.uuid4().hex[:12]
    kind = request.param
    if kind == "local":
        return str(tmp_path / "store")
    if kind == "s3":
        request.getfixturevalue("s3_server")
        return f"s3://contract/{unique}"
    if kind == "gcs":
        request.getfixturevalue("gcs_server")
        return f"gs://contract/{unique}"
    request.getfixturevalue("azurite")
    return f"abfs://contract/{unique}"
