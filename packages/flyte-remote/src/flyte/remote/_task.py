"""``flyte.remote.Task``: a deployed task, fetched lazily, that ``flyte.run`` can start by reference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from flyte.remote._session import Session, call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.core import interface_pb2
    from flyteidl2.task import task_definition_pb2


def _not_found(message: str) -> Exception:
    from flyte.errors import RemoteTaskNotFoundError

    return RemoteTaskNotFoundError(message)


@dataclass(frozen=True)
class TaskDetails:
    """A deployed task version: its identity, spec and typed interface."""

    pb2: task_definition_pb2.TaskDetails

    @property
    def name(self) -> str:
        return str(self.pb2.task_id.name)

    @property
    def version(self) -> str:
        return str(self.pb2.task_id.version)

    @property
    def project(self) -> str:
        return str(self.pb2.task_id.project)

    @property
    def domain(self) -> str:
        return str(self.pb2.task_id.domain)

    @property
    def task_id(self) -> task_definition_pb2.TaskIdentifier:
        return self.pb2.task_id

    @property
    def interface(self) -> interface_pb2.TypedInterface:
        return self.pb2.spec.task_template.interface

    @property
    def deployed_at(self) -> datetime | None:
        ts = self.pb2.metadata.deployed_at
        present = self.pb2.metadata.HasField("deployed_at")
        return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, timezone.utc) if present else None

    def input_names(self) -> list[str]:
        return [v.key for v in self.interface.inputs.variables]

    def defaults(self) -> dict[str, Any]:
        """The inputs that have defaults, as literals (flyteidl2 ``Literal`` messages)."""
        return {p.name: p.parameter.default for p in self.pb2.spec.default_inputs if p.parameter.HasField("default")}


class Task:
    """A task deployed on the backend, resolved on first use.

    ``Task.get`` makes no call: the task is looked up (a version, or the latest deployed one) when
    :meth:`fetch` runs, which ``flyte.run`` does when it is given this object.

    Example:
        >>> task = flyte.remote.Task.get("env.main", auto_version="latest")  # doctest: +SKIP
        >>> run = flyte.run(task, n=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        name: str,
        session: Session,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        details: TaskDetails | None = None,
    ):
        self.name = name
        self._session = session
        self.project = project or session.project
        self.domain = domain or session.domain
        self._version = version
        self._details = details

    @property
    def version(self) -> str | None:
        """The version asked for, or the one found once fetched (None while 'latest' is unresolved)."""
        return self._details.version if self._details is not None else self._version

    @property
    def session(self) -> Session:
        return self._session

    def __repr__(self) -> str:
        return f"Task(name={self.name!r}, project={self.project!r}, domain={self.domain!r}, version={self.version!r})"

    @classmethod
    def get(
        cls,
        name: str,
        project: str | None = None,
        domain: str | None = None,
        version: str | None = None,
        auto_version: Literal["latest"] | None = None,
    ) -> Task:
        """A reference to deployed task ``name``: ``version``, or ``auto_version="latest"``.

        Raises:
            ValueError: neither or both of ``version`` and ``auto_version`` were given.
        """
        if not name:
            raise ValueError("Task.get needs the task's name (env.function)")
        if (version is None) == (auto_version is None):
            raise ValueError(
                f"Task.get({name!r}) needs exactly one of version='...' or auto_version='latest'"
                + (f", got both (version={version!r})" if version is not None else "")
            )
        if auto_version is not None and auto_version != "latest":
            raise ValueError(f"auto_version must be 'latest', got {auto_version!r}")
        return cls(name, current_session(), project, domain, version)

    @syncify
    async def fetch(self) -> TaskDetails:
        """Look the task up (once); later calls return the same details.

        Raises:
            RemoteTaskNotFoundError: the task (or that version) is not deployed.
        """
        if self._details is None:
            version = self._version or await self._latest_version()
            self._details = await _task_details(self._session, self.project, self.domain, self.name, version)
        return self._details

    async def _latest_version(self) -> str:
        from flyteidl2.common import identifier_pb2, list_pb2
        from flyteidl2.task import task_service_pb2

        request = task_service_pb2.ListTasksRequest(
            project_id=identifier_pb2.ProjectIdentifier(
                organization=self._session.org, name=self.project, domain=self.domain
            ),
            request=list_pb2.ListRequest(
                limit=1,
                filters=[list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=[self.name])],
                sort_by_fields=[list_pb2.Sort(key="deployed_at", direction=list_pb2.Sort.DESCENDING)],
            ),
        )
        response = await call(self._session, clients_for(self._session).task_service.ListTasks, request)
        if not response.tasks:
            raise _not_found(f"task {self.name!r} is not deployed in {self.project}/{self.domain}")
        return str(response.tasks[0].task_id.version)

    @syncify
    @classmethod
    async def listall(
        cls,
        by_task_name: str | None = None,
        limit: int = 100,
        project: str | None = None,
        domain: str | None = None,
    ) -> AsyncIterator[Task]:
        """Deployed task versions, newest first; ``by_task_name`` keeps the versions of one task."""
        from flyteidl2.common import identifier_pb2, list_pb2
        from flyteidl2.task import task_service_pb2

        session = current_session()
        project_id = identifier_pb2.ProjectIdentifier(
            organization=session.org, name=project or session.project, domain=domain or session.domain
        )
        filters = []
        if by_task_name:
            filters.append(list_pb2.Filter(function=list_pb2.Filter.EQUAL, field="name", values=[by_task_name]))
        token, seen = "", 0
        while seen < limit:
            response = await call(
                session,
                clients_for(session).task_service.ListTasks,
                task_service_pb2.ListTasksRequest(
                    project_id=project_id,
                    request=list_pb2.ListRequest(limit=min(100, limit - seen), token=token, filters=filters),
                ),
            )
            for pb in response.tasks:
                seen += 1
                tid = pb.task_id
                yield cls(tid.name, session, tid.project, tid.domain, tid.version)
                if seen >= limit:
                    return
            token = response.token
            if not token or not response.tasks:
                return


async def _task_details(session: Session, project: str, domain: str, name: str, version: str) -> TaskDetails:
    from flyteidl2.task import task_definition_pb2, task_service_pb2

    request = task_service_pb2.GetTaskDetailsRequest(
        task_id=task_definition_pb2.TaskIdentifier(
            org=session.org, project=project, domain=domain, name=name, version=version
        )
    )
    response = await call(
        session,
        clients_for(session).task_service.GetTaskDetails,
        request,
        not_found=lambda _: _not_found(f"task {name!r} version {version!r} is not deployed in {project}/{domain}"),
    )
    return TaskDetails(response.details)
