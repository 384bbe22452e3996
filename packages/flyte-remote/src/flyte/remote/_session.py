"""Which backend ``flyte.remote`` objects talk to, and one :class:`ClientSet` per backend.

``flyte.remote`` may not import the runtime (where ``flyte.init`` lives), so the runtime tells this
module where runs go by calling :func:`configure`; without that, the config file and ``FLYTE_*``
variables (:func:`flyte.config.auto`) decide. ClientSets are created and used only on the SDK's
background loop (every public call goes through :mod:`flyte.syncify`), so their grpc channels
stay bound to one loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyte.errors import InitializationError

if TYPE_CHECKING:
    from flyte.remote._client import ClientSet

DEFAULT_PROJECT = "flytesnacks"
DEFAULT_DOMAIN = "development"


@dataclass(frozen=True)
class Session:
    """A backend and the scope (org, project, domain) runs and tasks are created in."""

    endpoint: str
    insecure: bool = False
    org: str = ""
    project: str = DEFAULT_PROJECT
    domain: str = DEFAULT_DOMAIN

    @property
    def console_base(self) -> str:
        """``http(s)://host:port`` of the backend, for run URLs."""
        from flyte.remote._client import Endpoint

        ep = Endpoint.parse(self.endpoint, self.insecure)
        target = ep.target.removeprefix("dns:///").removeprefix("dns:")
        return f"{'http' if ep.insecure else 'https'}://{target}"


def org_from_endpoint(endpoint: str) -> str:
    """The org used when none is configured: the first label of a host name with more than two
    (``acme.flyte.example.com`` -> ``acme``), else ``""``.

    flyte 2.12.1 applies this rule, so a hosted backend gets the org its host name implies from
    either SDK. It applies it to IP addresses too (``127.0.0.1`` -> ``127``); here an address
    names no org, so the embedded server and its default project are found in the empty org.
    Configure ``org`` (``task.org``) to share runs with flyte 2.12.1 on an address.

    Example:
        >>> org_from_endpoint("dns:///acme.flyte.example.com:443"), org_from_endpoint("127.0.0.1:8090")
        ('acme', '')
    """
    text = endpoint.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    elif text.startswith("dns:"):
        text = text.removeprefix("dns:")
    host = text.lstrip("/").split("/", 1)[0].rsplit("@", 1)[-1]
    if host.startswith("["):  # an IPv6 literal
        return ""
    labels = host.split(":", 1)[0].split(".")
    if len(labels) <= 2 or all(label.isdigit() for label in labels):  # one or two labels, or an IPv4 address
        return ""
    return labels[0]


_configured: Session | None = None
_clients: dict[tuple[str, bool], ClientSet] = {}


def configure(
    endpoint: str,
    *,
    insecure: bool = False,
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
) -> Session:
    """Make ``endpoint`` (and this scope) the backend every ``flyte.remote`` call uses."""
    global _configured
    _configured = Session(
        endpoint=endpoint,
        insecure=insecure,
        org=org or org_from_endpoint(endpoint),
        project=project or DEFAULT_PROJECT,
        domain=domain or DEFAULT_DOMAIN,
    )
    return _configured


def current_session() -> Session:
    """The configured backend, else the one the config file / ``FLYTE_*`` variables name."""
    if _configured is not None:
        return _configured
    from flyte.config import Config

    cfg = Config.auto()
    if not cfg.platform.endpoint:
        raise InitializationError(
            "NoEndpoint",
            "user",
            "no Flyte backend is configured: call flyte.init(endpoint=...) (or set admin.endpoint / "
            "FLYTE_ADMIN_ENDPOINT); `flyte start server` starts a local one",
        )
    return Session(
        endpoint=cfg.platform.endpoint,
        insecure=cfg.platform.insecure,
        org=cfg.task.org or org_from_endpoint(cfg.platform.endpoint),
        project=cfg.task.project or DEFAULT_PROJECT,
        domain=cfg.task.domain or DEFAULT_DOMAIN,
    )


def clients_for(session: Session) -> ClientSet:
    """The one ClientSet for ``session``'s backend (call it on the SDK's background loop)."""
    from flyte.remote._client import ClientSet

    key = (session.endpoint, session.insecure)
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = ClientSet(session.endpoint, insecure=session.insecure)
    return found


def unreachable(session: Session, error: BaseException) -> InitializationError:
    """The error for a backend that does not answer: names it and says how to start one."""
    return InitializationError(
        "EndpointUnreachable",
        "user",
        f"cannot reach the Flyte backend at {session.endpoint!r} ({error}); is it running? "
        "Start the embedded one with `flyte start server`, or point flyte.init(endpoint=...) at yours",
    )


async def check_reachable(session: Session) -> None:
    """SelectCluster, the first call the public client makes; a clear error if nobody answers."""
    import grpc
    from flyteidl2.cluster import payload_pb2
    from flyteidl2.common import identifier_pb2

    request = payload_pb2.SelectClusterRequest(
        project_id=identifier_pb2.ProjectIdentifier(
            organization=session.org, name=session.project, domain=session.domain
        )
    )
    try:
        await clients_for(session).cluster_service.SelectCluster(request, timeout=15)
    except grpc.aio.AioRpcError as e:
        if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise unreachable(session, RuntimeError(e.details() or e.code().name)) from e
        if e.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise


async def call(
    session: Session,
    method: Any,
    request: Any,
    *,
    failure: Callable[[str], BaseException] | None = None,
    not_found: Callable[[str], BaseException] | None = None,
    exists: Callable[[str], BaseException] | None = None,
) -> Any:
    """One unary RPC. An unreachable backend becomes :func:`unreachable`'s error; NOT_FOUND becomes
    ``not_found(details)`` and ALREADY_EXISTS ``exists(details)`` when given; any other failure
    becomes ``failure("<CODE>: <details>")`` when given, else the grpc error itself.
    """
    import grpc

    try:
        return await method(request)
    except grpc.aio.AioRpcError as e:
        if e.code() == grpc.StatusCode.UNAVAILABLE:
            raise unreachable(session, RuntimeError(e.details() or "unavailable")) from e
        if not_found is not None and e.code() == grpc.StatusCode.NOT_FOUND:
            raise not_found(e.details() or "not found") from e
        if exists is not None and e.code() == grpc.StatusCode.ALREADY_EXISTS:
            raise exists(e.details() or "already exists") from e
        if failure is not None:
            raise failure(f"{e.code().name}: {e.details()}") from e
        raise
