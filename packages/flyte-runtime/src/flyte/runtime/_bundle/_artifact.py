"""Writing a bundle file: gzip with a fixed header, named by its content, placed atomically.

Both bundle kinds go through :class:`ContentAddressedWriter`, so they share one answer to "same
content, same bytes, same name":

- the gzip header carries no timestamp and no file name, and the compression level is fixed, so
  the bytes depend only on the content (and on zlib: every CPython build we ship on uses the
  same deflate output for the same level; a different zlib can change the bytes, never the name);
- the name is ``fast<digest[:32]>.<suffix>`` where ``digest`` is the SHA-256 of the
  *uncompressed* stream, so the name is the same even where zlib differs;
- data goes to a hidden temporary file in the output folder and is renamed into place only when
  complete, so a reader never sees a half-written bundle.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import tempfile
from pathlib import Path
from types import TracebackType

from flyte.errors import CodeBundleError

__all__ = ["GZIP_LEVEL", "NAME_PREFIX", "ContentAddressedWriter"]

GZIP_LEVEL = 6  # zlib's default trade-off; fixed because the level changes the bytes
NAME_PREFIX = "fast"
_NAME_DIGEST_CHARS = 32  # 128 bits of SHA-256: collision-free in practice, short in URLs
_FILE_MODE = 0o644


class ContentAddressedWriter:
    """A write-only binary file: what is written is hashed and gzip'd into ``out_dir``.

    Use it as a context manager; call :meth:`commit` to name and publish the file. Leaving the
    block without committing (or with an exception) removes the temporary file.
    """

    def __init__(self, out_dir: Path) -> None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(dir=out_dir, prefix=".bundle-", suffix=".part")
        except OSError as e:
            raise CodeBundleError(f"cannot write a code bundle to {out_dir}: {e.strerror}") from e
        self._out_dir = out_dir
        self._raw = os.fdopen(fd, "wb")
        # filename="" keeps the temporary name out of the header; mtime=0 keeps the clock out.
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0, filename="")
        self._sha = hashlib.sha256()
        self._written = 0
        self._done = False

    def write(self, data: bytes, /) -> int:
        self._sha.update(data)
        self._written += len(data)
        return self._gz.write(data)

    def tell(self) -> int:
        return self._written

    # tarfile's file protocol also names these; a writer only ever moves forward.
    def read(self, size: int = -1, /) -> bytes:
        raise io.UnsupportedOperation("a bundle writer is write-only")

    def seek(self, pos: int, whence: int = 0, /) -> int:
        if whence == 0 and pos == self._written:
            return pos
        raise io.UnsupportedOperation("a bundle writer cannot seek")

    def close(self) -> None:
        """Tarfile closes its file object on exit; the writer stays open until commit."""

    def commit(self, suffix: str) -> tuple[Path, str, int]:
        """Finish the gzip stream and rename the file after its content.

        Args:
            suffix: the file name's extension, e.g. ``"tar.gz"``.

        Returns:
            The final path, the hex SHA-256 of the uncompressed content and the file's size.
        """
        self._gz.close()
        self._raw.close()
        digest = self._sha.hexdigest()
        final = self._out_dir / f"{NAME_PREFIX}{digest[:_NAME_DIGEST_CHARS]}.{suffix}"
        # mkstemp creates 0600; a bundle is meant to be read by others (the uploader, a server).
        os.chmod(self._tmp, _FILE_MODE)
        os.replace(self._tmp, final)
        self._done = True
        return final, digest, final.stat().st_size

    def discard(self) -> None:
        """Drop the temporary file (idempotent)."""
        if self._done:
            return
        self._done = True
        # The stream may be broken (a full disk): closing must not hide the original error.
        with contextlib.suppress(OSError):
            self._gz.close()
        with contextlib.suppress(OSError):
            self._raw.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._tmp)

    def __enter__(self) -> ContentAddressedWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()
