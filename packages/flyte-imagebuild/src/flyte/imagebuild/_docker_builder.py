"""`DockerBuilder`: builds, tags and pushes images on a Docker engine through the docker SDK.

Before building it looks for the image in its registry and on the engine (both without the
docker SDK, which is slow to import). The build itself goes through the SDK's classic builder,
or, when a docker CLI that speaks BuildKit is found, through that CLI so the Dockerfile can use
cache mounts. Either way the tag is applied only when the build succeeded, and a tag whose push
failed is removed again: a failed build leaves no image under the URI.
"""

from __future__ import annotations

# subprocess, tempfile and shutil are imported where a build needs them: a no-op rebuild does not.
import functools
import logging
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from flyte.imagebuild._builder import ImageBuild
from flyte.imagebuild._engine_probe import docker_host, engine_has_image
from flyte.imagebuild._errors import image_build_error
from flyte.imagebuild._progress import emit as emit_progress

if TYPE_CHECKING:
    import docker

    from flyte.errors import ImageBuildError
    from flyte.imagebuild._image import Image
    from flyte.imagebuild._plan import BuildPlan, Step

logger = logging.getLogger("flyte.imagebuild")

_CLASSIC_STEP = re.compile(r"^Step (\d+)/\d+ : (.*)$")
_BUILDKIT_STEP = re.compile(r"^#(\d+) \[[^\]]*\] (.*)$")
_BUILDKIT_ERROR = re.compile(r"^#(\d+) ERROR: (.*)$")
_TAIL = 12  # output lines of the failing step quoted in the error


class DockerBuilder:
    """The ``"local"`` builder: a Docker engine reached through the docker SDK.

    Args:
        host: the engine, e.g. ``"unix:///run/docker.sock"``; default ``$DOCKER_HOST`` or the
            standard socket.
        buildkit: build through a BuildKit-capable docker CLI (cache mounts); None decides from
            ``$FLYTE_IMAGEBUILD_BUILDKIT`` (``1``/``0``), else uses BuildKit when such a CLI is found.
        network_mode: network of the build containers, e.g. ``"none"``; default
            ``$FLYTE_IMAGEBUILD_NETWORK`` or the engine's default.
        no_cache: build every layer anew instead of reusing the engine's layer cache.
        progress: called with every line of build and push output; default: the callback
            installed with `flyte.imagebuild.build_progress`, else logged at INFO.
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        buildkit: bool | None = None,
        network_mode: str | None = None,
        no_cache: bool = False,
        progress: Callable[[str], None] | None = None,
    ):
        self.host = docker_host(host)
        self._buildkit = buildkit
        self.network_mode = network_mode or os.environ.get("FLYTE_IMAGEBUILD_NETWORK") or None
        self.no_cache = no_cache
        self.progress = progress or emit_progress

    def record_scope(self) -> str:
        return f"docker:{self.host}"

    async def build_image(self, image: Image, dry_run: bool = False, force: bool = False) -> ImageBuild:
        import asyncio

        return await asyncio.to_thread(self.build_image_sync, image, dry_run, force)

    # -- the steps ----------------------------------------------------------------------------

    def build_image_sync(self, image: Image, dry_run: bool = False, force: bool = False) -> ImageBuild:
        """`build_image`, blocking the calling thread."""
        uri = image.uri
        plan = image._plan
        if dry_run:
            return ImageBuild(uri, built=False, dockerfile=plan.dockerfile(self.buildkit_cli is not None))
        if image.registry:
            in_registry = self._registry_has(image, uri)
            if in_registry and not force:
                return ImageBuild(uri, built=False, found_in="registry")
        if not force and self._engine_has(uri):
            if not image.registry:
                return ImageBuild(uri, built=False, found_in="engine")
            self._push(self._client(uri), image, uri)
            return ImageBuild(uri, built=False, found_in="engine", pushed=True)
        client = self._client(uri)
        cli = self.buildkit_cli
        if cli is not None:
            dockerfile = self._build_with_cli(cli, plan, uri)
        else:
            dockerfile = self._build_with_sdk(client, plan, uri)
        if image.registry:
            self._push(client, image, uri)
        return ImageBuild(uri, built=True, pushed=bool(image.registry), dockerfile=dockerfile)

    def _registry_has(self, image: Image, uri: str) -> bool | None:
        from flyte.imagebuild._registry import RegistryUnreachableError, registry_has_tag  # urllib: lazily

        try:
            return registry_has_tag(uri)
        except RegistryUnreachableError as e:
            raise image_build_error(
                uri, f"registry {image.registry}", f"{e}; start the registry or pass another registry="
            ) from e

    def _engine_has(self, uri: str) -> bool:
        try:
            return engine_has_image(self.host, uri)
        except OSError:
            # TLS hosts and the like: let the SDK look, and report an unreachable engine.
            import docker.errors

            try:
                self._client(uri).images.get(uri)
            except docker.errors.ImageNotFound:
                return False
            return True

    def _client(self, uri: str) -> docker.DockerClient:
        return _client(self.host, uri)

    # -- building -----------------------------------------------------------------------------

    def _build_with_sdk(self, client: docker.DockerClient, plan: BuildPlan, uri: str) -> str:
        import tempfile

        import docker.errors

        steps = plan.steps(buildkit=False)
        current: str | None = None
        tail: deque[str] = deque(maxlen=_TAIL)
        with tempfile.TemporaryFile() as context:
            plan.write_context(context, buildkit=False)
            context.seek(0)
            try:
                stream = client.api.build(
                    fileobj=context,
                    custom_context=True,
                    tag=uri,
                    dockerfile=plan.dockerfile_path,
                    rm=True,
                    forcerm=True,
                    nocache=self.no_cache,
                    network_mode=self.network_mode,
                    decode=True,
                )
                for chunk in stream:
                    for line in _lines(chunk.get("stream")):
                        self.progress(line)
                        m = _CLASSIC_STEP.match(line)
                        if m:
                            current = _where(plan, steps, int(m[1]), m[2])
                            tail.clear()
                        else:
                            tail.append(line)
                    if "error" in chunk:
                        raise _failed(plan, uri, current or "build", chunk["error"], tail)
            except docker.errors.DockerException as e:
                raise _failed(plan, uri, current or "build", _api_error(e), tail) from e
        return plan.dockerfile(buildkit=False)

    @functools.cached_property
    def buildkit_cli(self) -> tuple[str, ...] | None:
        """The command line prefix of a BuildKit build, or None to use the SDK's classic builder."""
        choice = self._buildkit
        if choice is None and os.environ.get("FLYTE_IMAGEBUILD_BUILDKIT") in ("0", "1"):
            choice = os.environ["FLYTE_IMAGEBUILD_BUILDKIT"] == "1"
        if choice is False:
            return None
        found = _find_buildkit_cli()
        if found is None and choice:
            raise image_build_error(
                "-", "builder local", "BuildKit was requested but no docker CLI with BuildKit (buildx, or docker < 23)"
            )
        return found

    def _build_with_cli(self, cli: tuple[str, ...], plan: BuildPlan, uri: str) -> str:
        import subprocess
        import tempfile

        steps = plan.steps(buildkit=True)
        cmd = [*cli, "--progress=plain", "-t", uri, "-f", plan.dockerfile_path]
        if self.network_mode:
            cmd += ["--network", self.network_mode]
        if self.no_cache:
            cmd.append("--no-cache")
        cmd.append("-")  # the context is the tar on stdin
        env = {**os.environ, "DOCKER_HOST": self.host, "DOCKER_BUILDKIT": "1"}
        headers: dict[int, str] = {}
        outputs: dict[int, deque[str]] = {}
        failed: tuple[int, str] | None = None
        last: deque[str] = deque(maxlen=_TAIL)
        with tempfile.TemporaryFile() as context:
            plan.write_context(context, buildkit=True)
            context.seek(0)
            try:
                proc = subprocess.Popen(
                    cmd, stdin=context, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
                )
            except OSError as e:
                raise _failed(plan, uri, "build", f"cannot run {cli[0]}: {e}", ()) from e
            assert proc.stdout is not None
            for raw in proc.stdout:
                line = raw.rstrip("\n")
                self.progress(line)
                last.append(line)
                if m := _BUILDKIT_STEP.match(line):
                    headers[int(m[1])] = m[2]
                elif m := _BUILDKIT_ERROR.match(line):
                    failed = failed or (int(m[1]), m[2])
                elif m := re.match(r"^#(\d+) \d+\.\d+ (.*)$", line):
                    outputs.setdefault(int(m[1]), deque(maxlen=_TAIL)).append(m[2])
            rc = proc.wait()
        if rc != 0:
            if failed is not None:
                number, cause = failed
                header = headers.get(number, "")
                where = _where(plan, steps, None, header) if header else "build"
                raise _failed(plan, uri, where, cause, outputs.get(number, ()))
            raise _failed(plan, uri, "build", f"{cli[0]} build exited with {rc}", last)
        return plan.dockerfile(buildkit=True)

    # -- pushing ------------------------------------------------------------------------------

    def _push(self, client: docker.DockerClient, image: Image, uri: str) -> None:
        import docker.errors

        repository, tag = uri.rsplit(":", 1)
        try:
            for chunk in client.api.push(repository, tag=tag, stream=True, decode=True):
                if "error" in chunk:
                    raise RuntimeError(chunk["error"])
                status = " ".join(str(chunk[k]) for k in ("id", "status", "progress") if chunk.get(k))
                if status:
                    self.progress(status)
        except (RuntimeError, docker.errors.DockerException) as e:
            # Do not leave the URI behind on the engine: it would pass for a pushed image.
            try:
                client.api.remove_image(uri)
            except docker.errors.DockerException as cleanup:
                logger.warning("could not remove the unpushed tag %s: %s", uri, cleanup)
            cause = _api_error(e) if isinstance(e, docker.errors.DockerException) else str(e)
            raise image_build_error(
                uri, f"push to registry {image.registry}", f"{cause}; the local tag was removed"
            ) from e


def _client(host: str, uri: str) -> docker.DockerClient:
    import docker
    import docker.errors

    try:
        client = docker.DockerClient(base_url=host)
        client.ping()
    except docker.errors.DockerException as e:
        raise image_build_error(
            uri,
            f"docker engine {host}",
            f"cannot reach the Docker engine: {e}; start dockerd or point DOCKER_HOST at a running engine",
        ) from e
    return client


def _find_buildkit_cli() -> tuple[str, ...] | None:
    import shutil
    import subprocess

    candidates = [c for c in dict.fromkeys([shutil.which("docker"), "/usr/bin/docker"]) if c and os.access(c, os.X_OK)]
    for cli in candidates:
        if _quiet([cli, "buildx", "version"]):
            return (cli, "buildx", "build", "--load")
        version = subprocess.run([cli, "--version"], capture_output=True, text=True, check=False).stdout
        m = re.search(r"version (\d+)\.", version)
        # Before 23.0 the CLI ran BuildKit itself (DOCKER_BUILDKIT=1); later ones need buildx.
        if m and int(m[1]) < 23:
            return (cli, "build")
    return None


def _quiet(cmd: list[str]) -> bool:
    import subprocess

    try:
        return subprocess.run(cmd, capture_output=True, check=False, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _lines(text: object) -> Iterator[str]:
    if isinstance(text, str):
        yield from (line for line in text.splitlines() if line.strip())


def _where(plan: BuildPlan, steps: list[Step], number: int | None, instruction: str) -> str:
    """The spec part a Dockerfile step comes from: by position (classic) or by its text (BuildKit)."""
    if number is not None and 0 < number <= len(steps):
        return steps[number - 1].where
    for step in steps:
        if step.instruction == instruction or step.instruction.startswith(instruction.rstrip(". ")):
            return step.where
    if plan.image.dockerfile is not None:
        return f"Dockerfile {plan.image.dockerfile} step {instruction}"
    return f"step {instruction}"


def _failed(plan: BuildPlan, uri: str, where: str, cause: str, output: Iterable[str]) -> ImageBuildError:
    text = cause.strip()
    if where.startswith(("base image", "uv stage")):
        # A FROM step fails only when the image is missing locally and could not be pulled.
        text += "; the image is neither on the engine nor pullable from its registry"
    lines = [line for line in output if line.strip()]
    if lines:
        text += "\n  last output:\n" + "\n".join(f"    {line}" for line in lines)
    return image_build_error(uri, where, text)


def _api_error(e: Any) -> str:
    explanation = getattr(e, "explanation", None)
    return str(explanation or e)
