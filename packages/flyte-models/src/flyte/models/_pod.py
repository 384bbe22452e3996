"""Pod templates: a Kubernetes pod spec the task's container is placed into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flyte.models._frozen import FrozenDict, freeze_str_map

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2


def _k8s_json(obj: Any, where: str) -> Any:
    """A kubernetes.client model (or plain data) as Kubernetes JSON.

    The client's models describe themselves (``openapi_types`` for the fields, ``attribute_map``
    for their JSON names); reading that keeps the client an optional, user-side dependency.
    """
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_k8s_json(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        return {str(k): _k8s_json(v, f"{where}.{k}") for k, v in obj.items()}
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    types, names = getattr(obj, "openapi_types", None), getattr(obj, "attribute_map", None)
    if isinstance(types, Mapping) and isinstance(names, Mapping):
        return {
            names[a]: _k8s_json(getattr(obj, a), f"{where}.{a}") for a in types if getattr(obj, a, None) is not None
        }
    raise TypeError(f"{where} must be a kubernetes V1PodSpec or its JSON as a mapping; found {type(obj).__name__}")


def _pod_spec_dict(pod_spec: Any) -> dict[str, Any]:
    out = _k8s_json(pod_spec, "PodTemplate.pod_spec")
    if not isinstance(out, dict):
        raise TypeError(
            f"PodTemplate.pod_spec must be a kubernetes V1PodSpec or a mapping, got {type(pod_spec).__name__}"
        )
    return out


@dataclass(frozen=True)
class PodTemplate:
    """A pod spec to run the task in; the SDK fills the container named ``primary_container_name``.

    Args:
        pod_spec: a ``kubernetes.client.V1PodSpec`` or the same as a JSON-style mapping.
        primary_container_name: the container that runs the task.
        labels: pod labels.
        annotations: pod annotations.
    """

    pod_spec: Any = None
    primary_container_name: str = "primary"
    labels: Mapping[str, str] | None = None
    annotations: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.primary_container_name, str) or not self.primary_container_name:
            raise ValueError(
                f"PodTemplate.primary_container_name must be a non-empty string, got {self.primary_container_name!r}"
            )
        if self.labels is not None:
            object.__setattr__(self, "labels", freeze_str_map(self.labels, "PodTemplate.labels"))
        if self.annotations is not None:
            object.__setattr__(self, "annotations", freeze_str_map(self.annotations, "PodTemplate.annotations"))
        if self.pod_spec is not None:
            _pod_spec_dict(self.pod_spec)  # fail at construction, not at deploy time

    def to_proto(self, primary: tasks_pb2.Container) -> tasks_pb2.K8sPod:
        """The ``K8sPod`` with the SDK's container merged into the primary container.

        The primary container's image, args, env and resources come from ``primary`` unless the
        pod spec already sets them; other containers are left as they are.
        """
        from flyteidl2.core import tasks_pb2
        from google.protobuf import json_format, struct_pb2

        spec = _pod_spec_dict(self.pod_spec) if self.pod_spec is not None else {}
        containers = [dict(c) for c in spec.get("containers") or []]
        target = next((c for c in containers if c.get("name") == self.primary_container_name), None)
        if target is None:
            target = {"name": self.primary_container_name}
            containers.append(target)
        if primary.image and not target.get("image"):
            target["image"] = primary.image
        if primary.args and not target.get("args"):
            target["args"] = list(primary.args)
        if primary.command and not target.get("command"):
            target["command"] = list(primary.command)
        env = list(target.get("env") or [])
        present = {e.get("name") for e in env}
        env += [{"name": kv.key, "value": kv.value} for kv in primary.env if kv.key not in present]
        if env:
            target["env"] = env
        if primary.HasField("resources") and not target.get("resources"):
            names = tasks_pb2.Resources.ResourceName
            k8s = {"CPU": "cpu", "MEMORY": "memory", "GPU": "nvidia.com/gpu", "EPHEMERAL_STORAGE": "ephemeral-storage"}
            res: dict[str, dict[str, str]] = {}
            for kind, entries in (("requests", primary.resources.requests), ("limits", primary.resources.limits)):
                if entries:
                    res[kind] = {k8s.get(names.Name(e.name), names.Name(e.name).lower()): e.value for e in entries}
            target["resources"] = res
        spec["containers"] = containers
        struct = struct_pb2.Struct()
        json_format.ParseDict(spec, struct)
        return tasks_pb2.K8sPod(
            metadata=tasks_pb2.K8sObjectMetadata(
                labels=dict(self.labels or {}), annotations=dict(self.annotations or {})
            ),
            pod_spec=struct,
            primary_container_name=self.primary_container_name,
        )

    @classmethod
    def from_proto(cls, pb: tasks_pb2.K8sPod) -> PodTemplate:
        from google.protobuf import json_format

        spec = json_format.MessageToDict(pb.pod_spec) if pb.HasField("pod_spec") else None
        return cls(
            pod_spec=FrozenDict(spec) if spec is not None else None,
            primary_container_name=pb.primary_container_name or "primary",
            labels=dict(pb.metadata.labels) or None,
            annotations=dict(pb.metadata.annotations) or None,
        )
