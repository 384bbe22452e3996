"""Parsing and joining storage URIs: which backend a URI belongs to and what it points at."""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flyte.storage._errors import InvalidStoragePathError

__all__ = ["Location", "is_remote", "join", "parse", "safe_join"]

# URI scheme -> fsspec protocol of the backend that serves it.
SCHEMES: dict[str, str] = {
    "file": "file",
    "s3": "s3",
    "gs": "gs",
    "abfs": "abfs",
    "abfss": "abfs",
}
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# "s3:/bucket" or "s3:bucket": a remote scheme with a missing slash is a typo, not a file name.
_BROKEN_REMOTE_RE = re.compile(r"^(s3|gs|abfss?):/?(?!/)", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    """A parsed URI.

    Attributes:
        uri: the URI as given (bare local paths stay bare).
        protocol: the backend's fsspec protocol: ``file``, ``s3``, ``gs`` or ``abfs``.
        path: what the backend addresses: an absolute OS path locally, ``bucket/key`` remotely.
    """

    uri: str
    protocol: str
    path: str

    @property
    def is_local(self) -> bool:
        return self.protocol == "file"

    @property
    def name(self) -> str:
        """The last segment, e.g. ``c.txt`` for ``s3://b/a/c.txt``."""
        return posixpath.basename(self.path.rstrip("/")) if not self.is_local else Path(self.path).name

    def child(self, relative: str) -> Location:
        """The location ``relative`` (a ``/``-separated path) below this one, refusing to escape it."""
        return parse(safe_join(self.uri, relative))


def parse(uri: str | os.PathLike[str]) -> Location:
    """Parse a URI or local path.

    Raises:
        InvalidStoragePathError: empty input, an unknown scheme, or a remote URI without a bucket.
    """
    if isinstance(uri, os.PathLike):
        uri = os.fspath(uri)
    if not isinstance(uri, str):
        raise InvalidStoragePathError(repr(uri), f"expected a str or os.PathLike, got {type(uri).__name__}")
    if not uri.strip():
        raise InvalidStoragePathError(uri, "expected a URI or a local path, got an empty string")
    if "\x00" in uri:
        raise InvalidStoragePathError(uri, "contains a NUL character")
    match = _SCHEME_RE.match(uri)
    if match is None:
        if _BROKEN_REMOTE_RE.match(uri):
            raise InvalidStoragePathError(uri, "malformed URI: expected '<scheme>://<bucket>/<key>'")
        return Location(uri, "file", os.path.abspath(os.path.expanduser(uri)))
    scheme = match.group(1).lower()
    rest = uri[match.end() :]
    protocol = SCHEMES.get(scheme)
    if protocol is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise InvalidStoragePathError(uri, f"unknown scheme {scheme!r}; expected a local path or one of {known}")
    if protocol == "file":
        # file:///abs/path; file://localhost/abs/path is the same; other hosts are not local.
        host, sep, path = rest.partition("/")
        if host not in ("", "localhost"):
            raise InvalidStoragePathError(uri, f"file URIs name no host (got {host!r}); use file:///absolute/path")
        return Location(uri, "file", os.path.abspath("/" + path if sep else "/"))
    bucket = rest.split("/", 1)[0]
    if not bucket:
        raise InvalidStoragePathError(uri, f"malformed URI: no bucket or container after '{scheme}://'")
    if any(c.isspace() for c in bucket):
        raise InvalidStoragePathError(uri, f"bucket or container name {bucket!r} contains whitespace")
    return Location(uri, protocol, rest)


def is_remote(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a URI of a remote store (any ``scheme://`` other than ``file://``).

    Example:
        >>> is_remote("s3://bucket/key"), is_remote("/tmp/x"), is_remote("file:///tmp/x")
        (True, False, False)
    """
    match = _SCHEME_RE.match(os.fspath(path))
    return match is not None and match.group(1).lower() != "file"


def join(*paths: str) -> str:
    """Join path segments onto a URI or local path with the separator its backend uses.

    Example:
        >>> join("s3://bucket/a/", "b", "c.txt")
        's3://bucket/a/b/c.txt'
    """
    if not paths:
        raise InvalidStoragePathError("", "join() needs at least one path")
    first, rest = paths[0], paths[1:]
    if is_remote(first) or first.startswith("file://"):
        out = first
        for p in rest:
            p = p.strip("/")
            if p:
                out = out.rstrip("/") + "/" + p if not out.endswith("://") else out + p
        return out
    return os.path.join(first, *rest)


def safe_join(base: str, relative: str) -> str:
    """Join ``relative`` below ``base``, refusing any result outside ``base``.

    Raises:
        InvalidStoragePathError: ``relative`` is absolute or its ``..`` segments climb above ``base``.

    Example:
        >>> safe_join("s3://b/run", "out/x.txt")
        's3://b/run/out/x.txt'
    """
    rel = relative.replace("\\", "/")
    normalized = posixpath.normpath(rel) if rel else "."
    if rel.startswith("/") or normalized == ".." or normalized.startswith("../"):
        raise InvalidStoragePathError(relative, f"escapes its base folder {base!r}; expected a path inside it")
    if normalized == ".":
        return base
    parts = PurePosixPath(normalized).parts
    return join(base, *parts)
