"""flyte 2.12.1's own controller against this server: its client deploys and runs a parent that fans
out children, records a trace and catches a failing child; the server runs 2.12.1's ``a0``, whose
controller speaks QueueService.EnqueueAction and StateService.Watch to us.

flyte 2.12.1 shares our import name, so it lives in its own cached venv (``tools/public_flyte.py``,
created on first use); the test skips only when that venv cannot be created.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte.server.testing import running_server

RUN_SECONDS = 300

TASKS = textwrap.dedent(
    """
    import asyncio

    import flyte

    env = flyte.TaskEnvironment("pub")


    @env.task
    async def square(x: int) -> int:
        return x * x


    @env.task
    def boom(x: int) -> int:
        raise ValueError(f"cannot handle {x}")


    @flyte.trace
    async def helper(x: int) -> int:
        return x + 100


    @env.task
    async def fan(n: int) -> str:
        values = await asyncio.gather(*(square(i) for i in range(n)))
        extra = await helper(1)
        try:
            await boom.aio(3)
        except Exception as e:
            return f"{sum(values) + extra} caught {e}"
        return "not raised"
    """
)

DRIVER = textwrap.dedent(
    """
    import json
    import pathlib
    import sys

    import flyte

    root = pathlib.Path(sys.argv[2])
    sys.path.insert(0, str(root))
    import pubtasks

    flyte.init(endpoint=sys.argv[1], insecure=True, project="pubproj", domain="development", root_dir=root)
    run = flyte.run(pubtasks.fan, n=4)
    run.wait()
    print(json.dumps({"run": run.name, "phase": str(run.phase), "outputs": list(run.outputs())}))
    """
)


def _public_python() -> Path:
    try:
        from tools.public_flyte import PublicFlyteUnavailable, public_python
    except ImportError:
        pytest.skip("tools.public_flyte is importable only from the repository root")
    try:
        return public_python()
    except PublicFlyteUnavailable as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def public_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    python = _public_python()
    data = tmp_path_factory.mktemp("pub-server") / "data"
    # This server runs flyte 2.12.1's a0, so that its controller is the one under test.
    with running_server(data, a0_command=python.parent / "a0") as server:
        yield server.url, python, data


def test_flyte_2_12_1_children_traces_and_errors_run_through_our_queue_and_state(
    public_server: tuple[str, Path, Path], tmp_path: Path
):
    url, python, data = public_server
    # A unique bundle: flyte 2.12.1 skips uploading a bundle it remembers having uploaded.
    (tmp_path / "pubtasks.py").write_text(f"{TASKS}\n# {time.time_ns()}\n")
    (tmp_path / "driver.py").write_text(DRIVER)
    done = subprocess.run(
        [str(python), str(tmp_path / "driver.py"), url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert "SUCCEEDED" in result["phase"], done.stdout[-3000:]
    # squares 0 + 1 + 4 + 9, the trace's 101, and the child's error caught by the parent
    assert result["outputs"] == ["115 caught cannot handle 3"]

    import sqlite3

    with sqlite3.connect(data / "flyte.db") as db:
        rows = db.execute(
            "SELECT a.parent, a.action_type, a.phase, a.task_name, a.attempts FROM actions a "
            "JOIN runs r ON r.id = a.run_id WHERE r.name = ? ORDER BY a.id",
            (result["run"],),
        ).fetchall()
    children = [r for r in rows if r[0] == "a0"]
    assert sorted(r[3] for r in children) == [
        "helper",
        "pub.boom",
        "pub.square",
        "pub.square",
        "pub.square",
        "pub.square",
    ]
    trace = next(r for r in children if r[3] == "helper")
    assert trace[1] == 2  # ACTION_TYPE_TRACE, recorded already finished (never run by the server)
    assert trace[4] == 0
    assert all(r[4] == 1 for r in children if r[3] != "helper")

    # Our client reads the run flyte 2.12.1 created: in the org 2.12.1 takes from this address
    # ("127"; an address names no org for our client, so it is given here).
    import flyte.remote
    from flyte.remote import _session

    saved = _session._configured
    try:
        assert flyte.remote.configure(url, insecure=True, project="pubproj").org == ""
        flyte.remote.configure(url, insecure=True, org="127", project="pubproj")
        ours = flyte.remote.Run.get(result["run"])
        assert ours.outputs()[0] == "115 caught cannot handle 3"
    finally:
        _session._configured = saved
