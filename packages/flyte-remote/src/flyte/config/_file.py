"""Finding and reading the YAML config file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flyte.errors import InitializationError


class ConfigError(InitializationError):
    """The configuration (a file, a key in it, or a ``FLYTE_*`` variable) is unusable."""

    def __init__(self, message: str):
        super().__init__("ConfigError", "user", message)


def find_config_file(cwd: Path | None = None) -> Path | None:
    """The config file in effect when none is named explicitly, or None.

    Looked up in order: ``./config.yaml``, ``./.flyte/config.yaml``, ``.flyte/config.yaml`` at the
    root of the enclosing git repository, ``$FLYTECTL_CONFIG``, ``~/.flyte/config.yaml``.
    """
    here = (cwd or Path.cwd()).resolve()
    candidates = [here / "config.yaml", here / ".flyte" / "config.yaml"]
    git_root = _git_root(here)
    if git_root is not None:
        candidates.append(git_root / ".flyte" / "config.yaml")
    from_env = os.environ.get("FLYTECTL_CONFIG")
    if from_env:
        candidates.append(Path(from_env).expanduser())
    candidates.append(Path.home() / ".flyte" / "config.yaml")
    return next((c for c in candidates if c.is_file()), None)


def _git_root(start: Path) -> Path | None:
    # Walk up instead of running `git`: this runs on every CLI start and must stay cheap.
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse ``path`` as a mapping of sections; errors name the file and what is wrong."""
    import yaml  # only when a file is actually read

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory; expected a YAML file") from None
    except OSError as e:
        raise ConfigError(f"config file {path} cannot be read: {e.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must be a mapping of sections (admin:, task:, image:), got {type(data).__name__}"
        )
    return data
