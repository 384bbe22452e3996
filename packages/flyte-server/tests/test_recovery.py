"""kill -9 of the server while an action runs, then a restart on the same data dir."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from flyteidl2.common import phase_pb2
from flyteidl2.workflow import run_service_pb2

from flyte.remote import ClientSet

from .conftest import DOMAIN, PROJECT, deploy_tasks, start_server, stop_server
from .test_runs import create_run, inputs, outputs, watch

pytestmark = pytest.mark.asyncio


async def test_outputs_written_while_the_server_was_down_are_kept_not_rerun(tmp_path: Path, bundle: Path):
    data = tmp_path / "data"
    first = start_server(data)
    try:
        async with ClientSet(first.address, insecure=True, rpc_retries=1) as clients:
            deployed = await deploy_tasks(clients, bundle)
            action = await create_run(clients, deployed.ids["sleepy"], inputs(seconds=(1.5, float)))

            async def running() -> None:
                request = run_service_pb2.WatchActionDetailsRequest(action_id=action)
                async for response in clients.run_service.WatchActionDetails(request):
                    if response.details.status.phase == phase_pb2.ACTION_PHASE_RUNNING:
                        return

            await asyncio.wait_for(running(), 60)
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
    # The action's process outlives the server (its own process group) and finishes its attempt.
    outputs_pb = data / "runs" / "_" / PROJECT / DOMAIN / action.run.name / "a0" / "1" / "outputs.pb"
    for _ in range(300):
        if outputs_pb.exists():
            break
        await asyncio.sleep(0.1)
    assert outputs_pb.exists()

    second = start_server(data)
    try:
        async with ClientSet(second.address, insecure=True, rpc_retries=1) as clients:
            final = (await watch(clients, action))[-1]
            assert final.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
            assert len(final.attempts) == 1  # judged from the files, not run again
            assert await outputs(clients, action, str) == {"o0": "woke up"}
    finally:
        stop_server(second)


async def test_an_action_cut_short_by_a_crash_runs_again_after_the_restart(tmp_path: Path, bundle: Path):
    data = tmp_path / "data"
    first = start_server(data)
    try:
        async with ClientSet(first.address, insecure=True, rpc_retries=1) as clients:
            deployed = await deploy_tasks(clients, bundle)
            action = await create_run(clients, deployed.ids["add"], inputs(x=(1, int), y=(2, int)))
    finally:
        # Killed before (or while) the action runs: no result for it may exist yet.
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait()
    second = start_server(data)
    try:
        async with ClientSet(second.address, insecure=True, rpc_retries=1) as clients:
            final = (await watch(clients, action))[-1]
            assert final.status.phase == phase_pb2.ACTION_PHASE_SUCCEEDED
            assert await outputs(clients, action, int) == {"o0": 3}
    finally:
        stop_server(second)
