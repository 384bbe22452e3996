"""The SDK's settings: what they are, where each comes from, and how they are validated."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flyte.config._file import ConfigError, find_config_file, read_config_file


@dataclass(frozen=True)
class PlatformConfig:
    """How to reach a Flyte 2 backend.

    Args:
        endpoint: the backend's address, e.g. ``dns:///flyte.example.com`` or ``localhost:8090``;
            None means local mode.
        insecure: plaintext instead of TLS.
        insecure_skip_verify: TLS without verifying the server's certificate.
        ca_cert_file_path: a CA bundle to verify the server with.
        console_endpoint: where the web console lives, when not at ``endpoint``.
        rpc_retries: attempts for an idempotent call that fails with a transient status.
    """

    endpoint: str | None = None
    insecure: bool = False
    insecure_skip_verify: bool = False
    ca_cert_file_path: str | None = None
    console_endpoint: str | None = None
    rpc_retries: int = 3


@dataclass(frozen=True)
class TaskConfig:
    """Where runs and tasks are registered: organisation, project and domain."""

    org: str | None = None
    project: str | None = None
    domain: str | None = None


@dataclass(frozen=True)
class ImageConfig:
    """How images are built and named.

    Args:
        builder: ``local`` (the Docker engine), ``remote`` (the backend), or a plugin's name.
        registry: where built images are pushed, e.g. ``localhost:5000``.
        image_refs: names for prebuilt images, usable as ``Image.from_ref_name(name)``.
    """

    builder: str | None = None
    registry: str | None = None
    image_refs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Setting:
    """One configurable value: its YAML key, the config field it fills, and its type."""

    key: str  # "admin.endpoint"
    section: str  # attribute of Config: "platform"
    field: str  # attribute of that section: "endpoint"
    kind: type

    @property
    def env_var(self) -> str:
        return "FLYTE_" + self.key.replace(".", "_").upper()


_SETTINGS = (
    _Setting("admin.endpoint", "platform", "endpoint", str),
    _Setting("admin.insecure", "platform", "insecure", bool),
    _Setting("admin.insecureSkipVerify", "platform", "insecure_skip_verify", bool),
    _Setting("admin.caCertFilePath", "platform", "ca_cert_file_path", str),
    _Setting("admin.rpcRetries", "platform", "rpc_retries", int),
    _Setting("console.endpoint", "platform", "console_endpoint", str),
    _Setting("task.org", "task", "org", str),
    _Setting("task.project", "task", "project", str),
    _Setting("task.domain", "task", "domain", str),
    _Setting("image.builder", "image", "builder", str),
    _Setting("image.registry", "image", "registry", str),
    _Setting("image.image_refs", "image", "image_refs", dict),
)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class Config:
    """All settings, resolved: ``FLYTE_<SECTION>_<KEY>`` environment variables win over the file.

    Example:
        >>> cfg = Config.auto()  # doctest: +SKIP
        >>> cfg.platform.endpoint, cfg.task.project  # doctest: +SKIP
        ('localhost:8090', 'flytesnacks')
    """

    platform: PlatformConfig = field(default_factory=PlatformConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    image: ImageConfig = field(default_factory=ImageConfig)
    source: Path | None = None  # the file the settings came from, if any

    @classmethod
    def auto(cls, config_file: str | Path | None = None) -> Config:
        """Read ``config_file`` (or the one :func:`find_config_file` finds) and the environment."""
        path = Path(config_file).expanduser() if config_file is not None else find_config_file()
        data = read_config_file(path) if path is not None else {}
        sections: dict[str, dict[str, Any]] = {"platform": {}, "task": {}, "image": {}}
        for setting in _SETTINGS:
            value = _lookup(setting, data, path)
            if value is not None:
                sections[setting.section][setting.field] = value
        return cls(
            platform=PlatformConfig(**sections["platform"]),
            task=TaskConfig(**sections["task"]),
            image=ImageConfig(**sections["image"]),
            source=path,
        )

    def to_yaml(self) -> str:
        """The settings that differ from the defaults, as the YAML a config file holds."""
        import yaml

        data: dict[str, dict[str, Any]] = {}
        defaults = Config()
        for setting in _SETTINGS:
            value = getattr(getattr(self, setting.section), setting.field)
            if value != getattr(getattr(defaults, setting.section), setting.field):
                section, _, key = setting.key.partition(".")
                data.setdefault(section, {})[key] = dict(value) if isinstance(value, Mapping) else value
        return yaml.safe_dump(data, sort_keys=False) if data else ""

    def with_params(
        self,
        platform: PlatformConfig | None = None,
        task: TaskConfig | None = None,
        image: ImageConfig | None = None,
    ) -> Config:
        """A copy with the given sections replaced."""
        return dataclasses.replace(
            self, platform=platform or self.platform, task=task or self.task, image=image or self.image
        )


def auto(config_file: str | Path | None = None) -> Config:
    """Shorthand for :meth:`Config.auto`."""
    return Config.auto(config_file)


def _lookup(setting: _Setting, data: Mapping[str, Any], path: Path | None) -> Any:
    raw = os.environ.get(setting.env_var)
    if raw is not None:
        return _from_env(setting, raw)
    section_name, _, key = setting.key.partition(".")
    section = data.get(section_name)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: {section_name} must be a mapping of keys, got {section!r}")
    if key not in section or section[key] is None:
        return None
    return _from_file(setting, section[key], path)


def _from_env(setting: _Setting, raw: str) -> Any:
    where = f"environment variable {setting.env_var}"
    if setting.kind is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ConfigError(f"{where}={raw!r}: expected true or false")
    if setting.kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{where}={raw!r}: expected an integer") from None
    if setting.kind is dict:
        # NAME=REF pairs separated by commas, the one readable way to put a mapping in a variable.
        pairs = [p for p in raw.split(",") if p.strip()]
        if not all("=" in p for p in pairs):
            raise ConfigError(f"{where}={raw!r}: expected name=value pairs separated by commas")
        return {k.strip(): v.strip() for k, v in (p.split("=", 1) for p in pairs)}
    return raw


def _from_file(setting: _Setting, value: Any, path: Path | None) -> Any:
    where = f"config file {path}: {setting.key}"
    if setting.kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{where} is {value!r}; expected true or false")
    if setting.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where} is {value!r}; expected an integer")
    if setting.kind is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where} is {value!r}; expected a mapping of names to image URIs")
        return {str(k): v for k, v in value.items()}
    if setting.kind is str:
        if isinstance(value, (dict, list, bool)):
            raise ConfigError(f"{where} is {value!r}; expected a string")
        return str(value)
    return value
