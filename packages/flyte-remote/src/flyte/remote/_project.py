"""``flyte.remote.Project``: the projects of a backend (create, get, list, update, archive)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Literal

from flyte.remote._errors import AlreadyExistsError, ProjectNotFoundError
from flyte.remote._session import Session, call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.project import project_service_pb2


def _failure(message: str) -> Exception:
    return ValueError(message)


class Project:
    """A project: its id, display name, description, labels, domains and state.

    Example:
        >>> flyte.remote.Project.create("ml", description="models")  # doctest: +SKIP
        >>> [p.id for p in flyte.remote.Project.listall()]  # doctest: +SKIP
    """

    def __init__(self, pb2: project_service_pb2.Project, session: Session):
        self.pb2 = pb2
        self._session = session

    @property
    def id(self) -> str:
        return str(self.pb2.id)

    @property
    def name(self) -> str:
        return str(self.pb2.name)

    @property
    def description(self) -> str:
        return str(self.pb2.description)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.pb2.labels.values)

    @property
    def domains(self) -> list[str]:
        return [d.id for d in self.pb2.domains]

    @property
    def archived(self) -> bool:
        from flyteidl2.project import project_service_pb2

        return bool(self.pb2.state == project_service_pb2.PROJECT_STATE_ARCHIVED)

    def __repr__(self) -> str:
        return f"Project(id={self.id!r}, name={self.name!r}, archived={self.archived})"

    @syncify
    @classmethod
    async def get(cls, id: str) -> Project:
        """The project ``id``.

        Raises:
            ProjectNotFoundError: there is no such project.
        """
        from flyteidl2.project import project_service_pb2

        session = current_session()
        response = await call(
            session,
            clients_for(session).project_service.GetProject,
            project_service_pb2.GetProjectRequest(id=id, org=session.org),
            not_found=ProjectNotFoundError,
            failure=_failure,
        )
        return cls(response.project, session)

    @syncify
    @classmethod
    async def create(
        cls, id: str, name: str | None = None, description: str = "", labels: Mapping[str, str] | None = None
    ) -> Project:
        """Create project ``id`` (``name`` is its display name, ``id`` by default).

        Raises:
            AlreadyExistsError: a project ``id`` exists.
            ValueError: ``id`` is not a valid project name.
        """
        from flyteidl2.project import project_service_pb2
        from flyteidl2.task import run_pb2

        session = current_session()
        project = project_service_pb2.Project(
            id=id,
            name=name or id,
            org=session.org,
            description=description,
            labels=run_pb2.Labels(values=dict(labels or {})),
            state=project_service_pb2.PROJECT_STATE_ACTIVE,
        )
        await call(
            session,
            clients_for(session).project_service.CreateProject,
            project_service_pb2.CreateProjectRequest(project=project),
            exists=AlreadyExistsError,
            failure=_failure,
        )
        return await cls.get.aio(id)

    @syncify
    @classmethod
    async def update(
        cls,
        id: str,
        name: str | None = None,
        description: str | None = None,
        labels: Mapping[str, str] | None = None,
        state: Literal["active", "archived"] | None = None,
    ) -> Project:
        """Change what is given of project ``id``; the rest stays as it is.

        Raises:
            ProjectNotFoundError: there is no such project.
        """
        from flyteidl2.project import project_service_pb2

        project = (await cls.get.aio(id)).pb2
        session = current_session()
        if name is not None:
            project.name = name
        if description is not None:
            project.description = description
        if labels is not None:
            project.labels.values.clear()
            project.labels.values.update(labels)
        if state is not None:
            states = {
                "active": project_service_pb2.PROJECT_STATE_ACTIVE,
                "archived": project_service_pb2.PROJECT_STATE_ARCHIVED,
            }
            if state not in states:
                raise ValueError(f"state must be 'active' or 'archived', got {state!r}")
            project.state = states[state]
        await call(
            session,
            clients_for(session).project_service.UpdateProject,
            project_service_pb2.UpdateProjectRequest(project=project),
            not_found=ProjectNotFoundError,
            failure=_failure,
        )
        return await cls.get.aio(id)

    @syncify
    async def archive(self) -> Project:
        """Archive the project (Flyte does not delete projects); :meth:`unarchive` brings it back."""
        return await Project.update.aio(self.id, state="archived")

    @syncify
    async def unarchive(self) -> Project:
        return await Project.update.aio(self.id, state="active")

    @syncify
    @classmethod
    async def listall(
        cls, filters: str | None = None, archived: bool = False, limit: int = 100
    ) -> AsyncIterator[Project]:
        """Active projects (archived ones with ``archived=True``) by id, at most ``limit``.

        ``filters`` takes Flyte admin's form, e.g. ``"contains(name,ml)"``.
        """
        from flyteidl2.project import project_service_pb2

        session = current_session()
        state = project_service_pb2.PROJECT_STATE_ARCHIVED if archived else project_service_pb2.PROJECT_STATE_ACTIVE
        combined = "+".join(f for f in (filters, f"eq(state,{state})") if f)
        token, seen = "", 0
        while seen < limit:
            response = await call(
                session,
                clients_for(session).project_service.ListProjects,
                project_service_pb2.ListProjectsRequest(
                    limit=min(100, limit - seen), token=token, filters=combined, org=session.org
                ),
                failure=_failure,
            )
            for pb in response.projects.projects:
                seen += 1
                yield cls(pb, session)
                if seen >= limit:
                    return
            token = response.projects.token
            if not token or not response.projects.projects:
                return
