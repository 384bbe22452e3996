"""A reference to a built container image, by URI. Building images is flyte.imagebuild's job."""

from __future__ import annotations

import re
from dataclasses import dataclass

_URI = re.compile(
    r"^(?:(?P<registry>[a-zA-Z0-9.-]+(?::\d+)?|localhost(?::\d+)?)/)?"
    r"(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+:[a-fA-F0-9]{32,}))?$"
)


@dataclass(frozen=True)
class ImageRef:
    """An image URI such as ``ghcr.io/org/app:3f2a9c`` or ``python:3.12@sha256:...``.

    Example:
        >>> ImageRef("ghcr.io/org/app:v1").tag
        'v1'
    """

    uri: str

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or _URI.match(self.uri) is None:
            raise ValueError(
                "image uri must look like [registry/]repository[:tag][@digest], e.g. 'ghcr.io/org/app:v1'; "
                f"got {self.uri!r}"
            )

    def _part(self, name: str) -> str | None:
        m = _URI.match(self.uri)
        assert m is not None  # checked in __post_init__
        registry = m["registry"]
        # "org/app" has no registry: a first part without a dot or port is a Docker Hub namespace.
        if (
            name in ("registry", "repository")
            and registry
            and "." not in registry
            and ":" not in registry
            and registry != "localhost"
        ):
            return None if name == "registry" else f"{registry}/{m['repository']}"
        return m[name]

    @property
    def registry(self) -> str | None:
        return self._part("registry")

    @property
    def repository(self) -> str:
        return self._part("repository") or ""

    @property
    def tag(self) -> str | None:
        return self._part("tag")

    @property
    def digest(self) -> str | None:
        return self._part("digest")

    def __str__(self) -> str:
        return self.uri
