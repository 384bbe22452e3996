"""The local Ray engine: ``ray.init`` on this machine, or a connection to ``RayJobConfig.address``."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from flyte.extend import LocalEngine, RuntimeUserError
from flyteplugins.ray._config import RayJobConfig

# Small: a local run's objects are small, and Ray would otherwise reserve 30% of the machine's RAM.
DEFAULT_OBJECT_STORE_BYTES = 128 * 1024 * 1024
_PROBE_TIMEOUT_S = 3.0
_UV_HOOK = "RAY_ENABLE_UV_RUN_RUNTIME_ENV"


@dataclass
class RayRun:
    """Whether the engine started (or connected) Ray and must shut it down, and its temp folder."""

    owned: bool
    temp_dir: str | None = None


class LocalRay(LocalEngine[RayJobConfig, RayRun]):
    """Ray on this machine: one CPU per configured node (head and worker replicas), at most the
    machine's, no dashboard, a small object store and a private temp folder; or, with an address
    (``RayJobConfig.address`` or ``RAY_ADDRESS``), a connection to that cluster. A Ray this process
    already initialised is used as it is and left running.

    Between tasks Ray stays up (``LocalEngine.idle_timeout``); the next task reuses it when it asks
    for the same address or the same local sizes (CPUs, object store), and restarts it otherwise.
    """

    name = "ray"

    def check(self, config: RayJobConfig) -> None:
        address = _address(config)
        if address is not None:
            _probe(address)
        _local_sizes(config)  # a bad number fails here, before Ray starts

    def start(self, config: RayJobConfig) -> RayRun:
        address = _address(config)
        if address is None:
            _local_environment()
        import ray

        if ray.is_initialized():
            return RayRun(owned=False)
        if address is not None:
            ray.init(address=address)
            return RayRun(owned=True)
        num_cpus, object_store = _local_sizes(config)
        temp_dir = tempfile.mkdtemp(prefix="flyte-ray-")
        try:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=object_store,
                include_dashboard=False,
                _temp_dir=temp_dir,
            )
        except BaseException:
            shutil.rmtree(temp_dir, ignore_errors=True)
            raise
        return RayRun(owned=True, temp_dir=temp_dir)

    def serves(self, handle: RayRun, running: RayJobConfig, wanted: RayJobConfig) -> bool:
        if not handle.owned:  # a Ray this process initialised itself: used as it is
            return True
        if _address(running) != _address(wanted):
            return False
        return _address(wanted) is not None or _local_sizes(running) == _local_sizes(wanted)

    def stop(self, handle: RayRun) -> None:
        import ray

        if handle.owned:
            ray.shutdown()
        if handle.temp_dir is not None:
            shutil.rmtree(handle.temp_dir, ignore_errors=True)


def _local_environment() -> None:
    """Settings Ray reads from the environment, for Ray on this machine (explicit ones win)."""
    # Otherwise Ray writes an auth token under the home folder and expects it on every connection.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # Under `uv run`, Ray would rebuild the driver's uv project in a new environment for its
    # workers (a minute and more); workers of a local Ray run this same interpreter already.
    if os.environ.setdefault(_UV_HOOK, "0") == "0" and "ray" in sys.modules:
        # Ray read the variable when it was imported: set what it read, if it is still there.
        constants = sys.modules.get("ray._private.ray_constants")
        if constants is not None and hasattr(constants, _UV_HOOK):
            setattr(constants, _UV_HOOK, False)


def _address(config: RayJobConfig) -> str | None:
    return config.address or os.environ.get("RAY_ADDRESS") or None


def _probe(address: str) -> None:
    """Refuse an address nothing listens on, before ``ray.init`` spends its own long timeout on it."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or port is None:
        raise RuntimeUserError("RayAddressInvalid", f"Ray address {address!r} is not 'host:port' or 'ray://host:port'")
    try:
        socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S).close()
    except OSError as e:
        raise RuntimeUserError(
            "RayAddressUnreachable",
            f"Ray address {address!r} does not answer ({e}); start Ray there (`ray start --head`) "
            "or leave RayJobConfig.address and RAY_ADDRESS unset to run a local Ray",
        ) from None


def _local_sizes(config: RayJobConfig) -> tuple[int, int]:
    """CPUs and object store bytes of a local Ray, from the head's ``ray_start_params`` or the node count."""
    params = (config.head_node_config.ray_start_params if config.head_node_config else None) or {}
    nodes = 1 + sum(g.replicas for g in config.worker_node_config)
    cpus = _int_param(params, "num-cpus") or min(nodes, os.cpu_count() or 1)
    store = _int_param(params, "object-store-memory") or DEFAULT_OBJECT_STORE_BYTES
    return cpus, store


def _int_param(params: dict[str, str], key: str) -> int | None:
    if key not in params:
        return None
    try:
        value = int(params[key])
    except ValueError:
        value = -1
    if value <= 0:
        raise RuntimeUserError(
            "RayConfigInvalid",
            f"HeadNodeConfig.ray_start_params[{key!r}] must be a positive integer, got {params[key]!r}",
        )
    return value


local_ray = LocalRay()
