"""An action's inputs and (once it succeeded) outputs, read from the files the run left."""

from __future__ import annotations

from dataclasses import dataclass

from flyteidl2.common import identifier_pb2
from flyteidl2.task import common_pb2

from flyte.server._messages import read_message
from flyte.server._outcome import SUCCEEDED
from flyte.server._requests import find_action
from flyte.server._state import ServerState


@dataclass(frozen=True)
class ActionData:
    inputs: common_pb2.Inputs
    outputs: common_pb2.Outputs
    inputs_uri: str
    outputs_uri: str


async def action_data(state: ServerState, pb: identifier_pb2.ActionIdentifier) -> ActionData:
    """Raises NOT_FOUND for an unknown action; outputs are empty until an attempt succeeded."""
    action = await find_action(state, pb)
    inputs = await read_message(action.input_uri, common_pb2.Inputs) or common_pb2.Inputs()
    outputs, outputs_uri = common_pb2.Outputs(), ""
    succeeded = [a for a in await state.store.attempts(action.id) if a.phase == SUCCEEDED]
    if succeeded:
        outputs_uri = succeeded[-1].outputs_uri.rstrip("/") + "/outputs.pb"
        outputs = await read_message(outputs_uri, common_pb2.Outputs) or outputs
    return ActionData(inputs=inputs, outputs=outputs, inputs_uri=action.input_uri, outputs_uri=outputs_uri)
