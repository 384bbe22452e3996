"""``ServerState``: the parts every service shares, created once per server."""

from __future__ import annotations

from dataclasses import dataclass

from flyte.server._config import ServerConfig
from flyte.server._events import ActionEvents
from flyte.server._executor import Executor
from flyte.server._layout import DataLayout
from flyte.server._signing import UrlSigner
from flyte.server._store import MetadataStore


@dataclass
class ServerState:
    """What the RPC handlers work with.

    Attributes:
        base_url: ``http://host:port`` of this server, the prefix of the URLs it signs.
    """

    config: ServerConfig
    layout: DataLayout
    store: MetadataStore
    events: ActionEvents
    executor: Executor
    signer: UrlSigner
    base_url: str
