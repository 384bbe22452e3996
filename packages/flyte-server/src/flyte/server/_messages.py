"""Reading and writing the protobuf files of the data plane (inputs.pb, outputs.pb) through flyte.storage."""

from __future__ import annotations

import base64
import hashlib
from typing import TypeVar

from google.protobuf.message import Message

import flyte.storage as storage

M = TypeVar("M", bound=Message)


async def read_message(uri: str, cls: type[M]) -> M | None:
    """The message in ``uri``, or None when there is no such file."""
    if not await storage.exists(uri):
        return None
    raw = b"".join([chunk async for chunk in storage.get_stream(uri)])
    return cls.FromString(raw)


async def write_message(uri: str, message: Message) -> str:
    return await storage.put_stream(message.SerializeToString(deterministic=True), to_path=uri)


def inputs_hash(message: Message) -> str:
    """A content hash of the deterministic encoding (SHA-256, 128 bits, base64url without padding).

    It names the stored inputs file and fills ``OffloadedInputData.inputs_hash``; equal inputs
    get equal hashes, which is all a cache key needs.
    """
    digest = hashlib.sha256(message.SerializeToString(deterministic=True)).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
