"""ClusterService: every operation is served by this endpoint, which an empty answer says."""

from __future__ import annotations

from typing import Any

from connectrpc.request import RequestContext
from flyteidl2.cluster import payload_pb2
from flyteidl2.cluster.service_connect import ClusterService


class ClusterServiceImpl(ClusterService):
    async def select_cluster(
        self, request: payload_pb2.SelectClusterRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.SelectClusterResponse:
        return payload_pb2.SelectClusterResponse()
