"""Secret requests: which secret a task needs and how it is exposed (env var or file)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flyteidl2.core import security_pb2

_ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# The only mount point Flyte 2 backends support today; accepting another would fail at run time.
SECRETS_MOUNT = Path("/etc/flyte/secrets")


@dataclass(frozen=True)
class Secret:
    """A secret the task needs at run time.

    Args:
        key: the secret's name.
        group: an optional group (namespace) of the secret.
        mount: mount the secret as a file under this directory (only ``/etc/flyte/secrets``)
            instead of an environment variable.
        as_env_var: the environment variable to expose it as; defaults to ``GROUP_KEY`` (or
            ``KEY``) upper-cased, with ``-`` and ``.`` turned into ``_``.

    Example:
        >>> Secret("token", group="github").as_env_var
        'GITHUB_TOKEN'
    """

    key: str
    group: str | None = None
    mount: Path | None = None
    as_env_var: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ValueError(f"Secret.key must be a non-empty string, got {self.key!r}")
        if self.mount is not None:
            if Path(self.mount) != SECRETS_MOUNT:
                raise ValueError(
                    f"Secret.mount must be {SECRETS_MOUNT} (the only mount path supported), got {self.mount}"
                )
            object.__setattr__(self, "mount", Path(self.mount))
            if self.as_env_var is not None:
                raise ValueError("Secret takes either mount or as_env_var, not both")
            return
        env = self.as_env_var
        if env is None:
            env = "_".join(p for p in (self.group, self.key) if p).upper().replace("-", "_").replace(".", "_")
            object.__setattr__(self, "as_env_var", env)
        if not _ENV_VAR.match(env):
            raise ValueError(
                f"Secret.as_env_var must be an environment variable name matching {_ENV_VAR.pattern}, got {env!r}"
            )

    def to_proto(self) -> security_pb2.Secret:
        from flyteidl2.core import security_pb2

        if self.mount is not None:
            return security_pb2.Secret(group=self.group or "", key=self.key, mount_requirement=security_pb2.Secret.FILE)
        return security_pb2.Secret(
            group=self.group or "",
            key=self.key,
            mount_requirement=security_pb2.Secret.ENV_VAR,
            env_var=self.as_env_var or "",
        )

    @classmethod
    def from_proto(cls, pb: security_pb2.Secret) -> Secret:
        from flyteidl2.core import security_pb2

        if pb.mount_requirement == security_pb2.Secret.FILE:
            return cls(key=pb.key, group=pb.group or None, mount=SECRETS_MOUNT)
        return cls(key=pb.key, group=pb.group or None, as_env_var=pb.env_var or None)


SecretRequest = str | Secret | Sequence[str | Secret]


def secrets_tuple(secrets: SecretRequest | None) -> tuple[Secret, ...]:
    """Normalise the forms a task accepts (a key, a Secret, or a list of either) to a tuple of Secrets."""
    if secrets is None:
        return ()
    items = [secrets] if isinstance(secrets, (str, Secret)) else list(secrets)
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Secret(key=item))
        elif isinstance(item, Secret):
            out.append(item)
        else:
            raise TypeError(f"secrets must be keys (str) or flyte.Secret objects, got {type(item).__name__}: {item!r}")
    return tuple(out)
