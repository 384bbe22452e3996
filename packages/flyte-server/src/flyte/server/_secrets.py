"""Secrets at rest and in a task's environment.

Values are sealed with AES-256-GCM (``cryptography``) under a key kept in ``<data_dir>/secrets.key``
(32 random bytes, created 0600 like the URL-signing key). The secret's identity (org, project,
domain, name) is the associated data, so a sealed value copied onto another row does not open.
The database holds ``version byte + nonce + ciphertext`` only; values are never logged and never
leave the server except into the environment of the task process that asked for them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flyte.server._signing import load_or_create_key

if TYPE_CHECKING:
    from flyteidl2.core import tasks_pb2

    from flyte.server._db import Database
    from flyte.server._layout import DataLayout
    from flyte.server._store import ActionRow

KEY_FILE = "secrets.key"
_FORMAT = b"\x01"  # the layout of a sealed value; lets the algorithm change without ambiguity
_NONCE_BYTES = 12


@dataclass(frozen=True)
class SecretKey:
    """Where a secret lives: an org, and optionally a project and a domain ('' for any)."""

    org: str
    project: str
    domain: str
    name: str

    def associated_data(self) -> bytes:
        return "\x00".join((self.org, self.project, self.domain, self.name)).encode()

    def describe(self) -> str:
        scope = "/".join(p for p in (self.project, self.domain) if p)
        return f"secret {self.name!r}" + (f" in {scope}" if scope else "")


@dataclass(frozen=True)
class SecretRow:
    """A stored secret's metadata; the value stays sealed until :meth:`SecretCipher.open`."""

    key: SecretKey
    type: int
    is_binary: bool
    sealed: bytes
    created_at: float
    updated_at: float


class SecretCipher:
    """Seals and opens secret values with the data dir's key."""

    def __init__(self, key: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) < 32:
            raise ValueError("secret keys must have 32 bytes")
        self._aead = AESGCM(key[:32])

    @classmethod
    def for_data_dir(cls, root: Path) -> SecretCipher:
        return cls(load_or_create_key(root / KEY_FILE))

    def seal(self, key: SecretKey, value: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT + nonce + self._aead.encrypt(nonce, value, key.associated_data())

    def open(self, key: SecretKey, sealed: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if sealed[:1] != _FORMAT:
            raise SecretUnavailableError(f"{key.describe()} is stored in an unknown format")
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ciphertext, key.associated_data())
        except InvalidTag:
            raise SecretUnavailableError(
                f"{key.describe()} cannot be decrypted: it was sealed under another key or altered "
                f"(is {KEY_FILE} the one this data dir was created with?)"
            ) from None


class SecretUnavailableError(ValueError):
    """A secret a task asked for is missing or cannot be opened: the attempt cannot start.

    A ValueError, so the executor records it as a launch failure with this message.
    """


def lookup_order(org: str, project: str, domain: str, name: str) -> list[SecretKey]:
    """The scopes a task in ``project``/``domain`` sees a secret in, most specific first."""
    scopes = [(project, domain), (project, ""), ("", domain), ("", "")]
    seen: list[SecretKey] = []
    for p, d in scopes:
        key = SecretKey(org, p, d, name)
        if key not in seen:
            seen.append(key)
    return seen


def _row(r: sqlite3.Row) -> SecretRow:
    return SecretRow(
        key=SecretKey(r["org"], r["project"], r["domain"], r["name"]),
        type=r["type"],
        is_binary=bool(r["is_binary"]),
        sealed=r["sealed"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
    )


def _find(conn: sqlite3.Connection, keys: list[SecretKey]) -> SecretRow | None:
    for key in keys:
        row = conn.execute(
            "SELECT * FROM secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
            (key.org, key.project, key.domain, key.name),
        ).fetchone()
        if row is not None:
            return _row(row)
    return None


class SecretStore:
    """Reads and writes of the ``secrets`` table (on the database thread)."""

    def __init__(self, db: Database, cipher: SecretCipher):
        self._db = db
        self.cipher = cipher

    async def create(self, key: SecretKey, value: bytes, is_binary: bool, type_: int) -> bool:
        """False when a secret of that identity exists (nothing is changed then)."""
        sealed = self.cipher.seal(key, value)
        now = time.time()

        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "INSERT OR IGNORE INTO secrets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key.org, key.project, key.domain, key.name, type_, int(is_binary), sealed, now, now),
            )
            return cur.rowcount == 1

        return await self._db.transaction(run)

    async def update(self, key: SecretKey, value: bytes, is_binary: bool, type_: int) -> bool:
        """False when no secret has that identity."""
        sealed = self.cipher.seal(key, value)

        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "UPDATE secrets SET type = ?, is_binary = ?, sealed = ?, updated_at = ? "
                "WHERE org = ? AND project = ? AND domain = ? AND name = ?",
                (type_, int(is_binary), sealed, time.time(), key.org, key.project, key.domain, key.name),
            )
            return cur.rowcount == 1

        return await self._db.transaction(run)

    async def delete(self, key: SecretKey) -> bool:
        def run(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                "DELETE FROM secrets WHERE org = ? AND project = ? AND domain = ? AND name = ?",
                (key.org, key.project, key.domain, key.name),
            )
            return cur.rowcount == 1

        return await self._db.transaction(run)

    async def find(self, keys: list[SecretKey]) -> SecretRow | None:
        return await self._db.call(lambda c: _find(c, keys))

    async def visible(self, org: str, project: str, domain: str, limit: int, offset: int) -> list[SecretRow]:
        """Secrets a task in ``project``/``domain`` could use (every one of the org when both are
        empty), by name; ``limit + 1`` rows at most, so the caller can tell whether more follow."""
        where, params = ["org = ?"], [org]
        for column, value in (("project", project), ("domain", domain)):
            if value:
                where.append(f"({column} = ? OR {column} = '')")
                params.append(value)
        sql = f"SELECT * FROM secrets WHERE {' AND '.join(where)} ORDER BY name, project, domain LIMIT ? OFFSET ?"
        rows = await self._db.call(lambda c: c.execute(sql, [*params, limit + 1, offset]).fetchall())
        return [_row(r) for r in rows]


def secret_env(layout: DataLayout, template: tasks_pb2.TaskTemplate, action: ActionRow) -> dict[str, str]:
    """The environment variables of the secrets ``template`` asks for, for ``action``'s attempt.

    Called by the executor while it builds the process environment; a task that asks for no
    secret costs nothing. Reads with a short-lived read-only connection (WAL readers never wait
    for the writer), since the executor builds the environment synchronously.

    Raises:
        SecretUnavailableError: a requested secret does not exist, is binary and not UTF-8, asks to
            be mounted as a file, or cannot be decrypted. The message names the secret.
    """
    if not template.HasField("security_context") or not template.security_context.secrets:
        return {}
    from flyteidl2.core import security_pb2

    from flyte.models import Secret

    cipher = SecretCipher.for_data_dir(layout.root)
    env: dict[str, str] = {}
    uri = f"file:{layout.database}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
        conn.row_factory = sqlite3.Row
        for request in template.security_context.secrets:
            name = request.key
            if request.mount_requirement == security_pb2.Secret.FILE:
                raise SecretUnavailableError(
                    f"secret {name!r} is requested as a mounted file; this server passes secrets as "
                    "environment variables only (use flyte.Secret(key, as_env_var=...))"
                )
            keys = lookup_order(action.org, action.project, action.domain, name)
            row = _find(conn, keys)
            if row is None:
                raise SecretUnavailableError(
                    f"secret {name!r} does not exist in {action.project}/{action.domain} (nor project-, "
                    f"domain- or org-wide); create it with `flyte create secret {name}`"
                )
            value = cipher.open(row.key, row.sealed)
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                raise SecretUnavailableError(
                    f"secret {name!r} is binary and not UTF-8 text, so it cannot be an environment variable"
                ) from None
            # A request without a variable name gets the SDK's own rule (GROUP_KEY upper-cased).
            env[request.env_var or Secret.from_proto(request).as_env_var or name] = text
    return env
