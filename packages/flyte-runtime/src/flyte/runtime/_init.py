"""``flyte.init``: where runs go (in-process, or a backend) and with which settings."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flyte.errors import InitializationError


@dataclass(frozen=True)
class InitState:
    """What ``flyte.init`` recorded. No endpoint means local mode."""

    endpoint: str | None = None
    insecure: bool = False
    org: str | None = None
    project: str | None = None
    domain: str | None = None
    root_dir: Path | None = None
    storage: Any = None
    image_builder: str | None = None
    image_registry: str | None = None
    images: dict[str, str] = field(default_factory=dict)

    @property
    def mode(self) -> str:
        return "remote" if self.endpoint else "local"


_state: InitState | None = None


def init(
    org: str | None = None,
    project: str | None = None,
    domain: str | None = None,
    root_dir: Path | None = None,
    endpoint: str | None = None,
    insecure: bool = False,
    storage: Any = None,
    image_builder: str | None = None,
    images: dict[str, str] | None = None,
    image_registry: str | None = None,
    **accepted: Any,
) -> None:
    """Configure the SDK for this process. With no ``endpoint``, runs execute locally, in-process.

    Flyte 2's other arguments (authentication, logging, batching) are accepted; those that have no
    effect in this version are listed by ``flyte.runtime.init_ignored()``.
    """
    global _state, _ignored
    if root_dir is not None and not Path(root_dir).is_dir():
        raise InitializationError("InvalidRootDir", "user", f"init(root_dir={root_dir!r}): not a directory")
    if storage is not None:
        _configure_storage(storage)
    _state = InitState(
        endpoint=endpoint or None,
        insecure=insecure,
        org=org,
        project=project,
        domain=domain,
        root_dir=Path(root_dir) if root_dir is not None else None,
        storage=storage,
        image_builder=image_builder,
        image_registry=image_registry,
        images=dict(images or {}),
    )
    _ignored = tuple(sorted(accepted))
    if endpoint:
        # flyte.remote (Run.get, Run.listall, ...) talks to the backend flyte.init named.
        from flyte.remote import configure

        configure(endpoint, insecure=insecure, org=org, project=project, domain=domain)


_ignored: tuple[str, ...] = ()


def _configure_storage(storage: Any) -> None:
    """``init(storage=S3(...))`` (or a list of S3 / GCS / ABFS configs) configures flyte.storage."""
    import flyte.storage

    backends = list(storage) if isinstance(storage, (list, tuple)) else [storage]
    try:
        flyte.storage.configure(*backends)
    except flyte.storage.StorageError as e:
        raise InitializationError("InvalidStorageConfig", "user", f"init(storage=...): {e}") from e


def init_ignored() -> tuple[str, ...]:
    """Arguments the last ``flyte.init`` accepted for compatibility but does not use."""
    return _ignored


def init_from_config(path_or_config: str | Path | None = None, root_dir: Path | None = None, **kwargs: Any) -> None:
    """``flyte.init`` with the settings of a config file (and ``FLYTE_*`` variables)."""
    from flyte.config import Config

    cfg = path_or_config if isinstance(path_or_config, Config) else Config.auto(path_or_config)
    init(
        org=cfg.task.org,
        project=cfg.task.project,
        domain=cfg.task.domain,
        root_dir=root_dir,
        endpoint=cfg.platform.endpoint,
        insecure=cfg.platform.insecure,
        image_builder=cfg.image.builder,
        image_registry=cfg.image.registry,
        images=dict(cfg.image.image_refs),
        **kwargs,
    )


def init_in_cluster(**kwargs: Any) -> None:
    """``flyte.init`` from the environment a backend gives a task container."""
    init(
        org=os.environ.get("_U_ORG_NAME"),
        project=os.environ.get("FLYTE_INTERNAL_EXECUTION_PROJECT"),
        domain=os.environ.get("FLYTE_INTERNAL_EXECUTION_DOMAIN"),
        endpoint=os.environ.get("_U_EP_OVERRIDE"),
        insecure=os.environ.get("_U_INSECURE", "").lower() in ("1", "true", "yes"),
        **kwargs,
    )


def current_state() -> InitState:
    """The recorded settings; local mode when ``flyte.init`` was never called."""
    return _state if _state is not None else InitState()


def current_project() -> str | None:
    return current_state().project


def current_domain() -> str | None:
    return current_state().domain
