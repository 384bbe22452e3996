"""Ray tasks: the task class ``TaskEnvironment(plugin_config=RayJobConfig(...))`` selects."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar

from flyte.extend import (
    EngineTaskTemplate,
    LocalEngine,
    PodTemplate,
    Resources,
    SerializationContext,
    TaskPluginRegistry,
    get_proto_extended_resources,
    get_proto_resources,
)
from flyteplugins.ray._config import AutoscalerOptionsConfig, RayJobConfig
from flyteplugins.ray._engine import local_ray

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2
    from flyteidl2.plugins import ray_pb2

P = ParamSpec("P")
R = TypeVar("R")

HEAD_CONTAINER = "ray-head"
WORKER_CONTAINER = "ray-worker"


@dataclass(kw_only=True)
class RayFunctionTask(EngineTaskTemplate[P, R]):
    """A function task run as a Ray job; locally its body runs with a real Ray initialised."""

    plugin_config: RayJobConfig
    task_type: str = "ray"
    engine: ClassVar[LocalEngine[Any, Any]] = local_ray

    def custom_config(self, sctx: SerializationContext) -> dict[str, Any]:
        """The ``flyteidl2.plugins.RayJob`` the backend's Ray plugin (KubeRay) runs, as a dict."""
        # Protobuf and yaml load here, at deploy time, not when a user's module imports the plugin.
        import yaml
        from flyteidl2.plugins.ray_pb2 import HeadGroupSpec, RayCluster, RayJob, WorkerGroupSpec
        from google.protobuf.json_format import MessageToDict

        cfg = self.plugin_config
        head = None
        if cfg.head_node_config is not None:
            node = cfg.head_node_config
            head = HeadGroupSpec(
                ray_start_params=node.ray_start_params,
                k8s_pod=_node_pod(HEAD_CONTAINER, node.pod_template, node.requests, node.limits),
                extended_resources=get_proto_extended_resources(node.requests),
            )
        workers = [
            WorkerGroupSpec(
                group_name=group.group_name,
                replicas=group.replicas,
                min_replicas=group.min_replicas,
                max_replicas=group.max_replicas,
                ray_start_params=group.ray_start_params,
                k8s_pod=_node_pod(WORKER_CONTAINER, group.pod_template, group.requests, group.limits),
                extended_resources=get_proto_extended_resources(group.requests),
            )
            for group in cfg.worker_node_config
        ]
        env = cfg.runtime_env
        job = RayJob(
            ray_cluster=RayCluster(
                head_group_spec=head,
                worker_group_spec=workers,
                enable_autoscaling=cfg.enable_autoscaling,
                autoscaler_options=_autoscaler(cfg.autoscaler_options),
            ),
            # KubeRay before 1.1 reads the base64 JSON form; later versions the YAML form.
            runtime_env=base64.b64encode(json.dumps(env).encode()).decode() if env else None,
            runtime_env_yaml=yaml.dump(env) if env else None,
            ttl_seconds_after_finished=cfg.ttl_seconds_after_finished,
            shutdown_after_job_finishes=cfg.shutdown_after_job_finishes,
        )
        return MessageToDict(job)


def _node_pod(
    container: str, pod: PodTemplate | None, requests: Resources | None, limits: Resources | None
) -> tasks_pb2.K8sPod | None:
    """The node's pod: the user's template (or an empty one) with the resources on its Ray container."""
    if pod is None and requests is None and limits is None:
        return None
    from flyteidl2.core.tasks_pb2 import Container
    from flyteidl2.core.tasks_pb2 import Resources as ResourcesProto

    asked, capped = get_proto_resources(requests), get_proto_resources(limits)
    resources = None
    if asked is not None or capped is not None:
        resources = ResourcesProto(
            requests=list(asked.requests) if asked is not None else [],
            limits=list(capped.requests) if capped is not None else [],
        )
    template = pod if pod is not None else PodTemplate(primary_container_name=container)
    return template.to_proto(Container(resources=resources))


def _autoscaler(opts: AutoscalerOptionsConfig | None) -> ray_pb2.AutoscalerOptions | None:
    if opts is None:
        return None
    from flyteidl2.core.literals_pb2 import KeyValuePair
    from flyteidl2.plugins.ray_pb2 import AutoscalerOptions

    return AutoscalerOptions(
        upscaling_mode=opts.upscaling_mode,  # type: ignore[arg-type]  # the enum's int values
        idle_timeout_seconds=opts.idle_timeout_seconds or 0,
        image=opts.image or "",
        env=[KeyValuePair(key=k, value=v) for k, v in (opts.env or {}).items()],
        resources=get_proto_resources(opts.resources),
    )


TaskPluginRegistry.register(RayJobConfig, RayFunctionTask)
