"""``ActionEvents``: wakes the streams watching an action whenever its state changes.

Subscribers get a signal, not a payload: they re-read the action from the database, so a slow
watcher can miss intermediate signals but never shows a stale state.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class ActionEvents:
    """Per-action change notifications."""

    def __init__(self) -> None:
        self._watchers: defaultdict[int, set[asyncio.Event]] = defaultdict(set)
        self._listeners: list[Callable[[int], None]] = []

    def changed(self, action_id: int) -> None:
        for event in self._watchers.get(action_id, ()):
            event.set()
        for listener in self._listeners:
            listener(action_id)

    def listen(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(action_id)`` on every change of any action (it must not block)."""
        self._listeners.append(callback)

    @asynccontextmanager
    async def watch(self, action_id: int) -> AsyncIterator[asyncio.Event]:
        """An event that is set on every change of the action; clear it after each wake-up."""
        event = asyncio.Event()
        self._watchers[action_id].add(event)
        try:
            yield event
        finally:
            watchers = self._watchers[action_id]
            watchers.discard(event)
            if not watchers:
                del self._watchers[action_id]
