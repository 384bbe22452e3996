"""One shape for every image build error: which image, which layer, what went wrong."""

from __future__ import annotations

from flyte.errors import ImageBuildError


def image_build_error(image: str, where: str, cause: str) -> ImageBuildError:
    """An `ImageBuildError` whose message reads ``image <image>, <where>: <cause>``.

    Args:
        image: the image's URI, or its ``registry/name`` when the tag is not known yet.
        where: the layer or build phase, e.g. ``"layer 2 (requirements requirements.txt)"``.
        cause: what went wrong and, where it helps, what to do about it.
    """
    return ImageBuildError(f"image {image}, {where}: {cause}")
