"""`Image`: an immutable description of a container image, built layer by layer."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from flyte.imagebuild._layers import (
    AptPackages,
    Commands,
    DockerIgnoreFile,
    EnvVars,
    Layer,
    LocalWheels,
    PipPackages,
    ProjectInstallMode,
    PythonVenv,
    Requirements,
    SourceFiles,
    SourceFolder,
    UvProject,
    UvScript,
    WorkDir,
)
from flyte.models._image import ImageRef

if TYPE_CHECKING:
    from flyte.imagebuild._plan import BuildPlan

Architecture = str
"""A platform such as ``"linux/amd64"``."""

_DEFAULT_PLATFORMS: tuple[Architecture, ...] = ("linux/amd64", "linux/arm64")
_VENV = "/opt/venv"


def _current_python() -> tuple[int, int]:
    return sys.version_info[0], sys.version_info[1]


def _platforms(platform: Architecture | tuple[Architecture, ...] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if platform is None:
        return default
    return (platform,) if isinstance(platform, str) else tuple(platform)


def _urls(urls: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    if urls is None:
        return ()
    return (urls,) if isinstance(urls, str) else tuple(urls)


def _no_secret_mounts(secret_mounts: object) -> None:
    if secret_mounts is not None:
        raise ValueError(
            "secret_mounts is not supported by flyte.imagebuild yet; pass secrets as build commands instead"
        )


@dataclass(frozen=True)
class Image:
    """An immutable container image specification.

    Start from `from_debian_base`, `from_base`, `from_dockerfile` or `from_uv_script`, then add layers;
    every ``with_*`` method returns a new `Image`. `uri` is ``registry/name:<content hash>``: the
    hash covers the base, every layer's parameters and the content of every file a layer refers
    to, so the same specification has the same tag on any machine and any change gives a new one.

    Example:
        >>> base = Image.from_debian_base(python_version=(3, 12), install_flyte=False, name="app")
        >>> image = (
        ...     base.clone(registry="localhost:5000")
        ...     .with_pip_packages("numpy>=2")
        ...     .with_env_vars({"MODE": "batch"})
        ... )
        >>> image.uri.startswith("localhost:5000/app:")
        True
    """

    base_image: str | None = None
    dockerfile: Path | None = None
    registry: str | None = None
    name: str | None = None
    platform: tuple[Architecture, ...] = ("linux/amd64",)
    python_version: tuple[int, int] = field(default_factory=_current_python)
    extendable: bool = False
    _layers: tuple[Layer, ...] = ()
    _venv: str | None = None
    """The virtual environment installs go to; None: the base image's system Python."""
    _registry_secret: str | None = field(default=None, compare=False)

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_debian_base(
        cls,
        python_version: tuple[int, int] | None = None,
        flyte_version: str | None = None,
        install_flyte: bool = True,
        registry: str | None = None,
        registry_secret: str | None = None,
        name: str | None = None,
        platform: tuple[Architecture, ...] | None = None,
    ) -> Image:
        """The official ``python:<version>-slim-bookworm`` image with a uv-made virtual env in
        ``/opt/venv``, and the flyte SDK installed unless ``install_flyte=False``.

        Args:
            python_version: ``(major, minor)``; default: this interpreter's.
            flyte_version: the ``flyte`` version to install; default: the one installed here.
            install_flyte: install the ``flyte`` distribution into the image.
            registry: where the image is pushed, e.g. ``"ghcr.io/org"``; None keeps it local.
            registry_secret: name of the secret used to pull the image (recorded, not used to build).
            name: the image name; default ``"flyte"``.
            platform: target platforms; default ``("linux/amd64", "linux/arm64")``.

        Raises:
            ValueError: ``install_flyte`` is set but no ``flyte_version`` is given and the
                ``flyte`` distribution is not installed here.
        """
        py = python_version or _current_python()
        image = cls(
            base_image=f"python:{py[0]}.{py[1]}-slim-bookworm",
            registry=registry,
            name=name or "flyte",
            platform=_platforms(platform, _DEFAULT_PLATFORMS),
            python_version=py,
            extendable=True,
            _layers=(PythonVenv(_VENV, py), WorkDir("/root")),
            _venv=_VENV,
            _registry_secret=registry_secret,
        )
        if install_flyte:
            if flyte_version is None:
                from importlib.metadata import PackageNotFoundError, version  # ~50 ms: only when asked

                try:
                    flyte_version = version("flyte")
                except PackageNotFoundError:
                    raise ValueError(
                        "install_flyte=True installs the flyte distribution in the version installed here, but "
                        "flyte is not installed; pass flyte_version=..., or install_flyte=False and add the SDK "
                        "yourself (e.g. .with_local_wheels(folder))"
                    ) from None
            image = image._add(PipPackages(packages=(f"flyte=={flyte_version}",)))
        return image

    @classmethod
    def from_base(cls, image_uri: str) -> Image:
        """An existing image used as it is. To add layers, `clone` it with a name and
        ``extendable=True``.

        Raises:
            ValueError: ``image_uri`` is not an image reference.
        """
        ImageRef(image_uri)  # validates the reference, with a message that shows the expected shape
        return cls(base_image=image_uri)

    @classmethod
    def from_dockerfile(
        cls,
        file: Path | str,
        registry: str,
        name: str,
        platform: Architecture | tuple[Architecture, ...] | None = None,
    ) -> Image:
        """An image built from your Dockerfile; its folder (minus ``.dockerignore``) is the build
        context and is hashed into the tag. Layers cannot be added to it.
        """
        return cls(
            dockerfile=Path(file).absolute(),
            registry=registry,
            name=name,
            platform=_platforms(platform, ("linux/amd64",)),
        )

    @classmethod
    def from_uv_script(
        cls,
        script: Path | str,
        *,
        name: str,
        registry: str | None = None,
        registry_secret: str | None = None,
        python_version: tuple[int, int] | None = None,
        index_url: str | None = None,
        extra_index_urls: str | list[str] | tuple[str, ...] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        platform: tuple[Architecture, ...] | None = None,
        secret_mounts: object = None,
    ) -> Image:
        """The Debian base image with the dependencies of a uv script's PEP 723 block.

        The SDK itself is not added: list it in the script's dependencies.
        """
        _no_secret_mounts(secret_mounts)
        base = cls.from_debian_base(
            python_version=python_version,
            install_flyte=False,
            registry=registry,
            registry_secret=registry_secret,
            name=name,
            platform=platform,
        )
        return base._add(
            UvScript(
                script=Path(script).absolute(),
                index_url=index_url,
                extra_index_urls=_urls(extra_index_urls),
                pre=pre,
                extra_args=extra_args,
            )
        )

    # -- layers ---------------------------------------------------------------------------------

    def _add(self, layer: Layer) -> Image:
        if not self.extendable:
            raise ValueError(
                f"cannot add {layer.label()!r} to {self.base_image or self.dockerfile}: the image is not extendable; "
                "use .clone(name=..., extendable=True) first (images from from_dockerfile never are)"
            )
        return replace(self, _layers=(*self._layers, layer))

    def with_pip_packages(
        self,
        *packages: str,
        index_url: str | None = None,
        extra_index_urls: str | list[str] | tuple[str, ...] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        secret_mounts: object = None,
    ) -> Image:
        """Install packages with ``uv pip install``, e.g. ``.with_pip_packages("numpy>=2", "pandas")``."""
        _no_secret_mounts(secret_mounts)
        return self._add(
            PipPackages(
                packages=packages,
                index_url=index_url,
                extra_index_urls=_urls(extra_index_urls),
                pre=pre,
                extra_args=extra_args,
            )
        )

    def with_requirements(
        self,
        file: str | Path,
        index_url: str | None = None,
        extra_index_urls: str | list[str] | tuple[str, ...] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        secret_mounts: object = None,
    ) -> Image:
        """Install a requirements file; its content is part of the tag."""
        _no_secret_mounts(secret_mounts)
        return self._add(
            Requirements(
                file=Path(file).absolute(),
                index_url=index_url,
                extra_index_urls=_urls(extra_index_urls),
                pre=pre,
                extra_args=extra_args,
            )
        )

    def with_uv_project(
        self,
        pyproject_file: str | Path,
        uvlock: Path | None = None,
        index_url: str | None = None,
        extra_index_urls: list[str] | tuple[str, ...] | None = None,
        pre: bool = False,
        extra_args: str | None = None,
        secret_mounts: object = None,
        project_install_mode: ProjectInstallMode = "dependencies_only",
    ) -> Image:
        """Install a uv project's locked dependencies (``uv.lock`` beside ``pyproject_file`` by
        default), and the project itself with ``project_install_mode="install_project"``."""
        _no_secret_mounts(secret_mounts)
        return self._add(
            UvProject(
                pyproject=Path(pyproject_file).absolute(),
                uvlock=Path(uvlock).absolute() if uvlock is not None else None,
                project_install_mode=project_install_mode,
                index_url=index_url,
                extra_index_urls=_urls(extra_index_urls),
                pre=pre,
                extra_args=extra_args,
            )
        )

    def with_local_wheels(self, folder: str | Path, *packages: str) -> Image:
        """Install distributions from a folder of wheels without a package index.

        For development and tests: ``uv build --all-packages -o dist`` plus ``pip download`` of the
        dependencies into the same folder, then ``.with_local_wheels("dist", "flyte")``. With no
        ``packages``, every distribution that has a wheel in the folder is installed. The wheels'
        content is part of the tag.
        """
        return self._add(LocalWheels(folder=Path(folder).absolute(), packages=packages))

    def with_apt_packages(self, *packages: str, secret_mounts: object = None) -> Image:
        """Install Debian packages with ``apt-get``."""
        _no_secret_mounts(secret_mounts)
        return self._add(AptPackages(packages=packages))

    def with_commands(self, commands: Sequence[str], secret_mounts: object = None) -> Image:
        """Run shell commands, one ``RUN`` step each."""
        _no_secret_mounts(secret_mounts)
        if isinstance(commands, str):
            raise TypeError("with_commands takes a list of commands, e.g. with_commands(['echo hi'])")
        return self._add(Commands(commands=tuple(commands)))

    def with_env_vars(self, env_vars: dict[str, str]) -> Image:
        """Set environment variables in the image."""
        return self._add(EnvVars(env_vars=tuple((str(k), str(v)) for k, v in env_vars.items())))

    def with_workdir(self, workdir: str) -> Image:
        """Set the working directory of later layers and of containers."""
        return self._add(WorkDir(workdir))

    def with_source_folder(self, src: Path, dst: str = ".", copy_contents_only: bool = False) -> Image:
        """Copy a local folder (minus its ``.dockerignore``) into ``dst`` (default: the working
        directory); as ``dst/<folder name>`` unless ``copy_contents_only``."""
        return self._add(SourceFolder(src=Path(src).absolute(), dst=dst, copy_contents_only=copy_contents_only))

    def with_source_file(self, src: Path | list[Path], dst: str = ".") -> Image:
        """Copy local file(s) into the folder ``dst`` (default: the working directory)."""
        files = [src] if isinstance(src, (str, Path)) else list(src)
        return self._add(SourceFiles(files=tuple(Path(f).absolute() for f in files), dst=dst))

    def with_dockerignore(self, path: Path) -> Image:
        """Exclude what ``path``'s patterns match from the source layers added after this."""
        return self._add(DockerIgnoreFile(Path(path).absolute()))

    def clone(
        self,
        registry: str | None = None,
        registry_secret: str | None = None,
        name: str | None = None,
        base_image: str | None = None,
        python_version: tuple[int, int] | None = None,
        addl_layer: Layer | None = None,
        extendable: bool | None = None,
        platform: Architecture | tuple[Architecture, ...] | None = None,
    ) -> Image:
        """A copy with other base properties; the layers are kept (``addl_layer`` is appended).

        Registry and name are not part of the tag: a clone pushed elsewhere keeps its hash.
        """
        if base_image is not None:
            ImageRef(base_image)
        image = replace(
            self,
            registry=registry if registry is not None else self.registry,
            _registry_secret=registry_secret if registry_secret is not None else self._registry_secret,
            name=name if name is not None else self.name,
            base_image=base_image if base_image is not None else self.base_image,
            python_version=python_version or self.python_version,
            extendable=extendable if extendable is not None else self.extendable,
            platform=_platforms(platform, self.platform),
        )
        return replace(image, _layers=(*image._layers, addl_layer)) if addl_layer is not None else image

    # -- identity -------------------------------------------------------------------------------

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The layers, in build order."""
        return self._layers

    @property
    def needs_build(self) -> bool:
        """False for `from_base` images used as they are: there is nothing to build."""
        return self.dockerfile is not None or bool(self._layers)

    @property
    def reference(self) -> str:
        """``registry/name`` without the tag (for messages before the tag is known)."""
        if self.name is None:
            return self.base_image or str(self.dockerfile)
        return f"{self.registry}/{self.name}" if self.registry else self.name

    @cached_property
    def _plan(self) -> BuildPlan:
        from flyte.imagebuild._plan import plan_image

        return plan_image(self)

    @cached_property
    def uri(self) -> str:
        """``registry/name:<content hash>``, or the base URI of an unchanged `from_base` image.

        Computed once per `Image` object (reading every referenced file).

        Raises:
            flyte.errors.ImageBuildError: a referenced file is missing, or the image has no name.
        """
        if not self.needs_build:
            assert self.base_image is not None
            return self.base_image
        return f"{self.reference}:{self._plan.tag}"

    def validate(self) -> None:
        """Check that every file the image refers to exists, by computing its tag.

        Raises:
            flyte.errors.ImageBuildError: naming the layer and the missing input.
        """
        _ = self.uri
