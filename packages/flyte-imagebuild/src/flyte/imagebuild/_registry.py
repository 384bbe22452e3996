"""Does a registry hold a tag? ``GET /v2/<name>/tags/list`` (Docker Registry HTTP API v2).

Plain urllib, no docker SDK: this check runs before every build and must stay cheap.
Loopback registries are spoken to over plain HTTP (the engine allows 127.0.0.0/8 insecure by
default); others over HTTPS, with an anonymous bearer token when the registry asks for one.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flyte.models._image import ImageRef

_BEARER = re.compile(r'(\w+)="([^"]*)"')
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class RegistryUnreachableError(OSError):
    """No connection to the registry at all (as opposed to a registry that answered)."""


@dataclass(frozen=True)
class RegistryRef:
    """Where a pushed image lives: registry host, repository and tag."""

    host: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, uri: str) -> RegistryRef:
        ref = ImageRef(uri)
        if ref.registry is None or ref.tag is None:
            raise ValueError(f"{uri} names no registry host and tag")
        return cls(ref.registry, ref.repository, ref.tag)

    @property
    def base_url(self) -> str:
        host = self.host.split(":")[0]
        loopback = host == "localhost" or host.startswith("127.") or host == "[::1]"
        return f"{'http' if loopback else 'https'}://{self.host}"


def registry_has_tag(uri: str, timeout: float = 10.0) -> bool | None:
    """Whether the registry in ``uri`` lists its tag; None when it would not say (auth refused).

    Raises:
        RegistryUnreachableError: the registry cannot be reached.
    """
    ref = RegistryRef.parse(uri)
    url: str | None = f"{ref.base_url}/v2/{ref.repository}/tags/list"
    token: str | None = None
    while url is not None:
        status, body, headers = _get(url, token, timeout)
        if status == 401 and token is None:
            token = _anonymous_token(headers.get("WWW-Authenticate", ""), timeout)
            if token is None:
                return None
            continue
        if status == 404:
            return False
        if status != 200:
            return None
        tags = json.loads(body or b"{}").get("tags") or []
        if ref.tag in tags:
            return True
        link = _NEXT.search(headers.get("Link", ""))
        url = urllib.parse.urljoin(url, link.group(1)) if link else None
    return False


def _get(url: str, token: str | None, timeout: float) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise RegistryUnreachableError(f"cannot reach the registry at {url}: {reason}") from e


def _anonymous_token(challenge: str, timeout: float) -> str | None:
    if not challenge.lower().startswith("bearer "):
        return None
    params = dict(_BEARER.findall(challenge))
    realm = params.pop("realm", None)
    if realm is None:
        return None
    status, body, _ = _get(f"{realm}?{urllib.parse.urlencode(params)}", None, timeout)
    if status != 200:
        return None
    data = json.loads(body)
    token = data.get("token") or data.get("access_token")
    return token if isinstance(token, str) else None
