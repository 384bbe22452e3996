"""What ``flyte.deploy`` calls to make sure the images it registers exist.

flyte-runtime does not depend on flyte-imagebuild; it finds `ensure_images` through the entry
point group ``flyte.plugins.deploy_images`` that this distribution declares, so a runtime
installed without image builds deploys as before (image URIs as given).

The rule (``required=False``, the default of ``flyte deploy``): every `Image` spec that is not
known to exist is built with the configured builder, except that the ``local`` builder is skipped,
with a note, when no Docker engine answers at its address. That is the embedded server's usual
setting: its default executors run tasks in-process and ignore images, so a deploy there must
not fail for want of an engine. ``required=True`` (``flyte deploy --build``) builds or fails.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flyte.imagebuild._build import _build_blocking
from flyte.imagebuild._builder import ImageBuilder, get_builder
from flyte.imagebuild._image import Image
from flyte.imagebuild._record import BuildRecord, record_key


@dataclass(frozen=True)
class ImageOutcome:
    """One image of a deploy: its URI and what happened to it.

    ``outcome`` is ``"built"``, ``"found in <where>"`` (record, engine, registry, base, backend)
    or ``"not built: <why>"``.
    """

    uri: str
    outcome: str


def _engine_answers(host: str, timeout: float = 2.0) -> bool:
    parsed = urlsplit(host)
    try:
        if parsed.scheme == "unix":
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(parsed.path)
            return True
        if parsed.scheme in ("tcp", "http", "https"):
            with socket.create_connection((parsed.hostname or "localhost", parsed.port or 2375), timeout=timeout):
                return True
    except OSError:
        return False
    return True  # an address this probe cannot judge (ssh://...): let the builder try


def ensure_images(images: Sequence[Any], *, builder: str | None = None, required: bool = False) -> list[ImageOutcome]:
    """Build the `Image` specs among ``images`` that do not exist yet; one outcome per distinct image.

    Args:
        images: environments' ``image`` values; strings (URIs, ``"auto"``) are taken as they are
            and get no outcome.
        builder: builder name (default ``$FLYTE_IMAGE_BUILDER``, else ``"local"``).
        required: fail instead of skipping when the local builder has no Docker engine.

    Raises:
        flyte.errors.ImageBuildError: a build failed (or, with ``required``, could not start).
    """
    specs = list(dict.fromkeys(i for i in images if isinstance(i, Image)))
    outcomes: list[ImageOutcome] = []
    chosen: ImageBuilder | None = None
    for image in specs:
        if not image.needs_build:
            outcomes.append(ImageOutcome(image.uri, "found in base"))
            continue
        chosen = chosen or get_builder(builder)
        uri = image.uri
        if BuildRecord().has(record_key(uri, image.registry, chosen.record_scope())):
            outcomes.append(ImageOutcome(uri, "found in record"))
            continue
        host = getattr(chosen, "host", None)
        if not required and isinstance(host, str) and host and not _engine_answers(host):
            outcomes.append(
                ImageOutcome(
                    uri,
                    f"not built: no Docker engine answers at {host} (pass --build / build=True to require "
                    "the build; the embedded server's default executors ignore images)",
                )
            )
            continue
        result = _build_blocking(image, builder=chosen)
        outcomes.append(ImageOutcome(result.uri, "built" if result.built else f"found in {result.found_in}"))
    return outcomes
