"""Where things live in the data dir, and the check that keeps client-given paths inside it.

<data_dir>/flyte.db       metadata (SQLite, WAL)
<data_dir>/signing.key    the upload URL key (0600)
<data_dir>/server.json    address of the running server
<data_dir>/blobs/...      uploaded files: code bundles, offloaded inputs
<data_dir>/runs/<org>/<project>/<domain>/<run>/<action>/<attempt>/   outputs.pb, error.pb
<data_dir>/logs/<org>/<project>/<domain>/<run>/<action>/<attempt>/   stdout, stderr
<data_dir>/work/<run id>/<action>/<attempt>/                        the action's working folder
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FILE_SCHEME = "file://"
# An empty org (single-tenant) still needs a folder name; '_' is not a valid org name.
_NO_ORG = "_"


def to_uri(path: Path) -> str:
    """What clients and ``a0`` are given for a file in the data dir: its absolute path.

    A plain path rather than a ``file://`` URI: every reader takes it as a local file, flyte
    2.12.1's ``File.download`` too (it copies a ``file://`` location as if it were a path, and
    fails). :func:`from_uri` still accepts both.
    """
    return str(path)


def from_uri(uri: str) -> Path:
    """The local path of a ``file://`` URI or an absolute path (not yet checked for confinement)."""
    if uri.startswith(FILE_SCHEME):
        uri = uri[len(FILE_SCHEME) :]
        host, _, rest = uri.partition("/")
        if host not in ("", "localhost"):
            raise ValueError(f"file URIs name no host, got {host!r}")
        uri = "/" + rest
    path = Path(uri)
    if not path.is_absolute():
        raise ValueError(f"expected an absolute path or a file:// URI, got {uri!r}")
    return path


@dataclass(frozen=True)
class DataLayout:
    """The folders of one data dir."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "flyte.db"

    @property
    def signing_key(self) -> Path:
        return self.root / "signing.key"

    @property
    def server_info(self) -> Path:
        return self.root / "server.json"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def create(self) -> None:
        for folder in (self.root, self.blobs, self.root / "runs", self.root / "logs", self.root / "work"):
            folder.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)

    def run_base(self, org: str, project: str, domain: str, run: str) -> Path:
        return self.root / "runs" / (org or _NO_ORG) / project / domain / run

    def logs(self, org: str, project: str, domain: str, run: str, action: str, attempt: int) -> Path:
        return self.root / "logs" / (org or _NO_ORG) / project / domain / run / action / str(attempt)

    def workdir(self, run_id: int, action: str, attempt: int) -> Path:
        return self.root / "work" / str(run_id) / action / str(attempt)

    def blob(self, *segments: str) -> Path:
        """A file in the blob folder; the segments must already be validated names."""
        return self.blobs.joinpath(*segments)

    def confined_blob(self, uri: str) -> Path | None:
        """The path of ``uri`` if it names a file inside the blob folder, else None.

        Resolving first means neither ``..`` segments nor symlinks can point outside.
        """
        try:
            path = from_uri(uri).resolve()
        except (ValueError, OSError):
            return None
        blobs = self.blobs.resolve()
        return path if path.is_relative_to(blobs) and path != blobs else None

    def confined_blob_key(self, key: str) -> Path | None:
        """The path of a ``/``-separated key below the blob folder, or None if it could escape."""
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
            return None
        return self.confined_blob(str(self.blobs.joinpath(*parts)))
