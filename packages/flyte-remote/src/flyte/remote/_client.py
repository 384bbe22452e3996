"""`ClientSet`: one grpcio aio channel to a backend and a typed stub per flyteidl2 service.

Nothing here is imported by ``import flyte.remote``; grpc and the generated stubs load when a
ClientSet is first created, and each service stub when it is first used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import grpc.aio

    from flyte.config import PlatformConfig

DEFAULT_TIMEOUT_S = 60.0

# Inputs and outputs travel inline up to a few MB; leave headroom over gRPC's 4 MB default.
_MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    """A backend address reduced to what grpc needs: a target and whether to use TLS."""

    target: str
    insecure: bool

    @classmethod
    def parse(cls, endpoint: str, insecure: bool = False) -> Endpoint:
        """Accept ``host:port``, ``dns:///host:port``, ``http://host:port`` and ``https://host``.

        The scheme, when there is one, decides TLS: ``http`` is plaintext whatever ``insecure``
        says, ``https`` is TLS.
        """
        text = endpoint.strip()
        if not text:
            raise ValueError("endpoint is empty; expected host:port, dns:///host:port or http(s)://host[:port]")
        if text.startswith("dns:"):
            return cls(text, insecure)
        if "://" in text:
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https", "grpc", "grpcs") or not parts.hostname:
                raise ValueError(
                    f"endpoint {endpoint!r} is not understood; expected host:port, dns:///host:port "
                    "or http(s)://host[:port]"
                )
            plain = parts.scheme in ("http", "grpc")
            port = parts.port or (80 if plain else 443)
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            return cls(f"{host}:{port}", plain)
        return cls(text, insecure)


class ClientSet:
    """Typed clients for every Flyte 2 service, over one lazily created channel.

    Args:
        endpoint: the backend (see :meth:`Endpoint.parse` for the accepted forms).
        insecure: plaintext instead of TLS (ignored when the endpoint has a scheme).
        api_key: sent as a bearer token; defaults to ``$FLYTE_API_KEY``.
        ca_cert_file_path: a CA bundle to verify the server's certificate with.
        rpc_retries: attempts for an idempotent call that fails with UNAVAILABLE or
            DEADLINE_EXCEEDED (1 means no retry).
        timeout_s: the deadline of a unary call that does not set its own.

    Example:
        >>> clients = ClientSet("localhost:8090", insecure=True)  # doctest: +SKIP
        >>> await clients.run_service.GetRunDetails(request)  # doctest: +SKIP
    """

    def __init__(
        self,
        endpoint: str,
        *,
        insecure: bool = False,
        api_key: str | None = None,
        ca_cert_file_path: str | None = None,
        rpc_retries: int = 3,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ):
        if rpc_retries < 1:
            raise ValueError(f"rpc_retries must be at least 1 (one attempt), got {rpc_retries}")
        self.endpoint = Endpoint.parse(endpoint, insecure)
        self._api_key = api_key if api_key is not None else os.environ.get("FLYTE_API_KEY") or None
        self._ca_cert_file_path = ca_cert_file_path
        self._rpc_retries = rpc_retries
        self._timeout_s = timeout_s
        self._channel: grpc.aio.Channel | None = None
        self._stubs: dict[str, Any] = {}

    @classmethod
    def from_config(cls, platform: PlatformConfig) -> ClientSet:
        """A ClientSet for the backend a :class:`~flyte.config.PlatformConfig` names."""
        if not platform.endpoint:
            raise ValueError("no endpoint configured (admin.endpoint / FLYTE_ADMIN_ENDPOINT); cannot reach a backend")
        return cls(
            platform.endpoint,
            insecure=platform.insecure,
            ca_cert_file_path=platform.ca_cert_file_path,
            rpc_retries=platform.rpc_retries,
        )

    @property
    def channel(self) -> grpc.aio.Channel:
        if self._channel is None:
            self._channel = self._open_channel()
        return self._channel

    def _open_channel(self) -> grpc.aio.Channel:
        import grpc.aio

        from flyte.remote._interceptors import interceptors

        options = [
            ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
            ("grpc.keepalive_time_ms", 30_000),
        ]
        chain = interceptors(self._api_key, self._rpc_retries, self._timeout_s)
        if self.endpoint.insecure:
            return grpc.aio.insecure_channel(self.endpoint.target, options=options, interceptors=chain)
        root = None
        if self._ca_cert_file_path:
            with open(self._ca_cert_file_path, "rb") as f:
                root = f.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=root)
        return grpc.aio.secure_channel(self.endpoint.target, credentials, options=options, interceptors=chain)

    def _stub(self, name: str, factory: Callable[[grpc.aio.Channel], Any]) -> Any:
        stub = self._stubs.get(name)
        if stub is None:
            stub = self._stubs[name] = factory(self.channel)
        return stub

    @property
    def cluster_service(self) -> Any:
        from flyteidl2.cluster import service_pb2_grpc

        return self._stub("cluster_service", service_pb2_grpc.ClusterServiceStub)

    @property
    def dataproxy_service(self) -> Any:
        from flyteidl2.dataproxy import dataproxy_service_pb2_grpc

        return self._stub("dataproxy_service", dataproxy_service_pb2_grpc.DataProxyServiceStub)

    @property
    def logs_service(self) -> Any:
        from flyteidl2.workflow import run_logs_service_pb2_grpc

        return self._stub("logs_service", run_logs_service_pb2_grpc.RunLogsServiceStub)

    @property
    def project_service(self) -> Any:
        from flyteidl2.project import project_service_pb2_grpc

        return self._stub("project_service", project_service_pb2_grpc.ProjectServiceStub)

    @property
    def queue_service(self) -> Any:
        from flyteidl2.workflow import queue_service_pb2_grpc

        return self._stub("queue_service", queue_service_pb2_grpc.QueueServiceStub)

    @property
    def run_service(self) -> Any:
        from flyteidl2.workflow import run_service_pb2_grpc

        return self._stub("run_service", run_service_pb2_grpc.RunServiceStub)

    @property
    def secret_service(self) -> Any:
        from flyteidl2.secret import secret_pb2_grpc

        return self._stub("secret_service", secret_pb2_grpc.SecretServiceStub)

    @property
    def state_service(self) -> Any:
        from flyteidl2.workflow import state_service_pb2_grpc

        return self._stub("state_service", state_service_pb2_grpc.StateServiceStub)

    @property
    def task_service(self) -> Any:
        from flyteidl2.task import task_service_pb2_grpc

        return self._stub("task_service", task_service_pb2_grpc.TaskServiceStub)

    async def close(self) -> None:
        """Close the channel; the ClientSet reopens one if it is used again."""
        if self._channel is not None:
            channel, self._channel = self._channel, None
            self._stubs.clear()
            await channel.close()

    async def __aenter__(self) -> ClientSet:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
