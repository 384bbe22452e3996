"""Tasks for the Project / Secret / logs / download-link tests, deployed from their own bundle.

The server runs them as real ``a0`` processes that import ``svctasks`` from the uploaded bundle;
the stubs below give the specs their interfaces (the server never imports the tasks).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from flyteidl2.task import task_definition_pb2, task_service_pb2

from flyte.models import Secret, TaskID, TaskSpec
from flyte.remote import ClientSet
from flyte.runtime._bundle import build_tgz_bundle
from flyte.runtime._deploy import a0_args
from flyte.types import NativeInterface

MODULE = "svctasks"
SOURCE = textwrap.dedent(
    """
    import os
    import sys
    import time
    from pathlib import Path

    from flyte.runtime import TaskEnvironment

    env = TaskEnvironment("svc")

    @env.task
    def getenv(names: list[str]) -> dict[str, str]:
        return {name: os.environ.get(name, "<unset>") for name in names}

    @env.task
    def chatty(n: int, delay: float) -> int:
        for i in range(n):
            print(f"out line {i}", flush=True)
            print(f"err line {i}", file=sys.stderr, flush=True)
            time.sleep(delay)
        sys.stdout.write("no newline at the end")
        return n

    @env.task
    def reporter(title: str) -> str:
        # Where the server reads an attempt's files: <run base>/<action>/<attempt>/.
        attempt = int(os.environ["FLYTE_ATTEMPT_NUMBER"]) + 1
        folder = Path(os.environ["_U_RUN_BASE"]) / os.environ["ACTION_NAME"] / str(attempt)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.html").write_text(f"<h1>{title}</h1>")
        return title
    """
)


def getenv(names: list[str]) -> dict[str, str]: ...
def chatty(n: int, delay: float) -> int: ...
def reporter(title: str) -> str: ...


SIGNATURES = {f.__name__: f for f in (getenv, chatty, reporter)}


def build_bundle(folder: Path, out: Path) -> Path:
    (folder / f"{MODULE}.py").write_text(SOURCE)
    return build_tgz_bundle(folder, out).path


def spec(
    bundle_uri: str, function: str, version: str, project: str, domain: str, secrets: tuple[Secret, ...] = ()
) -> TaskSpec:
    return TaskSpec(
        TaskID(f"svc.{function}", version, project=project, domain=domain),
        interface=NativeInterface.from_callable(SIGNATURES[function]).to_proto(),
        image="local",
        args=a0_args(bundle_uri, MODULE, function, version),
        short_name=function,
        environment="svc",
        secrets=secrets,
    )


async def deploy(clients: ClientSet, bundle_uri: str, task: TaskSpec) -> task_definition_pb2.TaskIdentifier:
    await clients.task_service.DeployTask(
        task_service_pb2.DeployTaskRequest(task_id=task.task_id.to_proto(), spec=task.to_proto())
    )
    return task.task_id.to_proto()
