"""What serializing a task needs to know: where it is deployed and how its code travels."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from flyte.models._frozen import freeze_str_map


@dataclass(frozen=True, kw_only=True)
class CodeBundle:
    """The user's code as shipped to the container: a ``tgz`` of files or a ``pkl`` of a task.

    Args:
        computed_version: content hash of the bundle; part of the task version.
        destination: where the container unpacks it.
        tgz: URI of a tarball of the project's files.
        pkl: URI of a pickled task (notebooks, interactive sessions).
        downloaded_path: where it was unpacked, once it was.
        files: the files in the tarball, when known.
    """

    computed_version: str
    destination: str = "."
    tgz: str | None = None
    pkl: str | None = None
    downloaded_path: Path | None = None
    files: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.tgz and not self.pkl:
            raise ValueError("CodeBundle needs a tgz or a pkl URI")
        if self.files is not None:
            object.__setattr__(self, "files", tuple(self.files))

    def with_downloaded_path(self, path: Path) -> CodeBundle:
        return replace(self, downloaded_path=path)


@dataclass(frozen=True)
class SerializationContext:
    """Where and how a task is being serialized.

    Args:
        version: the task version being deployed.
        project, domain, org: where it is deployed.
        code_bundle: the code the container will load.
        input_path, output_path: the backend's template variables for the action's data.
        interpreter_path: the Python inside the image.
        image_cache: image identifier -> built image URI, for images built before deploying.
        root_dir: the project root the task module paths are relative to.
    """

    version: str
    project: str | None = None
    domain: str | None = None
    org: str | None = None
    code_bundle: CodeBundle | None = None
    input_path: str = "{{.input}}"
    output_path: str = "{{.outputPrefix}}"
    interpreter_path: str = "/opt/venv/bin/python"
    image_cache: Mapping[str, str] | None = None
    root_dir: Path | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(f"SerializationContext.version must be a non-empty string, got {self.version!r}")
        if self.image_cache is not None:
            object.__setattr__(
                self, "image_cache", freeze_str_map(self.image_cache, "SerializationContext.image_cache")
            )
        if self.root_dir is not None:
            object.__setattr__(self, "root_dir", Path(self.root_dir))

    def image_uri(self, identifier: str, default: str | None = None) -> str | None:
        """The built URI of an image from :attr:`image_cache`, else ``default``."""
        if self.image_cache is None:
            return default
        return self.image_cache.get(identifier, default)

    def get_entrypoint_path(self, interpreter_path: str | None = None) -> str:
        """The runtime entrypoint script beside the image's interpreter."""
        return os.path.join(os.path.dirname(interpreter_path or self.interpreter_path), "runtime.py")
