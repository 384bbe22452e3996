"""The fast path for folders of small objects on S3: obstore (a Rust S3 client) instead of s3fs.

botocore costs ~2.5 ms of client CPU per small object (signing, event hooks, endpoint rules,
response parsing), as much as the S3 server itself, so on a few cores no amount of overlap
makes a folder of 10,000 small files much faster than one-by-one. obstore does the same
requests for a fraction of that CPU. It is used for the files of a folder ``put``/``get`` that
fit in one request (up to `SMALL_OBJECT_BYTES`); larger files keep s3fs's multipart upload and
streaming download (bounded memory), and everything else (single files, streams, metadata)
stays on s3fs.

Same behaviour as the s3fs path: the settings come from our `S3` config (endpoint, keys,
region, addressing style, timeouts); credentials not given there come from botocore's default
chain (env, profiles, SSO, instance roles), exactly as s3fs would find them. obstore's own
retries are off and each file goes through `flyte.storage._retry.retrying`, so
``FLYTE_STORAGE_RETRIES`` / backoff are the one retry setting and failures map onto our error
classes naming the file's URI. Downloads go to a temporary name and are renamed; an upload is a
single PUT, which S3 applies whole or not at all. Without obstore installed (or with
``FLYTE_STORAGE_OBSTORE=0``) folders go through s3fs as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from flyte.storage import _local
from flyte.storage._concurrency import run_bounded
from flyte.storage._config import S3
from flyte.storage._errors import InvalidStoragePathError, StorageOperationError
from flyte.storage._retry import retrying
from flyte.storage._uri import Location

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig, S3Config

__all__ = ["SMALL_OBJECT_BYTES", "enabled", "get_files", "list_sizes", "put_files"]

# Files up to this size go in one request, read whole into memory: at most
# max_concurrency x 4 MiB in flight (128 MiB at the default 32). Larger ones use s3fs.
SMALL_OBJECT_BYTES = 4 * 2**20

_lock = threading.Lock()
_stores: dict[tuple[str, S3], Any] = {}
_available: bool | None = None


def enabled(protocol: str) -> bool:
    """True when the fast path serves ``protocol``: S3, obstore installed, not turned off."""
    global _available
    if protocol != "s3" or os.environ.get("FLYTE_STORAGE_OBSTORE", "1").strip().lower() in ("0", "false", "no"):
        return False
    if _available is None:
        _available = importlib.util.find_spec("obstore") is not None
    return _available


def _botocore_credentials() -> Callable[[], dict[str, Any]]:
    """A credential provider that asks botocore's default chain, as s3fs would."""
    import botocore.session  # type: ignore[import-untyped]

    session = botocore.session.get_session()

    def provide() -> dict[str, Any]:
        found = session.get_credentials()
        if found is None:
            from botocore.exceptions import NoCredentialsError  # type: ignore[import-untyped]

            raise NoCredentialsError()
        frozen = found.get_frozen_credentials()
        # Asked again after five minutes: refreshable credentials (roles, SSO) stay current.
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": expires,
        }

    return provide


def _default_region() -> str:
    import botocore.session

    region = botocore.session.get_session().get_config_variable("region")
    return str(region) if region else "us-east-1"


def _build_store(bucket: str, config: S3) -> Any:
    from obstore.store import S3Store

    s3_config: S3Config = {
        "region": config.region or _default_region(),
        # "auto" and unset: path style, as botocore does for a custom endpoint.
        "virtual_hosted_style_request": config.addressing_style == "virtual",
    }
    if config.endpoint:
        s3_config["endpoint"] = config.endpoint
    client_options: ClientConfig = {
        "connect_timeout": datetime.timedelta(seconds=config.connect_timeout),
        "timeout": datetime.timedelta(seconds=config.read_timeout),
        "allow_http": bool(config.endpoint and config.endpoint.startswith("http://")),
        "pool_max_idle_per_host": str(config.max_concurrency),
    }
    kwargs: dict[str, Any] = {}
    if config.access_key_id and config.secret_access_key:
        s3_config["access_key_id"] = config.access_key_id
        s3_config["secret_access_key"] = config.secret_access_key
    else:
        kwargs["credential_provider"] = _botocore_credentials()
    # obstore's retries are off: each file is retried by flyte.storage._retry.retrying with our
    # settings (count, backoff, jitter), so there is one retry knob and one error mapping.
    retry: RetryConfig = {"max_retries": 0, "retry_timeout": datetime.timedelta(seconds=config.read_timeout)}
    return S3Store(bucket, config=s3_config, client_options=client_options, retry_config=retry, **kwargs)


def _store(bucket: str, config: S3) -> Any:
    key = (bucket, config)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = _build_store(bucket, config)
        return store


def _split(location: Location) -> tuple[str, str]:
    bucket, _, key = location.path.partition("/")
    return bucket, key.strip("/")


def _key(prefix: str, relative: str) -> str:
    return f"{prefix}/{relative}" if prefix else relative


def _read_small(path: str) -> bytes | None:
    """The file's bytes, or None when it is larger than `SMALL_OBJECT_BYTES`."""
    with open(path, "rb") as f:
        data = f.read(SMALL_OBJECT_BYTES + 1)
    return data if len(data) <= SMALL_OBJECT_BYTES else None


async def put_files(
    src_root: str,
    relatives: Sequence[str],
    dst: Location,
    config: S3,
    limit: int,
    large: Callable[[str, Location], Any],
) -> None:
    """Upload ``src_root/<rel>`` to ``dst/<rel>`` for each relative path, ``limit`` at once;
    files larger than `SMALL_OBJECT_BYTES` go through ``large(local_path, location)``."""
    import obstore

    bucket, prefix = _split(dst)
    store = _store(bucket, config)
    base_uri = dst.uri.rstrip("/")

    async def one(rel: str) -> None:
        local = os.path.join(src_root, rel)
        # Small files are read inline: a thread hand-off per file costs more than the read.
        data = _read_small(local)
        if data is None:
            await large(local, dst.child(rel))
            return
        key = _key(prefix, rel)
        await retrying(
            lambda: obstore.put_async(store, key, data, use_multipart=False),
            uri=f"{base_uri}/{rel}",
            config=config,
        )

    await run_bounded(relatives, one, limit)


async def list_sizes(src: Location, config: S3) -> dict[str, int] | None:
    """Every object below the folder or prefix ``src``: relative path -> size (empty if none).

    None when obstore cannot represent a key below ``src`` (``..`` or empty segments, which its
    paths refuse): the caller then lists with s3fs, which judges such keys itself.
    """
    import obstore
    from obstore.exceptions import InvalidPathError

    bucket, prefix = _split(src)
    store = _store(bucket, config)

    async def listing() -> Sequence[Any]:
        found: Sequence[Any] = await obstore.list(store, prefix=prefix or None, chunk_size=1000).collect_async()
        return found

    try:
        found = await retrying(listing, uri=src.uri, config=config)
    except StorageOperationError as e:
        if isinstance(e.__cause__, InvalidPathError):
            return None
        raise
    cut = len(prefix) + 1 if prefix else 0
    return {str(o["path"])[cut:]: int(o["size"]) for o in found if str(o["path"]) != prefix}


async def get_files(
    src: Location,
    targets: Sequence[tuple[str, str, int]],
    dst_uri: str,
    config: S3,
    limit: int,
    large: Callable[[Location, str], Any],
) -> None:
    """Download ``src/<rel>`` to each ``(rel, local target, size)``, ``limit`` at once, each to
    a temporary name renamed into place; objects larger than `SMALL_OBJECT_BYTES` go through
    ``large(location, target)``. The target folders are made first, once."""
    import obstore

    bucket, prefix = _split(src)
    store = _store(bucket, config)
    base_uri = src.uri.rstrip("/")
    await asyncio.to_thread(_local.make_dirs, (os.path.dirname(t) for _, t, _ in targets), dst_uri)

    async def one(item: tuple[str, str, int]) -> None:
        rel, target, size = item
        if size > SMALL_OBJECT_BYTES:
            await large(src.child(rel), target)
            return
        key = _key(prefix, rel)

        async def fetch() -> Any:  # obstore's Bytes: a buffer, written without a copy
            response = await obstore.get_async(store, key)
            return await response.bytes_async()

        data = await retrying(fetch, uri=f"{base_uri}/{rel}", config=config)
        temp = _local.temp_sibling(target)
        try:
            # Small writes inline: a thread hand-off per file would cost more than the write.
            with open(temp, "wb") as f:  # noqa: ASYNC230
                f.write(data)
            os.replace(temp, target)
        except IsADirectoryError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise InvalidStoragePathError(target, "is a directory; expected a file path to write") from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    await run_bounded(targets, one, limit)
