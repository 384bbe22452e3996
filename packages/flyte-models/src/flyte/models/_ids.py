"""Identifiers of runs, actions and tasks, and the deterministic names of child actions.

A run is one execution tree; every node of it is an *action* (the root action is ``a0``). A task
is a deployable function, identified by (org, project, domain, name, version).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyteidl2.common import identifier_pb2
    from flyteidl2.core import identifier_pb2 as core_identifier_pb2
    from flyteidl2.task import task_definition_pb2

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


# Every two-digit base36 string, so a conversion takes one big-int division per six digits and
# small-int lookups for the rest: naming a child action sits on the hot path of every task call.
_PAIRS = [a + b for a in _BASE36 for b in _BASE36]
_CHUNK = 36**6


def _base36(data: bytes) -> str:
    num = int.from_bytes(data, "big")
    if num == 0:
        return "0"
    chunks = []
    while num:
        num, rem = divmod(num, _CHUNK)
        hi, lo = divmod(rem, 1296)
        top, mid = divmod(hi, 1296)
        chunks.append(_PAIRS[top] + _PAIRS[mid] + _PAIRS[lo])
    return "".join(reversed(chunks)).lstrip("0")


def child_action_name(
    parent_action_name: str, inputs_hash: str, task_hash: str, call_seq: int, group: str | None = None
) -> str:
    """The name of the child action a parent creates when it calls a task.

    The name is a pure function of where the call happens and what it is: the parent's name, the
    hash of the serialized inputs, the task's identity hash, how many times the parent has called
    this task before (``call_seq``, from 1) and the enclosing ``flyte.group``. Replaying a parent
    after a crash or a retry therefore finds its earlier children under the same names, which is
    what makes recovery possible. The format (md5 of the ``-``-joined parts, base36, lowercase) is
    the one flyte 2.12.1 uses, so runs started by either SDK name their children alike.

    Example:
        >>> child_action_name("a0", "ih", "th", 1)
        '85hvno29yql9omdo61m0c0hjo'
    """
    if call_seq < 0:
        raise ValueError(f"call_seq must be zero or positive, got {call_seq}")
    parts = f"{parent_action_name}-{inputs_hash}-{task_hash}-{call_seq}" + (f"-{group}" if group else "")
    import hashlib

    # md5 is not used for security: it is a stable 128-bit fingerprint that keeps names short.
    return _base36(hashlib.md5(parts.encode()).digest())


@dataclass(frozen=True)
class RunID:
    """A run: ``org/project/domain/name``."""

    name: str
    project: str = ""
    domain: str = ""
    org: str = ""

    def to_proto(self) -> identifier_pb2.RunIdentifier:
        from flyteidl2.common import identifier_pb2

        return identifier_pb2.RunIdentifier(org=self.org, project=self.project, domain=self.domain, name=self.name)

    @classmethod
    def from_proto(cls, pb: identifier_pb2.RunIdentifier) -> RunID:
        return cls(name=pb.name, project=pb.project, domain=pb.domain, org=pb.org)


@dataclass(frozen=True, kw_only=True, repr=False)
class ActionID:
    """One action of a run.

    Keyword-only and with optional run coordinates, as in flyte 2.12.1, so code that builds
    ``ActionID(name=..., run_name=...)`` keeps working. ``run_name`` defaults to ``name`` (a root
    action of a run named after it).
    """

    name: str
    run_name: str | None = None
    project: str | None = None
    domain: str | None = None
    org: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("ActionID.name must be a non-empty string")
        if self.run_name is None:
            object.__setattr__(self, "run_name", self.name)

    def __repr__(self) -> str:
        extra = "".join(
            f", {k}={v!r}"
            for k, v in (
                ("run_name", self.run_name),
                ("project", self.project),
                ("domain", self.domain),
                ("org", self.org),
            )
            if v is not None
        )
        return f"ActionID({self.name!r}{extra})"

    @classmethod
    def create_random(cls) -> ActionID:
        """A fresh root action whose run has the same random name."""
        name = _random_name()
        return cls(name=name, run_name=name)

    @property
    def run(self) -> RunID:
        return RunID(
            name=self.run_name or self.name, project=self.project or "", domain=self.domain or "", org=self.org or ""
        )

    def new_sub_action(self, name: str | None = None) -> ActionID:
        """A child action in the same run; a random name when none is given."""
        return _with_name(self, name or _random_name())

    def new_sub_action_from(self, task_call_seq: int, task_hash: str, input_hash: str, group: str | None) -> ActionID:
        """The child for a task call, named deterministically by :func:`child_action_name`."""
        return _with_name(self, child_action_name(self.name, input_hash, task_hash, task_call_seq, group))

    def unique_id_str(self) -> str:
        """``project-domain-run-action``: unique within an org, usable in paths and log lines."""
        return f"{self.project}-{self.domain}-{self.run_name}-{self.name}"

    def to_proto(self) -> identifier_pb2.ActionIdentifier:
        from flyteidl2.common import identifier_pb2

        return identifier_pb2.ActionIdentifier(run=self.run.to_proto(), name=self.name)

    @classmethod
    def from_proto(cls, pb: identifier_pb2.ActionIdentifier) -> ActionID:
        # proto3 strings cannot be absent: an empty coordinate was never set.
        return cls(
            name=pb.name,
            run_name=pb.run.name or None,
            project=pb.run.project or None,
            domain=pb.run.domain or None,
            org=pb.run.org or None,
        )


def _random_name() -> str:
    import uuid  # imports `platform`; only random names need it

    return str(uuid.uuid4())


def _with_name(action: ActionID, name: str) -> ActionID:
    return ActionID(name=name, run_name=action.run_name, project=action.project, domain=action.domain, org=action.org)


@dataclass(frozen=True)
class TaskID:
    """A deployed task version: ``org/project/domain/name@version``."""

    name: str
    version: str = ""
    project: str = ""
    domain: str = ""
    org: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("TaskID.name must be a non-empty string")

    def with_version(self, version: str) -> TaskID:
        return replace(self, version=version)

    def to_proto(self) -> task_definition_pb2.TaskIdentifier:
        """The identifier the TaskService uses (``flyteidl2.task.TaskIdentifier``)."""
        from flyteidl2.task import task_definition_pb2

        return task_definition_pb2.TaskIdentifier(
            org=self.org, project=self.project, domain=self.domain, name=self.name, version=self.version
        )

    @classmethod
    def from_proto(cls, pb: task_definition_pb2.TaskIdentifier) -> TaskID:
        return cls(name=pb.name, version=pb.version, project=pb.project, domain=pb.domain, org=pb.org)

    def to_core_identifier(self) -> core_identifier_pb2.Identifier:
        """The identifier inside a task template (``flyteidl2.core.Identifier`` of resource type TASK)."""
        from flyteidl2.core import identifier_pb2 as core

        return core.Identifier(
            resource_type=core.ResourceType.TASK,
            project=self.project,
            domain=self.domain,
            name=self.name,
            version=self.version,
            org=self.org,
        )

    @classmethod
    def from_core_identifier(cls, pb: core_identifier_pb2.Identifier) -> TaskID:
        from flyteidl2.core import identifier_pb2 as core

        if pb.resource_type not in (core.ResourceType.TASK, core.ResourceType.UNSPECIFIED):
            kind = core.ResourceType.Name(pb.resource_type)
            raise ValueError(f"identifier {pb.name!r} names a {kind}, expected a TASK")
        return cls(name=pb.name, version=pb.version, project=pb.project, domain=pb.domain, org=pb.org)
