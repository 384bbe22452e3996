"""Task documentation and links shown beside an action in the UI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from flyteidl2.task import task_definition_pb2


@dataclass(frozen=True)
class Documentation:
    """A task's description, shown in the UI (defaults to the function's docstring when unset)."""

    description: str

    def __post_init__(self) -> None:
        if not isinstance(self.description, str):
            raise TypeError(f"Documentation.description must be a string, got {self.description!r}")

    def to_proto(self) -> task_definition_pb2.DocumentationEntity:
        from flyteidl2.task import task_definition_pb2

        return task_definition_pb2.DocumentationEntity(short_description=self.description)

    @classmethod
    def from_proto(cls, pb: task_definition_pb2.DocumentationEntity) -> Documentation:
        return cls(description=pb.short_description)


@runtime_checkable
class Link(Protocol):
    """A link (logs, dashboards) the UI shows for an action; the backend fills template variables."""

    name: str
    icon_uri: str | None

    def get_link(
        self,
        run_name: str,
        project: str,
        domain: str,
        context: dict[str, str],
        parent_action_name: str,
        action_name: str,
        pod_name: str,
        **kwargs: Any,
    ) -> str: ...
