"""Unpacking a ``tgz`` code bundle without trusting it.

The archive comes from storage a task cannot vouch for, so every member is checked before a byte
of it is written, and the file contents are counted as they stream out of the decompressor:

- names: no absolute paths (``/x``, ``C:x``), no ``..`` component, no backslash (a separator on
  Windows), no duplicates;
- types: regular files and folders only. Symbolic links and hard links are refused whatever
  they point to: ``build_tgz_bundle`` never writes one (it stores a link's target content), so a
  link in a bundle is either a foreign archive or an attack, and refusing all of them leaves no
  "link inside dest that a later member writes through" case to get wrong. Devices, fifos and
  sparse files are refused too;
- limits: at most ``max_files`` members and ``max_bytes`` of file contents, counted on the data
  actually read (a header's size is checked first, then the stream); the decompressed stream as
  a whole is bounded too, so a bomb hidden in headers stops as well;
- framing: the archive must end with tar's end-of-archive block and nothing but zeros after it.
  Python's tarfile silently stops at a garbled header, which is what a member that declares
  fewer bytes than it carries produces; this check turns that into an error;
- ``tarfile.data_filter`` (Python 3.12, 3.11.4+, 3.10.12+) is consulted as a second opinion
  where it exists.

A warm worker may have unpacked the same archive already (``_memo``): its checked files are then
written from memory instead of unpacking the archive again.

Files are unpacked into a hidden staging folder (inside ``dest`` when it exists, beside it when
not), and only moved into place once the whole archive passed, so a refused archive leaves
nothing behind. File modes are normalized (0644, or 0755 with an execute bit) and modification
times are the extraction time, so Python's bytecode cache never mistakes a new file for an old
one.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import re
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from flyte.errors import CodeBundleError
from flyte.runtime._bundle import _memo
from flyte.runtime._bundle._limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES

__all__ = ["extract_bundle"]

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
# Headers, pax records and padding come on top of file contents; this bounds them generously.
_HEADER_ALLOWANCE_PER_MEMBER = 4 * tarfile.BLOCKSIZE
_HEADER_ALLOWANCE = 1 << 20
_TAIL_WINDOW = 4 * tarfile.RECORDSIZE  # tarfile reads ahead by at most one record
_STAGING_PREFIX = ".flyte-extract-"


def extract_bundle(
    archive: Path, dest: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = DEFAULT_MAX_FILES
) -> Path:
    """Safely unpack a ``tar`` or ``tar.gz`` code bundle into ``dest``.

    ``dest`` may exist (``a0 --dest .`` unpacks into the working folder): the bundle's files are
    then merged into it, replacing files of the same name. Nothing is written to ``dest`` unless
    the whole archive is valid.

    Args:
        archive: the bundle file.
        dest: the folder to unpack into; created if missing.
        max_bytes: the most file content (uncompressed) the archive may hold.
        max_files: the most members (files and folders) the archive may hold.

    Returns:
        ``dest``, resolved.

    Raises:
        CodeBundleError: the archive is unreadable or refused; the message names the archive,
            the offending member and the reason.
    """
    if not archive.is_file():
        raise CodeBundleError(f"code bundle {archive} does not exist or is not a file")
    dest = dest.absolute()
    staging = _make_staging(dest)
    try:
        unpacked = _memo.lookup(archive)
        if unpacked is not None and _within(unpacked, max_bytes, max_files):
            # A warm worker unpacked (and checked) this very file before forking this process.
            try:
                _memo.write_into(unpacked, staging)
            except OSError as e:
                raise CodeBundleError(f"cannot unpack code bundle {archive}: {e}") from e
        else:
            with _decompressed(archive, max_bytes, max_files) as stream:
                _unpack(archive, stream, staging, max_bytes, max_files)
        _publish(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest.resolve()


def _within(unpacked: _memo.Unpacked, max_bytes: int, max_files: int) -> bool:
    contents = sum(len(data) for _, data, _ in unpacked.files)
    return contents <= max_bytes and len(unpacked.files) + len(unpacked.folders) <= max_files


def _refuse(archive: Path, member: str, reason: str) -> CodeBundleError:
    return CodeBundleError(f"refusing code bundle {archive}: member {member!r} {reason}")


class _BoundedStream:
    """The decompressed tar stream, read forward only, with a ceiling on its total size.

    It remembers the last bytes read, so that the end of the archive can be inspected after
    tarfile has read past it.
    """

    def __init__(self, source: gzip.GzipFile | io.BufferedReader, limit: int, archive: Path) -> None:
        self._source = source
        self._limit = limit
        self._archive = archive
        self.position = 0
        self._tail = bytearray()
        self._tail_start = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            size = self._limit + 1 - self.position
        data = self._source.read(min(size, self._limit + 1 - self.position))
        self.position += len(data)
        if self.position > self._limit:
            raise CodeBundleError(
                f"refusing code bundle {self._archive}: it unpacks to more than {self._limit} bytes "
                "of tar data (raise max_bytes if the bundle is legitimately this large)"
            )
        self._tail += data
        if len(self._tail) > _TAIL_WINDOW:
            drop = len(self._tail) - _TAIL_WINDOW
            del self._tail[:drop]
            self._tail_start += drop
        return data

    def bytes_since(self, offset: int) -> bytes:
        """The bytes already read from ``offset`` on (``offset`` must be within the tail window)."""
        if offset < self._tail_start:
            raise CodeBundleError(f"refusing code bundle {self._archive}: its end could not be verified")
        return bytes(self._tail[offset - self._tail_start :])

    # The rest of tarfile's file protocol: a forward-only reader.
    def write(self, b: bytes, /) -> int:
        raise io.UnsupportedOperation("read-only")

    def tell(self) -> int:
        return self.position

    def seek(self, pos: int, /) -> int:
        raise io.UnsupportedOperation("forward-only stream")

    def close(self) -> None:
        """Closed with the underlying file by :func:`_decompressed`."""


@contextlib.contextmanager
def _decompressed(archive: Path, max_bytes: int, max_files: int) -> Iterator[_BoundedStream]:
    """The archive's tar stream, bounded; turns every read or write failure into a CodeBundleError."""
    limit = max_bytes + max_files * _HEADER_ALLOWANCE_PER_MEMBER + _HEADER_ALLOWANCE
    try:
        with open(archive, "rb") as raw:
            is_gzip = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            source: gzip.GzipFile | io.BufferedReader = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip else raw
            with source:
                yield _BoundedStream(source, limit, archive)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        # tarfile's and gzip's words for a broken stream: truncated, bad checksum, bad gzip data.
        raise CodeBundleError(f"refusing code bundle {archive}: it is not a valid tar archive ({e})") from e
    except OSError as e:  # reading the archive or writing the files (a full disk, permissions)
        raise CodeBundleError(f"cannot unpack code bundle {archive}: {e}") from e


def _unpack(archive: Path, stream: _BoundedStream, staging: str, max_bytes: int, max_files: int) -> None:
    second_opinion = getattr(tarfile, "data_filter", None)
    total = 0
    seen: set[str] = set()
    folders: set[str] = {staging}  # made and checked already: most members share a folder
    # "r|": a pure stream, members in order; nothing is seeked and nothing is trusted ahead.
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for count, member in enumerate(tar, start=1):
            if count > max_files:
                raise _refuse(archive, member.name, f"exceeds the limit of {max_files} members (max_files)")
            name = _checked_name(archive, member)
            _check_type(archive, member)
            if second_opinion is not None:
                try:
                    second_opinion(member, staging)
                except tarfile.FilterError as e:
                    raise _refuse(archive, member.name, f"is unsafe: {e}") from e
            if member.isdir():
                # Folders may repeat (some tar tools list them again); "./" is the destination.
                if name:
                    _make_dirs(archive, member.name, staging, os.path.join(staging, *name.split("/")), folders)
                continue
            if name in seen:
                raise _refuse(archive, member.name, "appears twice")
            seen.add(name)
            target = os.path.join(staging, *name.split("/"))
            _make_dirs(archive, member.name, staging, os.path.dirname(target), folders)
            if member.size > max_bytes - total:
                raise _refuse(
                    archive, member.name, f"declares {member.size} bytes, beyond the limit of {max_bytes} (max_bytes)"
                )
            total += _write_member(archive, tar, member, target, max_bytes - total)
        _check_end(archive, tar, stream)


def _checked_name(archive: Path, member: tarfile.TarInfo) -> str:
    """The member's path, ``/``-joined without ``.`` parts; refuses anything that could escape."""
    name = member.name
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise _refuse(archive, name, "has an absolute path")
    if "\\" in name:
        raise _refuse(archive, name, "has a backslash in its path (a separator on Windows)")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _refuse(archive, name, "has a '..' component that would escape the destination")
    if not parts and not member.isdir():
        raise _refuse(archive, name, "has an empty path")
    return "/".join(parts)


def _check_type(archive: Path, member: tarfile.TarInfo) -> None:
    if member.issym():
        raise _refuse(archive, member.name, f"is a symlink (to {member.linkname!r}); bundles may not contain links")
    if member.islnk():
        raise _refuse(archive, member.name, f"is a hard link (to {member.linkname!r}); bundles may not contain links")
    if member.ischr() or member.isblk():
        raise _refuse(archive, member.name, "is a device file")
    if member.isfifo():
        raise _refuse(archive, member.name, "is a fifo")
    if member.issparse():
        raise _refuse(archive, member.name, "is a sparse file")
    if not (member.isfile() or member.isdir()):
        raise _refuse(archive, member.name, f"has an unsupported type {member.type!r}")


def _make_dirs(archive: Path, member: str, staging: str, folder: str, known: set[str]) -> None:
    if folder in known:
        return
    try:
        os.makedirs(folder, mode=0o755, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _refuse(archive, member, "needs a folder where the archive already put a file") from None
    # Names are checked and links never extracted, so this holds; it is cheap to make sure.
    real = os.path.realpath(folder)
    if real != staging and not real.startswith(staging + os.sep):
        raise _refuse(archive, member, "would be written outside the destination")
    known.add(folder)


def _write_member(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, target: str, budget: int) -> int:
    data = tar.extractfile(member)
    if data is None:  # cannot happen for a regular file; keeps the type checker honest
        raise _refuse(archive, member.name, "has no data")
    written = 0
    try:
        with open(target, "xb") as out:  # "x": a name already extracted is never overwritten
            while chunk := data.read(min(_CHUNK, budget + 1 - written)):
                written += len(chunk)
                if written > budget:
                    raise _refuse(archive, member.name, "holds more data than the max_bytes limit allows")
                out.write(chunk)
    except (FileExistsError, IsADirectoryError, NotADirectoryError):
        raise _refuse(archive, member.name, "collides with a folder or file already extracted") from None
    if written != member.size:
        raise _refuse(archive, member.name, f"declares {member.size} bytes but holds {written}")
    os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)
    return written


def _check_end(archive: Path, tar: tarfile.TarFile, stream: _BoundedStream) -> None:
    """The members must be followed by tar's zero end block and nothing but zeros."""
    rest = stream.bytes_since(tar.offset)
    while more := stream.read(_CHUNK):
        rest += more
        if rest.count(0) != len(rest):
            break
    if len(rest) < tarfile.BLOCKSIZE or rest.count(0) != len(rest):
        raise CodeBundleError(
            f"refusing code bundle {archive}: the archive does not end cleanly after {tar.offset} bytes "
            "(a truncated archive, or a member whose header does not match its data)"
        )


def _make_staging(dest: Path) -> str:
    try:
        if dest.is_dir():
            parent = dest
        elif dest.exists():
            raise CodeBundleError(f"cannot unpack a code bundle into {dest}: it is not a folder")
        else:
            parent = dest.parent
            parent.mkdir(parents=True, exist_ok=True)
        return os.path.realpath(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=parent))
    except OSError as e:
        raise CodeBundleError(f"cannot unpack a code bundle into {dest}: {e.strerror}") from e


def _publish(staging: str, dest: Path) -> None:
    """Move the staged tree into ``dest``: one rename when ``dest`` is new, a merge otherwise."""
    try:
        if os.path.dirname(staging) != os.path.realpath(dest):
            with contextlib.suppress(FileExistsError, OSError):
                os.rename(staging, dest)
                return
            dest.mkdir(parents=True, exist_ok=True)  # someone created it meanwhile: merge
        for name in os.listdir(staging):
            _merge(os.path.join(staging, name), os.path.join(dest, name))
        os.rmdir(staging)
    except OSError as e:
        raise CodeBundleError(f"cannot move the unpacked code bundle into {dest}: {e}") from e


def _merge(src: str, dst: str) -> None:
    if os.path.islink(dst):
        os.unlink(dst)  # never write through a link the destination happened to hold
    if os.path.isdir(src) and os.path.isdir(dst):
        for name in os.listdir(src):
            _merge(os.path.join(src, name), os.path.join(dst, name))
        os.rmdir(src)
    elif os.path.isdir(dst):
        raise CodeBundleError(f"cannot unpack the code bundle's file {os.path.basename(src)!r}: {dst} is a folder")
    else:
        os.replace(src, dst)
