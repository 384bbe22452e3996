"""The layers an `Image` is made of: what each one hashes, which files it needs, how it renders.

Each layer is an immutable value. `resolve` reads what the layer refers to on this machine (files,
a script's metadata) and fails with a plain `OSError`/`ValueError` that the planner turns into an
`ImageBuildError` naming the image and the layer. `render` turns the resolved layer into Dockerfile
instructions. Only `key` and the resolved files and facts enter the content hash, never the
rendered text, so a BuildKit and a classic build of one spec carry the same tag.
"""

from __future__ import annotations

import json
import re
import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from flyte.imagebuild._context import ContextFile, folder_files, single_file
from flyte.imagebuild._dockerignore import DockerIgnore
from flyte.imagebuild._uv_script import script_block

ProjectInstallMode = Literal["dependencies_only", "install_project"]

# Where a layer's context files appear inside the build (classic builds COPY them there,
# BuildKit bind-mounts them so they never end up in the image).
STAGING = "/tmp/flyte-build"
UV_CACHE = "/root/.cache/uv"


@dataclass(frozen=True)
class RenderOptions:
    """How to render: with BuildKit features (cache and bind mounts) or for the classic builder."""

    buildkit: bool
    venv: str | None
    """The image's virtual environment; None installs into the base image's system Python."""


@dataclass(frozen=True)
class Resolved:
    """A layer's inputs as found on this machine: context files and facts read from them."""

    files: tuple[ContextFile, ...] = ()
    facts: tuple[str, ...] = ()
    ignore: DockerIgnore | None = None
    """Patterns this layer adds for the source layers after it (`with_dockerignore`)."""


class Layer(ABC):
    """One step of an image; subclasses are frozen dataclasses."""

    uses_uv: ClassVar[bool] = False

    @abstractmethod
    def label(self) -> str:
        """A short description for progress and error messages."""

    @abstractmethod
    def key(self) -> dict[str, object]:
        """The layer's parameters, JSON-serialisable: part of the content hash."""

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        """Find the layer's inputs; ``at`` is the layer's folder inside the build context."""
        return Resolved()

    @abstractmethod
    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        """Dockerfile instructions for this layer."""


def _uv_run(command: str, opts: RenderOptions, mount: str | None = None) -> list[str]:
    """A ``RUN`` that has uv (and, under BuildKit, the uv cache and this layer's files) mounted."""
    if opts.buildkit:
        mounts = [f"--mount=type=cache,target={UV_CACHE},id=flyte-uv,sharing=locked"]
        mounts.append("--mount=from=uv,source=/uv,target=/usr/local/bin/uv")
        if mount is not None:
            mounts.append(f"--mount=type=bind,source={mount},target={STAGING}/{mount}")
        return [f"RUN {' '.join(mounts)} {command}"]
    # The classic builder has no cache mounts: keep uv's cache out of the image instead.
    copy = [f"COPY {mount} {STAGING}/{mount}"] if mount is not None else []
    return [*copy, f"RUN {command}"]


def _uv_pip_install(args: list[str], opts: RenderOptions) -> str:
    target = ["--python", f"{opts.venv}/bin/python"] if opts.venv else ["--system", "--break-system-packages"]
    cache = ["--link-mode=copy"] if opts.buildkit else ["--no-cache"]
    return shlex.join(["uv", "pip", "install", *target, *cache, *args])


@dataclass(frozen=True)
class _IndexOptions:
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    pre: bool = False
    extra_args: str | None = None

    def index_key(self) -> dict[str, object]:
        return {
            "index_url": self.index_url,
            "extra_index_urls": list(self.extra_index_urls),
            "pre": self.pre,
            "extra_args": self.extra_args,
        }

    def index_args(self) -> list[str]:
        args = ["--index-url", self.index_url] if self.index_url else []
        for url in self.extra_index_urls:
            args += ["--extra-index-url", url]
        if self.pre:
            args.append("--prerelease=allow")
        return args + shlex.split(self.extra_args or "")


@dataclass(frozen=True)
class PipPackages(Layer, _IndexOptions):
    """``uv pip install`` of package requirements, e.g. ``("numpy>=2", "pandas")``."""

    packages: tuple[str, ...] = ()
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"pip packages {' '.join(self.packages)}"

    def key(self) -> dict[str, object]:
        return {"packages": list(self.packages), **self.index_key()}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        return _uv_run(_uv_pip_install([*self.index_args(), *self.packages], opts), opts)


@dataclass(frozen=True)
class Requirements(Layer, _IndexOptions):
    """``uv pip install -r`` of a requirements file (its content is hashed)."""

    file: Path = Path("requirements.txt")
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"requirements {self.file}"

    def key(self) -> dict[str, object]:
        return self.index_key()

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        return Resolved(files=(single_file(self.file, f"{at}/requirements.txt"),))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        install = _uv_pip_install([*self.index_args(), "-r", f"{STAGING}/{at}/requirements.txt"], opts)
        return _uv_run(install, opts, mount=at)


@dataclass(frozen=True)
class UvProject(Layer, _IndexOptions):
    """The locked dependencies of a uv project (``pyproject.toml`` + ``uv.lock``), and optionally
    the project itself."""

    pyproject: Path = Path("pyproject.toml")
    uvlock: Path | None = None
    project_install_mode: ProjectInstallMode = "dependencies_only"
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"uv project {self.pyproject}"

    def key(self) -> dict[str, object]:
        return {"project_install_mode": self.project_install_mode, **self.index_key()}

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        lock = self.uvlock or self.pyproject.parent / "uv.lock"
        files = [single_file(self.pyproject, f"{at}/pyproject.toml"), single_file(lock, f"{at}/uv.lock")]
        if self.project_install_mode == "install_project":
            project = folder_files(self.pyproject.parent, f"{at}/project/", ignore)
            files += [f for f in project if f.arcname not in (f"{at}/project/pyproject.toml",)]
            files.append(single_file(self.pyproject, f"{at}/project/pyproject.toml"))
        return Resolved(files=tuple(files))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        where = f"{STAGING}/{at}"
        export = shlex.join(
            ["uv", "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-workspace", "-o", "/tmp/flyte-req.txt"]
        )
        steps = [f"cd {where}", export, _uv_pip_install([*self.index_args(), "-r", "/tmp/flyte-req.txt"], opts)]
        if self.project_install_mode == "install_project":
            steps.append(_uv_pip_install([*self.index_args(), "--no-deps", f"{where}/project"], opts))
        return _uv_run(" && ".join(steps), opts, mount=at)


@dataclass(frozen=True)
class UvScript(Layer, _IndexOptions):
    """The dependencies declared in a script's PEP 723 block (the script's code is not hashed:
    editing it does not rebuild the image)."""

    script: Path = Path("script.py")
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"uv script {self.script}"

    def key(self) -> dict[str, object]:
        return self.index_key()

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        block = script_block(self.script).encode()
        return Resolved(files=(ContextFile.generated(f"{at}/script.py", block),))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        install = _uv_pip_install([*self.index_args(), "-r", f"{STAGING}/{at}/script.py"], opts)
        return _uv_run(install, opts, mount=at)


_WHEEL = re.compile(r"^(?P<name>[A-Za-z0-9_.]+)-[^-]+(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


@dataclass(frozen=True)
class LocalWheels(Layer):
    """Distributions installed from a folder of wheels, offline (``--no-index --find-links``).

    For development and tests: install this project's own distributions (built with
    ``uv build``) and their dependencies (``pip download``) without reaching a package index.
    """

    folder: Path = Path("dist")
    packages: tuple[str, ...] = ()
    """What to install; empty means every distribution that has a wheel in the folder."""
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"local wheels {self.folder}"

    def key(self) -> dict[str, object]:
        return {"packages": list(self.packages)}

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        if not self.folder.is_dir():
            raise FileNotFoundError(f"wheel folder {self.folder} does not exist")
        wheels = sorted(p for p in self.folder.iterdir() if p.suffix == ".whl" and p.is_file())
        if not wheels:
            raise FileNotFoundError(f"wheel folder {self.folder} has no .whl files")
        names = self.packages or tuple(sorted({_wheel_name(w) for w in wheels}))
        return Resolved(files=tuple(single_file(w, f"{at}/{w.name}") for w in wheels), facts=names)

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        args = ["--no-index", "--find-links", f"{STAGING}/{at}", *resolved.facts]
        return _uv_run(_uv_pip_install(args, opts), opts, mount=at)


def _wheel_name(wheel: Path) -> str:
    m = _WHEEL.match(wheel.name)
    if m is None:
        raise ValueError(f"{wheel.name} is not a wheel file name (name-version-python-abi-platform.whl)")
    return m["name"].replace("_", "-").lower()


@dataclass(frozen=True)
class AptPackages(Layer):
    """``apt-get install`` of Debian packages."""

    packages: tuple[str, ...] = ()

    def label(self) -> str:
        return f"apt packages {' '.join(self.packages)}"

    def key(self) -> dict[str, object]:
        return {"packages": list(self.packages)}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        install = (
            "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
            + shlex.join(self.packages)
        )
        if opts.buildkit:
            # Keep downloaded .debs across builds; Debian images delete them after every install.
            return [
                "RUN --mount=type=cache,target=/var/cache/apt,sharing=locked "
                "--mount=type=cache,target=/var/lib/apt,sharing=locked "
                f"rm -f /etc/apt/apt.conf.d/docker-clean && {install}"
            ]
        return [f"RUN {install} && rm -rf /var/lib/apt/lists/*"]


@dataclass(frozen=True)
class Commands(Layer):
    """Shell commands, one ``RUN`` each."""

    commands: tuple[str, ...] = ()

    def label(self) -> str:
        return f"commands {'; '.join(self.commands)}"

    def key(self) -> dict[str, object]:
        return {"commands": list(self.commands)}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        return [f"RUN {c}" for c in self.commands]


@dataclass(frozen=True)
class EnvVars(Layer):
    """Environment variables of the image."""

    env_vars: tuple[tuple[str, str], ...] = ()

    def label(self) -> str:
        return f"env vars {' '.join(k for k, _ in self.env_vars)}"

    def key(self) -> dict[str, object]:
        return {"env_vars": [list(kv) for kv in self.env_vars]}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        if not self.env_vars:
            return []
        # JSON string quoting is valid Dockerfile quoting for ENV values.
        return ["ENV " + " ".join(f"{k}={json.dumps(v)}" for k, v in self.env_vars)]


@dataclass(frozen=True)
class WorkDir(Layer):
    """The working directory of later layers and of the container."""

    workdir: str = "/"

    def label(self) -> str:
        return f"workdir {self.workdir}"

    def key(self) -> dict[str, object]:
        return {"workdir": self.workdir}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        return [f"WORKDIR {self.workdir}"]


@dataclass(frozen=True)
class SourceFolder(Layer):
    """A local folder copied into the image, minus what ``.dockerignore`` excludes."""

    src: Path = Path(".")
    dst: str = "."
    copy_contents_only: bool = False

    def label(self) -> str:
        return f"source folder {self.src}"

    def _target(self) -> str:
        base = self.dst.rstrip("/") or "/"
        if self.copy_contents_only:
            return base + "/"
        return f"{base}/{self.src.resolve().name}/".replace("//", "/")

    def key(self) -> dict[str, object]:
        # The folder's own name matters (it becomes the target's name), its location does not.
        return {"target": self._target()}

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        return Resolved(files=tuple(folder_files(self.src, f"{at}/src/", ignore)))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        if not resolved.files:
            return []
        return [f"COPY {at}/src/ {self._target()}"]


@dataclass(frozen=True)
class SourceFiles(Layer):
    """Local files copied into one folder of the image."""

    files: tuple[Path, ...] = ()
    dst: str = "."

    def label(self) -> str:
        return f"source files {' '.join(str(f) for f in self.files)}"

    def key(self) -> dict[str, object]:
        return {"names": [f.name for f in self.files], "dst": self.dst}

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        return Resolved(files=tuple(single_file(f, f"{at}/{i}/{f.name}") for i, f in enumerate(self.files)))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        if not resolved.files:
            return []
        target = self.dst.rstrip("/") + "/" if self.dst.rstrip("/") else "/"
        return ["COPY " + json.dumps([f.arcname for f in resolved.files] + [target])]


@dataclass(frozen=True)
class DockerIgnoreFile(Layer):
    """Extra ``.dockerignore`` patterns for the source layers that follow."""

    path: Path = Path(".dockerignore")

    def label(self) -> str:
        return f"dockerignore {self.path}"

    def key(self) -> dict[str, object]:
        return {}

    def resolve(self, at: str, ignore: DockerIgnore) -> Resolved:
        text = self.path.read_text()
        return Resolved(facts=(text,), ignore=DockerIgnore.parse(text))

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        return []


@dataclass(frozen=True)
class PythonVenv(Layer):
    """A virtual environment made by uv from the base image's Python, first on ``PATH``."""

    path: str = "/opt/venv"
    python_version: tuple[int, int] = (3, 12)
    uses_uv: ClassVar[bool] = True

    def label(self) -> str:
        return f"python {self.python_version[0]}.{self.python_version[1]} venv {self.path}"

    def key(self) -> dict[str, object]:
        return {"path": self.path, "python": list(self.python_version)}

    def render(self, at: str, resolved: Resolved, opts: RenderOptions) -> list[str]:
        python = f"python{self.python_version[0]}.{self.python_version[1]}"
        venv = shlex.join(["uv", "venv", self.path, "--python", python, "--python-preference", "only-system"])
        return [
            *_uv_run(venv, opts),
            f'ENV VIRTUAL_ENV={self.path} PATH="{self.path}/bin:$PATH"',
        ]
