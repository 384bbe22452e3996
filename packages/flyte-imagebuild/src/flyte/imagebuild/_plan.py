"""From an `Image` to what a builder needs: the content-hash tag, a Dockerfile and a build context.

The tag is a hash of canonical JSON lines: a recipe version (bumped when rendering changes what a
spec builds), the base, the Python version, the platforms, and for every layer its kind, its
parameters, the facts read from its inputs and the digest of every context file. Registry and
name are left out (a clone pushed elsewhere keeps its tag), and so is the rendered Dockerfile, so a
BuildKit build and a classic build of one spec share a tag.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from flyte.imagebuild._context import ContextFile, folder_files, single_file
from flyte.imagebuild._dockerignore import DockerIgnore
from flyte.imagebuild._errors import image_build_error
from flyte.imagebuild._layers import Layer, RenderOptions, Resolved

if TYPE_CHECKING:
    from flyte.imagebuild._image import Image

RECIPE_VERSION = "1"
UV_IMAGE = "ghcr.io/astral-sh/uv:0.9.7"
"""Where uv comes from: copied out of this image by a build stage (the engine resolves it like any
base image, so a local image of that name works offline)."""
DOCKERFILE = "Dockerfile"


@dataclass(frozen=True)
class Step:
    """One Dockerfile instruction and the part of the spec it comes from."""

    instruction: str
    where: str


@dataclass(frozen=True)
class ResolvedLayer:
    index: int
    layer: Layer
    at: str
    resolved: Resolved

    @property
    def where(self) -> str:
        return f"layer {self.index} ({self.layer.label()})"


@dataclass(frozen=True)
class BuildPlan:
    """Everything needed to build one `Image`, resolved on this machine."""

    image: Image
    tag: str
    layers: tuple[ResolvedLayer, ...]
    files: tuple[ContextFile, ...]
    dockerfile_path: str
    """The Dockerfile's path inside the context (``Dockerfile`` unless the user brought one)."""

    @property
    def uses_uv(self) -> bool:
        return any(r.layer.uses_uv for r in self.layers)

    def steps(self, buildkit: bool) -> list[Step]:
        """The generated Dockerfile, instruction by instruction; empty for `Image.from_dockerfile`."""
        if self.image.dockerfile is not None:
            return []
        base = self.image.base_image
        assert base is not None
        steps: list[Step] = []
        if self.uses_uv:
            steps.append(Step(f"FROM {UV_IMAGE} AS uv", f"uv stage {UV_IMAGE}"))
        steps.append(Step(f"FROM {base}", f"base image {base}"))
        if self.uses_uv and not buildkit:
            steps.append(Step("COPY --from=uv /uv /usr/local/bin/uv", f"uv from {UV_IMAGE}"))
        opts = RenderOptions(buildkit=buildkit, venv=self.image._venv)
        for r in self.layers:
            steps += [Step(i, r.where) for i in r.layer.render(r.at, r.resolved, opts)]
        return steps

    def dockerfile(self, buildkit: bool) -> str:
        """The text of the Dockerfile the build uses."""
        if self.image.dockerfile is not None:
            return self.image.dockerfile.read_text()
        return "".join(s.instruction + "\n" for s in self.steps(buildkit))

    def write_context(self, out: IO[bytes], buildkit: bool) -> None:
        """Write the build context as an uncompressed tar: the Dockerfile and every context file."""
        import tarfile  # only a build needs it

        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            if self.image.dockerfile is None:
                data = self.dockerfile(buildkit).encode()
                info = tarfile.TarInfo(DOCKERFILE)
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
            for f in self.files:
                if f.data is not None:
                    info = tarfile.TarInfo(f.arcname)
                    info.size = len(f.data)
                    info.mode = 0o644
                    tar.addfile(info, io.BytesIO(f.data))
                else:
                    assert f.source is not None
                    tar.add(f.source, arcname=f.arcname, recursive=False)


def plan_image(image: Image) -> BuildPlan:
    """Resolve every input of ``image`` and compute its tag.

    Raises:
        flyte.errors.ImageBuildError: a referenced file is missing or unreadable, or the image
            has no name; the message names the image and the layer.
    """
    if image.name is None:
        raise image_build_error(
            image.reference, "name", "an image with layers needs a name: use .clone(name=...) or pass name=..."
        )
    h = hashlib.sha256()

    def feed(obj: object) -> None:
        h.update(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() + b"\n")

    feed({"recipe": RECIPE_VERSION, "python": list(image.python_version), "platform": list(image.platform)})
    if image.dockerfile is not None:
        files, dockerfile_path = _dockerfile_context(image)
        feed({"dockerfile": dockerfile_path})
        for f in files:
            h.update(f"{f.arcname}\0{f.digest}\n".encode())
        return BuildPlan(image, h.hexdigest()[:32], (), tuple(files), dockerfile_path)

    feed({"base": image.base_image, "venv": image._venv})
    ignore = DockerIgnore()
    layers: list[ResolvedLayer] = []
    all_files: list[ContextFile] = []
    for index, layer in enumerate(image.layers, start=1):
        at = f"layers/{index:03d}"
        where = f"layer {index} ({layer.label()})"
        try:
            resolved = layer.resolve(at, ignore)
        except (OSError, ValueError) as e:
            raise image_build_error(image.reference, where, str(e)) from e
        if resolved.ignore is not None:
            ignore = ignore + resolved.ignore
        feed({"kind": type(layer).__name__, "key": layer.key(), "facts": list(resolved.facts)})
        h.update("".join([f"{f.arcname}\0{f.digest}\n" for f in resolved.files]).encode())
        layers.append(ResolvedLayer(index, layer, at, resolved))
        all_files += resolved.files
    return BuildPlan(image, h.hexdigest()[:32], tuple(layers), tuple(all_files), DOCKERFILE)


def _dockerfile_context(image: Image) -> tuple[list[ContextFile], str]:
    dockerfile = image.dockerfile
    assert dockerfile is not None
    where = f"Dockerfile {dockerfile}"
    if not dockerfile.is_file():
        raise image_build_error(image.reference, where, f"Dockerfile {dockerfile} does not exist")
    root = dockerfile.parent
    try:
        files = folder_files(root, "")
    except OSError as e:
        raise image_build_error(image.reference, "build context", str(e)) from e
    rel = dockerfile.relative_to(root).as_posix()
    if all(f.arcname != rel for f in files):
        # A .dockerignore may exclude the Dockerfile itself; the engine still needs it.
        files = sorted([*files, single_file(dockerfile, rel)], key=lambda f: f.arcname)
    return files, rel
