"""Resources in the flyteidl2 forms plugin custom configs embed (names as in flyte 2.12's ``flyte.extend``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2

    from flyte.models import Resources

# The container of a pod template that runs the task, unless the template names another.
PRIMARY_CONTAINER_DEFAULT_NAME = "primary"


def get_proto_resources(resources: Resources | None) -> tasks_pb2.Resources | None:
    """CPU, memory, GPU count and disk as ``flyteidl2.core.Resources``; None when nothing is asked for."""
    return resources.to_proto() if resources is not None else None


def get_proto_extended_resources(resources: Resources | None) -> tasks_pb2.ExtendedResources | None:
    """Accelerator model and shared memory as ``flyteidl2.core.ExtendedResources``; None when neither is set."""
    return resources.to_extended_proto() if resources is not None else None
