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
    """The client tasks use; the cluster, when the engine started one; the address setting it replaced."""

    client: Client
    cluster: LocalCluster | None
    previous_address: Any = None


class LocalDask(LocalEngine[Dask, DaskRun]):
    """A ``LocalCluster`` sized from ``Dask.workers`` (one thread per worker process, no dashboard).

    When a scheduler address is already configured (``DASK_SCHEDULER_ADDRESS`` or dask's
    ``scheduler-address`` setting) the engine connects to it instead of starting a cluster.
    While the cluster runs, its client is the default and its address is dask's
    ``scheduler-address``, so plain ``Client()`` in a task body connects to it.
    """

    name = "dask"

    def start(self, config: Dask) -> DaskRun:
        from distributed import Client, LocalCluster

        import dask

        address = dask.config.get(_ADDRESS_KEY, None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
        if address:
            return DaskRun(Client(address, set_as_default=True), cluster=None)  # type: ignore[no-untyped-call]
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
        dask.config.set({_ADDRESS_KEY: cluster.scheduler_address})
        return DaskRun(client, cluster, previous)

    def stop(self, handle: DaskRun) -> None:
        import dask

        if handle.cluster is not None:
            dask.config.set({_ADDRESS_KEY: handle.previous_address})
        # The client first: closing it releases its futures while the scheduler can still hear it.
        handle.client.close()  # type: ignore[no-untyped-call]
        if handle.cluster is not None:
            handle.cluster.close()

    def context_data(self, handle: DaskRun) -> dict[str, Any]:
        return {"dask_client": handle.client}


def local_workers(config: Dask) -> int:
    """Worker processes for a local cluster: the configured count, at most one per CPU."""
    wanted = config.workers.number_of_workers or 1
    return max(1, min(wanted, os.cpu_count() or 1))


local_dask = LocalDask()
