"""HMAC-signed, expiring URLs for uploads to the server's blob folder.

A signature covers the method, the blob's path, the expiry time and the expected MD5 (empty when
the client gave none), so none of them can be changed without the key. The key is 32 random
bytes created once per data dir in ``signing.key`` with mode 0600.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

KEY_BYTES = 32


def load_or_create_key(path: Path) -> bytes:
    """The key in ``path``, created (readable by its owner only) when missing or empty."""
    try:
        key = path.read_bytes()
        if len(key) >= KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(KEY_BYTES)
    # O_EXCL on a fresh temporary name, then rename: the key is never readable by others, even briefly.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    os.replace(temp, path)
    return key


@dataclass(frozen=True)
class SignedRequest:
    """What a signed URL allows: one method on one path, until ``expires`` (Unix seconds)."""

    method: str
    path: str
    expires: int
    content_md5: str = ""  # hex; empty: any content

    def payload(self) -> bytes:
        return f"{self.method}\n{self.path}\n{self.expires}\n{self.content_md5}".encode()


class UrlSigner:
    """Signs and verifies :class:`SignedRequest` s with one key."""

    def __init__(self, key: bytes):
        if len(key) < KEY_BYTES:
            raise ValueError(f"signing keys must have at least {KEY_BYTES} bytes")
        self._key = key

    def sign(self, request: SignedRequest) -> str:
        return hmac.new(self._key, request.payload(), hashlib.sha256).hexdigest()

    def verify(self, request: SignedRequest, signature: str, now: float) -> str | None:
        """None when the signature is right and not expired; otherwise why not."""
        if not hmac.compare_digest(self.sign(request), signature):
            return "the signature does not match"
        if now > request.expires:
            return "the URL has expired"
        return None
