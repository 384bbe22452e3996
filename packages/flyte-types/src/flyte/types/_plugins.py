"""Transformer plugins from the entry-point group ``flyte.plugins.types``, loaded once, lazily."""

from __future__ import annotations

import logging
import threading
from importlib.metadata import entry_points

GROUP = "flyte.plugins.types"
logger = logging.getLogger("flyte.types")

_lock = threading.Lock()
_started = threading.Event()


def load_type_plugins() -> None:
    """Load every entry point of the group once; call the loaded object if it is callable.

    A plugin that fails to load is logged as a warning and skipped: one broken package must not
    take every type conversion down with it.
    """
    if _started.is_set():
        return
    with _lock:
        if _started.is_set():
            return
        _started.set()  # first: a plugin that registers transformers re-enters the engine
        for ep in entry_points(group=GROUP):
            try:
                loaded = ep.load()
                if callable(loaded):
                    loaded()
            except Exception as e:  # any failure inside third-party code
                logger.warning(
                    "flyte.types: type plugin %r (%s) failed to load and is skipped: %s", ep.name, ep.value, e
                )


def reset_for_tests() -> None:
    with _lock:
        _started.clear()
