"""The ``pkl`` code bundle: a task defined where no source file exists (a notebook, a REPL).

The object is pickled with cloudpickle, which serializes code from ``__main__`` by value (the
function's bytecode, closures and the globals it uses) and everything importable by reference;
modules passed as ``by_value`` are serialized by value too, for code the task container will not
have. The pickle is gzip'd and named by its content like a ``tgz`` bundle (see ``_artifact``).

Loading a pickle runs code: only load bundles from storage you trust (your own run's).
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from flyte.errors import CodeBundleError
from flyte.runtime._bundle._artifact import ContentAddressedWriter
from flyte.runtime._bundle._limits import DEFAULT_MAX_BYTES

__all__ = ["PICKLE_PROTOCOL", "PklBundle", "build_pkl_bundle", "load_pkl_bundle"]

PKL_SUFFIX = "pkl.gz"
# Fixed so the bytes do not depend on the Python that builds the bundle; 5 loads on 3.8+.
PICKLE_PROTOCOL = 5
# cloudpickle's by-value registry is process-wide; one build at a time may change it.
_REGISTRY_LOCK = threading.Lock()


@dataclass(frozen=True)
class PklBundle:
    """A built ``pkl`` code bundle.

    Attributes:
        path: the file, ``<out_dir>/fast<first 32 hex digits of digest>.pkl.gz``.
        digest: hex SHA-256 of the (uncompressed) pickle.
        size: the file's size in bytes.
    """

    path: Path
    digest: str
    size: int


def build_pkl_bundle(obj: object, out_dir: Path, *, by_value: Iterable[ModuleType] = ()) -> PklBundle:
    """Pickle ``obj`` (a task, or anything a task needs) into a content-named ``.pkl.gz``.

    Args:
        obj: the object to ship. Code defined in ``__main__`` travels by value.
        out_dir: where to write the bundle (created if missing).
        by_value: modules whose functions and classes should travel by value as well, because
            the container that loads the bundle cannot import them.

    Returns:
        The bundle's path, digest and size.

    Raises:
        CodeBundleError: ``obj`` cannot be pickled (the message names the object and the
            reason), or ``out_dir`` is not writable.

    Example:
        >>> bundle = build_pkl_bundle(lambda x: x + 1, Path("/tmp/bundles"))  # doctest: +SKIP
        >>> load_pkl_bundle(bundle.path)(1)  # doctest: +SKIP
        2
    """
    import cloudpickle  # type: ignore[import-untyped]  # only needed to build or load a pkl bundle, not to import flyte.runtime

    with _pickled_by_value(by_value):
        try:
            data = cloudpickle.dumps(obj, protocol=PICKLE_PROTOCOL)
        except Exception as e:
            raise CodeBundleError(f"cannot build a pkl code bundle of {obj!r}: {type(e).__name__}: {e}") from e
    with ContentAddressedWriter(out_dir) as out:
        out.write(data)
        path, digest, size = out.commit(PKL_SUFFIX)
    return PklBundle(path=path, digest=digest, size=size)


def load_pkl_bundle(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """Load the object a ``pkl`` bundle holds.

    Args:
        path: the ``.pkl.gz`` file.
        max_bytes: the most uncompressed bytes to read; a larger pickle is refused.

    Returns:
        The unpickled object.

    Raises:
        CodeBundleError: the file is missing, not gzip, too large, or does not unpickle (for
            example a module it refers to by reference is not importable here).
    """
    import cloudpickle

    try:
        with gzip.open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise CodeBundleError(f"cannot read the pkl code bundle {path}: {e}") from e
    if len(data) > max_bytes:
        raise CodeBundleError(f"refusing pkl code bundle {path}: it unpacks to more than {max_bytes} bytes (max_bytes)")
    try:
        obj: object = cloudpickle.loads(data)
    except Exception as e:
        raise CodeBundleError(f"cannot load the pkl code bundle {path}: {type(e).__name__}: {e}") from e
    return obj


@contextmanager
def _pickled_by_value(modules: Iterable[ModuleType]) -> Iterator[None]:
    import cloudpickle

    modules = list(modules)
    if not modules:
        yield
        return
    with _REGISTRY_LOCK:
        added = [m for m in modules if m.__name__ not in cloudpickle.list_registry_pickle_by_value()]
        for m in added:
            cloudpickle.register_pickle_by_value(m)
        try:
            yield
        finally:
            for m in added:
                cloudpickle.unregister_pickle_by_value(m)
