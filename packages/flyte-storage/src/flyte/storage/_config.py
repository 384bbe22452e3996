"""Backend configuration: credentials and endpoints per store, retry and concurrency settings.

Each config class is a frozen dataclass whose ``auto()`` reads the environment. The runtime
hands one (or several) to :func:`configure` (``flyte.init(storage=...)`` does); a scheme with no
configured backend uses its class's ``auto()``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from flyte.storage._errors import StorageConfigError

__all__ = ["ABFS", "GCS", "S3", "Storage", "config_for", "configure", "raw_data_path"]

_T = TypeVar("_T", bound="Storage")


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StorageConfigError(name, f"expected an integer >= {minimum}, got {raw!r}") from None
    if value < minimum:
        raise StorageConfigError(name, f"expected an integer >= {minimum}, got {value}")
    return value


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise StorageConfigError(name, f"expected a number of seconds, got {raw!r}") from None
    if value < 0:
        raise StorageConfigError(name, f"expected a number of seconds >= 0, got {value}")
    return value


@dataclass(frozen=True)
class Storage:
    """Settings every backend shares.

    Args:
        retries: how many times a transient failure (5xx, throttling, reset connection,
            timeout) is retried; env ``FLYTE_STORAGE_RETRIES`` (default 3).
        backoff: seconds before the first retry; each further retry doubles it (with jitter,
            capped at ``max_backoff``); env ``FLYTE_STORAGE_BACKOFF_SECONDS`` (default 1).
        max_backoff: the longest wait between two attempts, in seconds.
        max_concurrency: how many files a directory transfer moves at once; env
            ``FLYTE_STORAGE_CONCURRENCY`` (default 32).
    """

    retries: int = 3
    backoff: float = 1.0
    max_backoff: float = 16.0
    max_concurrency: int = 32

    def __post_init__(self) -> None:
        if self.retries < 0:
            raise StorageConfigError(f"{type(self).__name__}.retries", f"expected >= 0, got {self.retries}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise StorageConfigError(f"{type(self).__name__}.backoff", "expected seconds >= 0")
        if self.max_concurrency < 1:
            name = f"{type(self).__name__}.max_concurrency"
            raise StorageConfigError(name, f"expected >= 1, got {self.max_concurrency}")

    @classmethod
    def _common_from_env(cls) -> dict[str, Any]:
        return {
            "retries": _env_int("FLYTE_STORAGE_RETRIES", 3, 0),
            "backoff": _env_float("FLYTE_STORAGE_BACKOFF_SECONDS", 1.0),
            "max_concurrency": _env_int("FLYTE_STORAGE_CONCURRENCY", 32, 1),
        }

    @classmethod
    def auto(cls: type[_T]) -> _T:
        """This class's settings from the environment."""
        return cls(**cls._common_from_env())

    def fsspec_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the backend's fsspec filesystem (none for local disk)."""
        return {}

    async def prepare_filesystem(self, fs: Any) -> None:
        """Adjust a freshly built filesystem (settings its constructor does not take)."""

    def with_overrides(self: _T, **changes: Any) -> _T:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise StorageConfigError(type(self).__name__, f"unknown setting(s) {unknown}; known: {sorted(known)}")
        return type(self)(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


@dataclass(frozen=True)
class S3(Storage):
    """Amazon S3 or an S3-compatible store (MinIO, moto, ...), served by ``s3fs``.

    Args:
        endpoint: URL of an S3-compatible endpoint; env ``FLYTE_AWS_ENDPOINT``.
        access_key_id: env ``FLYTE_AWS_ACCESS_KEY_ID``; unset means boto's default chain.
        secret_access_key: env ``FLYTE_AWS_SECRET_ACCESS_KEY``.
        region: e.g. ``us-east-1``; env ``FLYTE_AWS_REGION`` (else boto's default chain).
        addressing_style: ``"path"``, ``"virtual"`` or ``"auto"``; env ``FLYTE_AWS_S3_ADDRESSING_STYLE``.
        connect_timeout: seconds to open a connection before it counts as a transient failure.
        read_timeout: seconds to wait for a response before it counts as a transient failure.
        part_size: multipart part size in bytes for large uploads (>= 5 MiB).
        part_concurrency: parts of one large upload in flight at once; memory use is about
            ``part_size * part_concurrency``. Downloads stream in one request.

    Example:
        >>> S3(endpoint="http://127.0.0.1:9000", access_key_id="minio", secret_access_key="secret")
        ... # doctest: +ELLIPSIS
        S3(...)
    """

    endpoint: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str | None = None
    addressing_style: str | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    part_size: int = 16 * 2**20
    part_concurrency: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.addressing_style not in (None, "path", "virtual", "auto"):
            raise StorageConfigError(
                "S3.addressing_style", f"expected 'path', 'virtual' or 'auto', got {self.addressing_style!r}"
            )
        if self.part_size < 5 * 2**20:
            raise StorageConfigError("S3.part_size", f"S3 parts are at least 5 MiB, got {self.part_size} bytes")
        if self.part_concurrency < 1:
            raise StorageConfigError("S3.part_concurrency", f"expected >= 1, got {self.part_concurrency}")

    @classmethod
    def auto(cls, region: str | None = None) -> S3:
        """S3 settings from ``FLYTE_AWS_*`` and ``FLYTE_STORAGE_*`` environment variables."""
        return cls(
            endpoint=_env("FLYTE_AWS_ENDPOINT"),
            access_key_id=_env("FLYTE_AWS_ACCESS_KEY_ID"),
            secret_access_key=_env("FLYTE_AWS_SECRET_ACCESS_KEY"),
            region=region or _env("FLYTE_AWS_REGION"),
            addressing_style=_env("FLYTE_AWS_S3_ADDRESSING_STYLE"),
            **cls._common_from_env(),
        )

    def fsspec_kwargs(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            # Retries are ours (flyte.storage._retry), so that FLYTE_STORAGE_RETRIES is the one knob
            # and a retry is visible to our error classification; boto and s3fs try once.
            "retries": {"total_max_attempts": 1, "mode": "standard"},
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            # botocore's pool holds 10 connections by default: without this, a folder transfer
            # would run at most 10 files at once whatever max_concurrency says.
            "max_pool_connections": max(self.max_concurrency, self.part_concurrency),
        }
        if self.addressing_style:
            config["s3"] = {"addressing_style": self.addressing_style}
        kwargs: dict[str, Any] = {"config_kwargs": config}
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        if self.access_key_id:
            kwargs["key"] = self.access_key_id
        if self.secret_access_key:
            kwargs["secret"] = self.secret_access_key
        if self.region:
            kwargs["client_kwargs"] = {"region_name": self.region}
        return kwargs

    async def prepare_filesystem(self, fs: Any) -> None:
        fs.retries = 1  # s3fs's own retry loop: one attempt, ours decides the rest
        client = await fs.set_session()
        # botocore sends "Expect: 100-continue" on uploads, and aiohttp then waits for the "100
        # Continue" with no timeout: a server that stalls at that point would hang the upload
        # forever. Without the header the body goes at once and read_timeout covers the wait.
        from botocore.handlers import add_expect_header  # type: ignore[import-untyped]

        client.meta.events.unregister("before-call.s3", add_expect_header)


@dataclass(frozen=True)
class GCS(Storage):
    """Google Cloud Storage, served by ``gcsfs``.

    Args:
        project: the Google Cloud project; env ``GOOGLE_CLOUD_PROJECT``.
        token: a credentials file path, ``"anon"``, ``"google_default"`` or ``"cloud"``; env
            ``GOOGLE_APPLICATION_CREDENTIALS`` (else gcsfs's default lookup).
        endpoint: URL of a GCS-compatible endpoint (an emulator); env ``STORAGE_EMULATOR_HOST``.
    """

    project: str | None = None
    token: str | None = None
    endpoint: str | None = None

    @classmethod
    def auto(cls) -> GCS:
        """GCS settings from the environment."""
        return cls(
            project=_env("GOOGLE_CLOUD_PROJECT"),
            token=_env("GOOGLE_APPLICATION_CREDENTIALS"),
            endpoint=_env("STORAGE_EMULATOR_HOST"),
            **cls._common_from_env(),
        )

    def fsspec_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.project:
            kwargs["project"] = self.project
        if self.token:
            kwargs["token"] = self.token
        if self.endpoint:
            kwargs["endpoint_url"] = self.endpoint
        return kwargs


@dataclass(frozen=True)
class ABFS(Storage):
    """Azure Blob Storage / ADLS Gen2 (``abfs://`` and ``abfss://``), served by ``adlfs``.

    Args:
        account_name: env ``AZURE_STORAGE_ACCOUNT_NAME``.
        account_key: env ``AZURE_STORAGE_ACCOUNT_KEY``.
        tenant_id: service principal tenant; env ``AZURE_TENANT_ID``.
        client_id: service principal id; env ``AZURE_CLIENT_ID``.
        client_secret: service principal secret; env ``AZURE_CLIENT_SECRET``.
        connection_string: a full connection string (wins over the fields above, and is how an
            emulator such as Azurite is reached); env ``AZURE_STORAGE_CONNECTION_STRING``.
    """

    account_name: str | None = None
    account_key: str | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    connection_string: str | None = field(default=None, repr=False)

    @classmethod
    def auto(cls) -> ABFS:
        """Azure settings from ``AZURE_STORAGE_*`` and ``AZURE_*`` environment variables."""
        return cls(
            account_name=_env("AZURE_STORAGE_ACCOUNT_NAME"),
            account_key=_env("AZURE_STORAGE_ACCOUNT_KEY"),
            tenant_id=_env("AZURE_TENANT_ID"),
            client_id=_env("AZURE_CLIENT_ID"),
            client_secret=_env("AZURE_CLIENT_SECRET"),
            connection_string=_env("AZURE_STORAGE_CONNECTION_STRING"),
            **cls._common_from_env(),
        )

    def fsspec_kwargs(self) -> dict[str, Any]:
        if self.connection_string:
            return {"connection_string": self.connection_string}
        names = ("account_name", "account_key", "tenant_id", "client_id", "client_secret")
        return {n: getattr(self, n) for n in names if getattr(self, n)}


_BACKEND_CLASSES: dict[str, type[Storage]] = {"file": Storage, "s3": S3, "gs": GCS, "abfs": ABFS}


class _Settings:
    """The process-wide configuration."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.backends: dict[str, Storage] = {}
        self.raw_data_path: str | None = None


_settings = _Settings()


def configure(*backends: Storage, raw_data_path: str | None = None) -> None:
    """Set the backends' configuration for this process, replacing what was set before.

    Args:
        *backends: at most one of each of `S3`, `GCS`, `ABFS` (and a plain `Storage` for the
            retry and concurrency settings of local disk). A scheme left out uses ``auto()``.
        raw_data_path: the prefix that `put` and `put_stream` upload under when they are given
            no destination.

    Example:
        >>> configure(S3(endpoint="http://127.0.0.1:9000"), raw_data_path="s3://bucket/raw")
        >>> configure()  # back to the environment's settings
    """
    chosen: dict[str, Storage] = {}
    for backend in backends:
        protocol = next((p for p, c in _BACKEND_CLASSES.items() if type(backend) is c), None)
        if protocol is None:
            raise StorageConfigError("configure", f"expected S3, GCS, ABFS or Storage, got {type(backend).__name__}")
        if protocol in chosen:
            raise StorageConfigError("configure", f"{type(backend).__name__} was given twice")
        chosen[protocol] = backend
    with _settings.lock:
        _settings.backends = chosen
        _settings.raw_data_path = raw_data_path


def config_for(protocol: str) -> Storage:
    """The configuration that serves ``protocol`` (configured, else from the environment)."""
    backend = _settings.backends.get(protocol)
    return backend if backend is not None else _BACKEND_CLASSES[protocol].auto()


def raw_data_path() -> str | None:
    return _settings.raw_data_path
