"""SecretService: create, update, get, list and delete secrets. No answer ever carries a value."""

from __future__ import annotations

import re
from typing import Any

from connectrpc.request import RequestContext
from flyteidl2.secret import definition_pb2, payload_pb2
from flyteidl2.secret.secret_connect import SecretService

from flyte.server import _names as names
from flyte.server._convert import timestamp
from flyte.server._listing import DEFAULT_LIMIT, MAX_LIMIT
from flyte.server._rpc_errors import already_exists, invalid_argument, not_found
from flyte.server._secrets import SecretKey, SecretRow, SecretStore, lookup_order
from flyte.server._state import ServerState

# Names end up as keys users type and environment lookups: letters, digits, '_', '-', '.'.
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}$")
# A value becomes one environment variable; Linux refuses longer single strings (MAX_ARG_STRLEN).
MAX_VALUE_BYTES = 128 * 1024 - 1


def _key(pb: definition_pb2.SecretIdentifier) -> SecretKey:
    if not _NAME_RE.match(pb.name) or ".." in pb.name:
        raise invalid_argument(f"secret name {pb.name!r} is not valid: expected 1-253 letters, digits, '_', '-' or '.'")
    return SecretKey(
        org=names.check_org(pb.organization),
        project=pb.project and names.check_project(pb.project),
        domain=pb.domain and names.check_domain(pb.domain),
        name=pb.name,
    )


def _value(spec: definition_pb2.SecretSpec) -> tuple[bytes, bool]:
    kind = spec.WhichOneof("value")
    if kind == "string_value":
        value, binary = spec.string_value.encode(), False
    elif kind == "binary_value":
        value, binary = spec.binary_value, True
    else:
        raise invalid_argument("secret_spec needs a string_value or a binary_value")
    if len(value) > MAX_VALUE_BYTES:
        raise invalid_argument(f"the secret's value has {len(value)} bytes; at most {MAX_VALUE_BYTES} are accepted")
    return value, binary


def _message(row: SecretRow) -> definition_pb2.Secret:
    return definition_pb2.Secret(
        id=definition_pb2.SecretIdentifier(
            name=row.key.name, organization=row.key.org, project=row.key.project, domain=row.key.domain
        ),
        secret_metadata=definition_pb2.SecretMetadata(
            created_time=timestamp(row.created_at),
            type=row.type,  # type: ignore[arg-type]
            secret_status=definition_pb2.SecretStatus(overall_status=definition_pb2.FULLY_PRESENT),
        ),
    )


class SecretServiceImpl(SecretService):
    def __init__(self, state: ServerState, secrets: SecretStore):
        self._state = state
        self._secrets = secrets

    async def create_secret(
        self, request: payload_pb2.CreateSecretRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.CreateSecretResponse:
        key = _key(request.id)
        value, binary = _value(request.secret_spec)
        if not await self._secrets.create(key, value, binary, request.secret_spec.type):
            raise already_exists(f"{key.describe()} already exists; update or delete it first")
        return payload_pb2.CreateSecretResponse()

    async def update_secret(
        self, request: payload_pb2.UpdateSecretRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.UpdateSecretResponse:
        key = _key(request.id)
        value, binary = _value(request.secret_spec)
        if not await self._secrets.update(key, value, binary, request.secret_spec.type):
            raise not_found(f"{key.describe()} does not exist")
        return payload_pb2.UpdateSecretResponse()

    async def get_secret(
        self, request: payload_pb2.GetSecretRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.GetSecretResponse:
        key = _key(request.id)
        # What a task in that scope would get: the most specific secret of that name.
        row = await self._secrets.find(lookup_order(key.org, key.project, key.domain, key.name))
        if row is None:
            raise not_found(f"{key.describe()} does not exist")
        return payload_pb2.GetSecretResponse(secret=_message(row))

    async def delete_secret(
        self, request: payload_pb2.DeleteSecretRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.DeleteSecretResponse:
        key = _key(request.id)
        if not await self._secrets.delete(key):
            raise not_found(f"{key.describe()} does not exist")
        return payload_pb2.DeleteSecretResponse()

    async def list_secrets(
        self, request: payload_pb2.ListSecretsRequest, ctx: RequestContext[Any, Any]
    ) -> payload_pb2.ListSecretsResponse:
        org = names.check_org(request.organization)
        project = request.project and names.check_project(request.project)
        domain = request.domain and names.check_domain(request.domain)
        if request.limit < 0:
            raise invalid_argument(f"limit must not be negative, got {request.limit}")
        limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
        if request.token and not request.token.isdigit():
            raise invalid_argument(f"page token {request.token!r} was not issued by this server")
        offset = int(request.token or 0)
        rows = await self._secrets.visible(org, project, domain, limit, offset)
        return payload_pb2.ListSecretsResponse(
            secrets=[_message(r) for r in rows[:limit]], token=str(offset + limit) if len(rows) > limit else ""
        )
