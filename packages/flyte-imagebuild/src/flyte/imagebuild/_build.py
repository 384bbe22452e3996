"""`build` and `build_images`: existence checks, then the chosen builder; sync, with ``.aio``.

Order of the checks: nothing to build (a `from_base` image used as is), the local record of
built images, then the builder's own checks (registry, engine). A hit on the record imports
nothing and asks nobody, which keeps a no-op rebuild well under the half-second budget.

The blocking forms run without an event loop when they can: `build` of an image found in the
record, or through a builder with a blocking ``build_image_sync`` (`DockerBuilder`), never
imports asyncio (about 100 ms of imports, a fifth of a no-op rebuild's budget).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

from flyte.imagebuild._builder import ImageBuild, ImageBuilder, get_builder
from flyte.imagebuild._image import Image
from flyte.imagebuild._record import BuildRecord, record_key

logger = logging.getLogger("flyte.imagebuild")

P = ParamSpec("P")
R = TypeVar("R")


class _SyncWithAio(Generic[P, R]):
    """A blocking function with its coroutine form as ``.aio`` (the SDK's ``flyte.build.aio``).

    flyte-imagebuild sits below flyte.syncify (flyte-remote), so it carries this small facade:
    ``asyncio.run`` in the caller's thread, and a clear error instead of a deadlock when the
    caller is already inside an event loop.
    """

    def __init__(
        self,
        coroutine: Callable[P, Coroutine[Any, Any, R]],
        name: str,
        blocking: Callable[P, R] | None = None,
    ):
        self.aio = coroutine
        self._blocking = blocking
        self.__doc__ = coroutine.__doc__
        self.__name__ = name
        self.__wrapped__ = coroutine

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if _in_event_loop():
            raise RuntimeError(
                f"{self.__name__}() blocks and was called from a running event loop; "
                f"use `await {self.__name__}.aio(...)`"
            )
        if self._blocking is not None:
            return self._blocking(*args, **kwargs)
        import asyncio

        result: R = asyncio.run(self.aio(*args, **kwargs))
        return result


def _in_event_loop() -> bool:
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:  # never imported: no loop can be running
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _build(
    image: Image,
    dry_run: bool = False,
    force: bool = False,
    builder: str | ImageBuilder | None = None,
) -> ImageBuild:
    """Build ``image`` unless it exists already, tag it with ``image.uri`` and push it to its
    registry.

    Args:
        image: what to build.
        dry_run: compute the URI and the Dockerfile, build nothing.
        force: skip every existence check and build (the engine's layer cache still applies).
        builder: a builder name (default ``$FLYTE_IMAGE_BUILDER`` or ``"local"``) or instance.

    Returns:
        The URI and whether it was built or found (and where).

    Raises:
        flyte.errors.ImageBuildError: a missing input, an unknown base, a failing step, an
            unreachable engine or registry; the message names the image, the layer and the cause.

    Example:
        >>> import flyte.imagebuild as ib
        >>> ib.build(ib.Image.from_base("python:3.12-slim")).uri   # nothing to build
        'python:3.12-slim'
    """
    import asyncio

    if not image.needs_build:
        return ImageBuild(image.uri, built=False, found_in="base")
    # Hashing reads every referenced file: keep it off the event loop.
    uri = await asyncio.to_thread(lambda: image.uri)
    chosen = builder if isinstance(builder, ImageBuilder) else get_builder(builder)
    if dry_run:
        return await chosen.build_image(image, dry_run=True)
    record = BuildRecord()
    key = record_key(uri, image.registry, chosen.record_scope())
    if not force and record.has(key):
        return ImageBuild(uri, built=False, found_in="record")
    result = await chosen.build_image(image, force=force)
    record.add(key, uri=uri)
    return result


def _build_blocking(
    image: Image,
    dry_run: bool = False,
    force: bool = False,
    builder: str | ImageBuilder | None = None,
) -> ImageBuild:
    """`build` without an event loop when the answer needs none (see the module's docstring)."""
    if not image.needs_build:
        return ImageBuild(image.uri, built=False, found_in="base")
    chosen = builder if isinstance(builder, ImageBuilder) else get_builder(builder)
    blocking = getattr(chosen, "build_image_sync", None)
    if not dry_run:
        uri = image.uri
        record = BuildRecord()
        key = record_key(uri, image.registry, chosen.record_scope())
        if not force and record.has(key):
            return ImageBuild(uri, built=False, found_in="record")
        if callable(blocking):
            result: ImageBuild = blocking(image, False, force)
            record.add(key, uri=uri)
            return result
    import asyncio

    return asyncio.run(_build(image, dry_run=dry_run, force=force, builder=chosen))


build = _SyncWithAio(_build, "build", _build_blocking)


@dataclass(frozen=True)
class ImageCache:
    """What `build_images` built: the image URI of each environment, by environment name."""

    image_lookup: dict[str, str] = field(default_factory=dict)


def _environments(envs: Iterable[Any]) -> list[Any]:
    """The environments and, transitively, those they depend on (``depends_on``), each once."""
    seen: dict[int, Any] = {}
    stack = list(envs)
    while stack:
        env = stack.pop(0)
        if id(env) in seen:
            continue
        seen[id(env)] = env
        stack += list(getattr(env, "depends_on", None) or ())
    return list(seen.values())


async def _build_images(*envs: Any, force: bool = False, builder: str | ImageBuilder | None = None) -> ImageCache:
    """Build the images of task environments (and of the environments they depend on).

    An environment's ``image`` may be an `Image`, the URI of an existing image (used as is) or
    ``"auto"`` (`Image.from_debian_base` with this machine's Python and flyte version). Images
    are built one after the other; each one only once, however many environments share it.

    Args:
        envs: objects with ``name`` and ``image`` attributes, e.g. ``flyte.TaskEnvironment``.
        force: rebuild even the images that exist.
        builder: as for `build`.

    Returns:
        An `ImageCache` mapping every environment's name to its image URI.
    """
    lookup: dict[str, str] = {}
    built: dict[Image, str] = {}
    for env in _environments(envs):
        spec = getattr(env, "image", "auto")
        image = Image.from_debian_base() if spec == "auto" else spec
        if isinstance(image, str):
            lookup[env.name] = image
            continue
        if not isinstance(image, Image):
            raise TypeError(f"environment {env.name!r} has image={image!r}; expected an Image, a URI or 'auto'")
        if image not in built:
            built[image] = (await _build(image, force=force, builder=builder)).uri
        lookup[env.name] = built[image]
    return ImageCache(lookup)


build_images = _SyncWithAio(_build_images, "build_images")
