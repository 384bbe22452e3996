"""``flyte.remote.Secret``: secrets on the backend. Values go in; they never come back out.

A secret is scoped to the configured project and domain unless ``project=""`` / ``domain=""``
make it visible to every project (or domain) of the org. A task asks for it with
``TaskEnvironment(secrets=[flyte.Secret(key=NAME, as_env_var=...)])`` and reads it from its
environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal

from flyte.remote._errors import AlreadyExistsError, SecretNotFoundError
from flyte.remote._session import Session, call, clients_for, current_session
from flyte.syncify import syncify

if TYPE_CHECKING:
    from flyteidl2.secret import definition_pb2

SecretType = Literal["regular", "image_pull"]


def _failure(message: str) -> Exception:
    return ValueError(message)


def _identifier(
    session: Session, name: str, project: str | None, domain: str | None
) -> definition_pb2.SecretIdentifier:
    from flyteidl2.secret import definition_pb2

    return definition_pb2.SecretIdentifier(
        name=name,
        organization=session.org,
        project=session.project if project is None else project,
        domain=session.domain if domain is None else domain,
    )


def _spec(value: str | bytes, kind: SecretType) -> definition_pb2.SecretSpec:
    from flyteidl2.secret import definition_pb2

    kinds = {"regular": definition_pb2.SECRET_TYPE_GENERIC, "image_pull": definition_pb2.SECRET_TYPE_IMAGE_PULL_SECRET}
    if kind not in kinds:
        raise ValueError(f"secret type must be 'regular' or 'image_pull', got {kind!r}")
    if isinstance(value, str):
        return definition_pb2.SecretSpec(string_value=value, type=kinds[kind])
    if isinstance(value, bytes):
        return definition_pb2.SecretSpec(binary_value=value, type=kinds[kind])
    raise TypeError(f"a secret's value must be str or bytes, got {value.__class__.__name__}")


class Secret:
    """A secret's name, scope, type and creation time (never its value).

    Example:
        >>> flyte.remote.Secret.create("openai_key", "sk-...")  # doctest: +SKIP
        >>> [s.name for s in flyte.remote.Secret.listall()]  # doctest: +SKIP
    """

    def __init__(self, pb2: definition_pb2.Secret):
        self.pb2 = pb2

    @property
    def name(self) -> str:
        return str(self.pb2.id.name)

    @property
    def project(self) -> str:
        return str(self.pb2.id.project)

    @property
    def domain(self) -> str:
        return str(self.pb2.id.domain)

    @property
    def type(self) -> SecretType:
        from flyteidl2.secret import definition_pb2

        image_pull = self.pb2.secret_metadata.type == definition_pb2.SECRET_TYPE_IMAGE_PULL_SECRET
        return "image_pull" if image_pull else "regular"

    @property
    def created_at(self) -> datetime | None:
        ts = self.pb2.secret_metadata.created_time
        present = self.pb2.secret_metadata.HasField("created_time")
        return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, timezone.utc) if present else None

    def __repr__(self) -> str:
        scope = "/".join(p for p in (self.project, self.domain) if p) or "org-wide"
        return f"Secret(name={self.name!r}, scope={scope!r}, type={self.type!r})"

    @syncify
    @classmethod
    async def create(
        cls,
        name: str,
        value: str | bytes,
        type: SecretType = "regular",
        project: str | None = None,
        domain: str | None = None,
    ) -> None:
        """Store secret ``name`` (in the configured project and domain unless given; ``""``: any).

        Raises:
            AlreadyExistsError: a secret of that name exists in that scope.
        """
        from flyteidl2.secret import payload_pb2

        session = current_session()
        await call(
            session,
            clients_for(session).secret_service.CreateSecret,
            payload_pb2.CreateSecretRequest(
                id=_identifier(session, name, project, domain), secret_spec=_spec(value, type)
            ),
            exists=AlreadyExistsError,
            failure=_failure,
        )

    @syncify
    @classmethod
    async def update(
        cls,
        name: str,
        value: str | bytes,
        type: SecretType = "regular",
        project: str | None = None,
        domain: str | None = None,
    ) -> None:
        """Replace the value of secret ``name``.

        Raises:
            SecretNotFoundError: there is no such secret in that scope.
        """
        from flyteidl2.secret import payload_pb2

        session = current_session()
        await call(
            session,
            clients_for(session).secret_service.UpdateSecret,
            payload_pb2.UpdateSecretRequest(
                id=_identifier(session, name, project, domain), secret_spec=_spec(value, type)
            ),
            not_found=SecretNotFoundError,
            failure=_failure,
        )

    @syncify
    @classmethod
    async def get(cls, name: str, project: str | None = None, domain: str | None = None) -> Secret:
        """The secret a task in that project and domain would get for ``name`` (its metadata).

        Raises:
            SecretNotFoundError: no secret of that name is visible there.
        """
        from flyteidl2.secret import payload_pb2

        session = current_session()
        response = await call(
            session,
            clients_for(session).secret_service.GetSecret,
            payload_pb2.GetSecretRequest(id=_identifier(session, name, project, domain)),
            not_found=SecretNotFoundError,
            failure=_failure,
        )
        return cls(response.secret)

    @syncify
    @classmethod
    async def listall(
        cls, limit: int = 100, project: str | None = None, domain: str | None = None
    ) -> AsyncIterator[Secret]:
        """The secrets a task in the project and domain can use (their names and scopes)."""
        from flyteidl2.secret import payload_pb2

        session = current_session()
        scope = _identifier(session, "", project, domain)
        token, seen = "", 0
        while seen < limit:
            response = await call(
                session,
                clients_for(session).secret_service.ListSecrets,
                payload_pb2.ListSecretsRequest(
                    organization=session.org,
                    project=scope.project,
                    domain=scope.domain,
                    limit=min(100, limit - seen),
                    token=token,
                ),
                failure=_failure,
            )
            for pb in response.secrets:
                seen += 1
                yield cls(pb)
                if seen >= limit:
                    return
            token = response.token
            if not token or not response.secrets:
                return

    @syncify
    @classmethod
    async def delete(cls, name: str, project: str | None = None, domain: str | None = None) -> None:
        """Delete secret ``name`` of exactly that scope.

        Raises:
            SecretNotFoundError: there is no such secret in that scope.
        """
        from flyteidl2.secret import payload_pb2

        session = current_session()
        await call(
            session,
            clients_for(session).secret_service.DeleteSecret,
            payload_pb2.DeleteSecretRequest(id=_identifier(session, name, project, domain)),
            not_found=SecretNotFoundError,
            failure=_failure,
        )
