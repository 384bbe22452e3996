"""The local Dask engine: a ``distributed.LocalCluster`` on loopback and its client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flyte.extend import LocalEngine
from flyteplugins.dask._config import Dask

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

# dask's setting for "the scheduler every new Client() connects to"; DASK_SCHEDULER_ADDRESS
# sets it too (the Dask operator gives the job's process that variable on a cluster).
_ADDRESS_KEY = "scheduler-address"


@dataclass
class DaskRun:
    """The client tasks use; the cluster, when the engine started one; the address setting it replaced;
    the configured scheduler it connected to, when it started none."""

    client: Client
    cluster: LocalCluster | None
    previous_address: Any = None
    connected_to: str | None = None


class LocalDask(LocalEngine[Dask, DaskRun]):
    """A ``LocalCluster`` sized from ``Dask.workers`` (one thread per worker process, no dashboard).

    When a scheduler address is already configured (``DASK_SCHEDULER_ADDRESS`` or dask's
    ``scheduler-address`` setting) the engine connects to it instead of starting a cluster.
    While the cluster runs, its client is the default and its address is dask's
    ``scheduler-address``, so plain ``Client()`` in a task body connects to it.

    Between tasks the cluster stays up (``LocalEngine.idle_timeout``); the next task reuses it when
    it asks for the same number of local workers, and restarts it otherwise.
    """

    name = "dask"

    def __init__(self) -> None:
        super().__init__()
        # Schedulers of clusters this engine started. A `with dask.config.set(...)` block that
        # began while one ran restores its address on exit, after the cluster is gone: such an
        # address is stale, not a scheduler someone configured.
        self._own_addresses: set[str] = set()

    def start(self, config: Dask) -> DaskRun:
        from distributed import Client, LocalCluster

        import dask

        address = self._configured_address()
        if address:
            client = Client(address, set_as_default=True)  # type: ignore[no-untyped-call]
            return DaskRun(client, cluster=None, connected_to=address)
        cluster = LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=local_workers(config),
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
        )
        try:
            client = Client(cluster, set_as_default=True)  # type: ignore[no-untyped-call]
        except BaseException:
            cluster.close()
            raise
        previous = dask.config.get(_ADDRESS_KEY, None)
        if previous in self._own_addresses:  # stale: nothing to restore
            previous = None
        self._own_addresses.add(cluster.scheduler_address)
        dask.config.set({_ADDRESS_KEY: cluster.scheduler_address})
        return DaskRun(client, cluster, previous)

    def stop(self, handle: DaskRun) -> None:
        import dask

        # Undo the setting only if it is still ours (a user may have configured another since).
        if handle.cluster is not None and dask.config.get(_ADDRESS_KEY, None) == handle.cluster.scheduler_address:
            dask.config.set({_ADDRESS_KEY: handle.previous_address})
        # The client first: closing it releases its futures while the scheduler can still hear it.
        handle.client.close()  # type: ignore[no-untyped-call]
        if handle.cluster is not None:
            handle.cluster.close()

    def serves(self, handle: DaskRun, running: Dask, wanted: Dask) -> bool:
        address = self._configured_address()
        if handle.cluster is None:  # connected to a configured scheduler: still the one configured?
            return address is not None and address == handle.connected_to
        if address and address != handle.cluster.scheduler_address:
            return False  # another scheduler was configured since: connect to that one
        # Only the worker count shapes a local cluster; images and resources are for a real one.
        return local_workers(running) == local_workers(wanted)

    def _configured_address(self) -> str | None:
        """The scheduler address set in dask's config or the environment, unless it is a stale one of ours."""
        import dask

        address = dask.config.get(_ADDRESS_KEY, None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if not address or (address in self._own_addresses and not self._is_ours_running(str(address))):
            return None
        return str(address)

    def _is_ours_running(self, address: str) -> bool:
        handle = self.handle
        return handle is not None and handle.cluster is not None and handle.cluster.scheduler_address == address

    def context_data(self, handle: DaskRun) -> dict[str, Any]:
        return {"dask_client": handle.client}


def local_workers(config: Dask) -> int:
    """Worker processes for a local cluster: the configured count, at most one per CPU."""
    wanted = config.workers.number_of_workers or 1
    return max(1, min(wanted, os.cpu_count() or 1))


local_dask = LocalDask()
