"""``RayJobConfig`` and its parts: the Ray cluster a Ray task runs on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from flyte.extend import PodTemplate, Resources


@dataclass
class HeadNodeConfig:
    """The head node.

    Args:
        ray_start_params: ``ray start`` options (``{"num-cpus": "2"}``). Locally ``num-cpus`` and
            ``object-store-memory`` (bytes) size the local Ray.
        pod_template: the head pod.
        requests: what the head container asks for.
        limits: the head container's limits.
    """

    ray_start_params: dict[str, str] | None = None
    pod_template: PodTemplate | None = None
    requests: Resources | None = None
    limits: Resources | None = None

    def __post_init__(self) -> None:
        _check_node(self, "HeadNodeConfig")


@dataclass
class WorkerNodeConfig:
    """A group of worker nodes.

    Args:
        group_name: the group's name, unique within the job.
        replicas: how many workers (0 or more).
        min_replicas: the autoscaler's lower bound (at most ``replicas``).
        max_replicas: the autoscaler's upper bound (at least ``replicas``).
        ray_start_params: ``ray start`` options for the workers.
        pod_template: the worker pod.
        requests: what each worker container asks for.
        limits: each worker container's limits.
    """

    group_name: str
    replicas: int
    min_replicas: int | None = None
    max_replicas: int | None = None
    ray_start_params: dict[str, str] | None = None
    pod_template: PodTemplate | None = None
    requests: Resources | None = None
    limits: Resources | None = None

    def __post_init__(self) -> None:
        where = f"WorkerNodeConfig({self.group_name!r})"
        if not isinstance(self.group_name, str) or not self.group_name:
            raise ValueError(f"WorkerNodeConfig.group_name must be a non-empty string, got {self.group_name!r}")
        _check_count(self.replicas, f"{where}.replicas", optional=False)
        _check_count(self.min_replicas, f"{where}.min_replicas")
        _check_count(self.max_replicas, f"{where}.max_replicas")
        if self.min_replicas is not None and self.min_replicas > self.replicas:
            raise ValueError(f"{where}: min_replicas ({self.min_replicas}) exceeds replicas ({self.replicas})")
        if self.max_replicas is not None and self.max_replicas < self.replicas:
            raise ValueError(f"{where}: max_replicas ({self.max_replicas}) is below replicas ({self.replicas})")
        _check_node(self, where)


@dataclass
class AutoscalerOptionsConfig:
    """The Ray autoscaler sidecar.

    Args:
        upscaling_mode: one of :class:`AutoscalerOptionsConfig.UpscalingMode`.
        idle_timeout_seconds: seconds before an idle node is removed.
        image: the autoscaler container's image.
        env: the autoscaler container's environment.
        resources: what the autoscaler container asks for.
    """

    class UpscalingMode:
        """The values of ``flyteidl2.plugins.AutoscalerOptions.UpscalingMode``."""

        UNSPECIFIED: ClassVar[int] = 0
        DEFAULT: ClassVar[int] = 1
        AGGRESSIVE: ClassVar[int] = 2
        CONSERVATIVE: ClassVar[int] = 3

    upscaling_mode: int | None = None
    idle_timeout_seconds: int | None = None
    image: str | None = None
    env: dict[str, str] | None = None
    resources: Resources | None = None

    def __post_init__(self) -> None:
        if self.upscaling_mode is not None and self.upscaling_mode not in (0, 1, 2, 3):
            raise ValueError(
                f"AutoscalerOptionsConfig.upscaling_mode must be an AutoscalerOptionsConfig.UpscalingMode value, "
                f"got {self.upscaling_mode!r}"
            )
        _check_count(self.idle_timeout_seconds, "AutoscalerOptionsConfig.idle_timeout_seconds")
        _check_string_map(self.env, "AutoscalerOptionsConfig.env")
        if self.resources is not None and not isinstance(self.resources, Resources):
            raise TypeError(f"AutoscalerOptionsConfig.resources must be a flyte.Resources, got {self.resources!r}")


@dataclass
class RayJobConfig:
    """Run the task as a Ray job: a real local Ray locally, a RayJob (KubeRay) on a cluster.

    Args:
        worker_node_config: the worker groups.
        head_node_config: the head node.
        enable_autoscaling: let the autoscaler add and remove workers.
        autoscaler_options: the autoscaler's settings.
        runtime_env: Ray's runtime environment for the job (on a cluster; a local run uses this
            process's environment).
        address: an existing Ray cluster to connect to (``"host:port"`` or ``"ray://host:port"``)
            instead of starting one.
        shutdown_after_job_finishes: delete the cluster when the job ends.
        ttl_seconds_after_finished: keep the cluster this long after the job ends.

    Example:
        >>> RayJobConfig(worker_node_config=[WorkerNodeConfig("workers", replicas=2)]).worker_node_config[0].replicas
        2
    """

    worker_node_config: list[WorkerNodeConfig]
    head_node_config: HeadNodeConfig | None = None
    enable_autoscaling: bool = False
    autoscaler_options: AutoscalerOptionsConfig | None = None
    runtime_env: dict[str, Any] | None = None
    address: str | None = None
    shutdown_after_job_finishes: bool = False
    ttl_seconds_after_finished: int | None = None

    def __post_init__(self) -> None:
        groups = self.worker_node_config
        if not isinstance(groups, (list, tuple)) or not all(isinstance(g, WorkerNodeConfig) for g in groups):
            raise TypeError(f"RayJobConfig.worker_node_config must be a list of WorkerNodeConfig, got {groups!r}")
        self.worker_node_config = list(groups)
        names = [g.group_name for g in groups]
        if len(set(names)) != len(names):
            raise ValueError(f"RayJobConfig.worker_node_config group names must be unique, got {names}")
        if self.head_node_config is not None and not isinstance(self.head_node_config, HeadNodeConfig):
            raise TypeError(f"RayJobConfig.head_node_config must be a HeadNodeConfig, got {self.head_node_config!r}")
        if self.address is not None and (not isinstance(self.address, str) or not self.address.strip()):
            raise ValueError(f"RayJobConfig.address must be a non-empty 'host:port' string, got {self.address!r}")
        if self.runtime_env is not None and not isinstance(self.runtime_env, Mapping):
            raise TypeError(f"RayJobConfig.runtime_env must be a dict, got {type(self.runtime_env).__name__}")
        _check_count(self.ttl_seconds_after_finished, "RayJobConfig.ttl_seconds_after_finished")


def _check_count(value: object, where: str, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{where} must be an int, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{where} must not be negative, got {value}")


def _check_string_map(value: object, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise TypeError(f"{where} must map strings to strings (write '2', not 2), got {value!r}")


def _check_node(node: HeadNodeConfig | WorkerNodeConfig, where: str) -> None:
    _check_string_map(node.ray_start_params, f"{where}.ray_start_params")
    if node.pod_template is not None and not isinstance(node.pod_template, PodTemplate):
        raise TypeError(f"{where}.pod_template must be a flyte.PodTemplate, got {type(node.pod_template).__name__}")
    for name in ("requests", "limits"):
        value = getattr(node, name)
        if value is not None and not isinstance(value, Resources):
            raise TypeError(f"{where}.{name} must be a flyte.Resources, got {type(value).__name__}")
