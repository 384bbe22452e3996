"""StateService.Watch: one stream per parent action, through which its controller learns what
became of its children.

The stream first replays every child's current state, then sends the sentinel control message
(the controller now knows every child that existed, so a replayed parent can tell "already ran"
from "never enqueued"), then every later change, traces included (they arrive already finished
and are echoed back, which is how the controller knows the record landed).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from flyteidl2.common import identifier_pb2
from flyteidl2.core import execution_pb2
from flyteidl2.workflow import state_service_pb2
from flyteidl2.workflow.state_service_connect import StateService

from flyte.server import _convert as convert
from flyte.server._events import ActionEvents
from flyte.server._requests import find_action, find_run
from flyte.server._state import ServerState
from flyte.server._store import ActionRow, ChildRow, RunRow

_Parent = tuple[int, str]  # (run id, parent action name)
# The executor gives tasks of the empty (single-tenant) org `_U_ORG_NAME=local`, since a0 needs a
# non-empty one; their controllers send it back in the ids of their runs.
LOCAL_ORG = "local"


def _without_org(run: identifier_pb2.RunIdentifier) -> identifier_pb2.RunIdentifier:
    return identifier_pb2.RunIdentifier(org="", project=run.project, domain=run.domain, name=run.name)


async def find_task_run(state: ServerState, run: identifier_pb2.RunIdentifier) -> RunRow:
    """The run a task's controller names (``local`` standing for the empty org, looked up first)."""
    if run.org != LOCAL_ORG:
        return await find_run(state, run)
    try:
        return await find_run(state, _without_org(run))
    except ConnectError:
        return await find_run(state, run)


async def find_task_action(state: ServerState, action: identifier_pb2.ActionIdentifier) -> ActionRow:
    """The action a task's controller names (``local`` standing for the empty org, looked up first)."""
    if action.run.org != LOCAL_ORG:
        return await find_action(state, action)
    try:
        return await find_action(state, identifier_pb2.ActionIdentifier(run=_without_org(action.run), name=action.name))
    except ConnectError:
        return await find_action(state, action)


class ChildEvents:
    """Wakes the Watch streams of a parent whenever one of its children changes.

    Only children of watched parents are tracked: a stream registers the children it replays,
    EnqueueAction registers new ones, and the last stream of a parent to close forgets them.
    """

    def __init__(self, events: ActionEvents):
        self._parent_of: dict[int, _Parent] = {}
        self._children: defaultdict[_Parent, set[int]] = defaultdict(set)
        self._streams: defaultdict[_Parent, set[asyncio.Queue[int]]] = defaultdict(set)
        events.listen(self._changed)

    def register(self, child_id: int, run_id: int, parent: str) -> None:
        key = (run_id, parent)
        if key in self._streams:
            self._parent_of[child_id] = key
            self._children[key].add(child_id)

    def _changed(self, action_id: int) -> None:
        key = self._parent_of.get(action_id)
        if key is not None:
            for queue in self._streams.get(key, ()):
                queue.put_nowait(action_id)

    @contextlib.contextmanager
    def subscribe(self, run_id: int, parent: str) -> Iterator[asyncio.Queue[int]]:
        """A queue of the ids of ``parent``'s children as they change, while the block runs."""
        key = (run_id, parent)
        queue: asyncio.Queue[int] = asyncio.Queue()
        self._streams[key].add(queue)
        try:
            yield queue
        finally:
            streams = self._streams[key]
            streams.discard(queue)
            if not streams:
                del self._streams[key]
                for child in self._children.pop(key, ()):
                    self._parent_of.pop(child, None)


def action_update(child: ChildRow) -> state_service_pb2.ActionUpdate:
    row = child.action
    update = state_service_pb2.ActionUpdate(action_id=convert.action_id(row), phase=convert._phase(row.phase))
    if child.output_uri:  # where the current attempt writes (flyte 2.12.1 expects one once it runs)
        update.output_uri = child.output_uri
    if row.error is not None:
        update.error.CopyFrom(execution_pb2.ExecutionError.FromString(row.error))
    return update


class StateServiceImpl(StateService):
    def __init__(self, state: ServerState, children: ChildEvents):
        self._state = state
        self._children = children

    async def watch(
        self, request: state_service_pb2.WatchRequest, ctx: RequestContext[Any, Any]
    ) -> AsyncIterator[state_service_pb2.WatchResponse]:
        state = self._state
        parent = await find_task_action(state, request.parent_action_id)
        with self._children.subscribe(parent.run_id, parent.name) as changes:
            sent: dict[int, tuple[int, str, bytes | None]] = {}
            for child in await state.store.children(parent.run_id, parent.name):
                self._children.register(child.action.id, parent.run_id, parent.name)
                sent[child.action.id] = _seen(child)
                yield state_service_pb2.WatchResponse(action_update=action_update(child))
            yield state_service_pb2.WatchResponse(control_message=state_service_pb2.ControlMessage(sentinel=True))
            while True:
                changed = {await changes.get()}
                while not changes.empty():
                    changed.add(changes.get_nowait())
                for child in await state.store.children_by_id(sorted(changed)):
                    seen = _seen(child)
                    if sent.get(child.action.id) != seen:
                        sent[child.action.id] = seen
                        yield state_service_pb2.WatchResponse(action_update=action_update(child))


def _seen(child: ChildRow) -> tuple[int, str, bytes | None]:
    return child.action.phase, child.output_uri, child.action.error
