"""`a0` end to end with local storage: a code bundle and inputs.pb in, outputs.pb or error.pb out."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flyteidl2.core import execution_pb2
from flyteidl2.task import common_pb2

from flyte.runtime._bundle import build_pkl_bundle, build_tgz_bundle
from flyte.types import TypeEngine

TASKS = textwrap.dedent(
    """
    import asyncio
    from flyte.runtime import TaskEnvironment
    from flyte.errors import NonRecoverableError

    env = TaskEnvironment("a0test")

    @env.task
    async def add(x: int, y: int = 10) -> int:
        return x + y

    @env.task
    async def fan(n: int) -> list[int]:
        return list(await asyncio.gather(*(add(i, y=1) for i in range(n))))

    @env.task
    def boom(x: int) -> int:
        raise ValueError(f"cannot handle {x}")

    @env.task
    def fatal() -> int:
        raise NonRecoverableError("corrupt input")

    class Box:
        def __init__(self, payload: bytes):
            self.payload = payload

    @env.task
    def boxed(n: int) -> Box:
        return Box(b"x" * n)  # a pickle; large ones are written under the raw data path
    """
)


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "a0tasks.py").write_text(TASKS)
    return build_tgz_bundle(project, tmp_path / "bundles").path


def write_inputs(path: Path, **values: tuple[object, type]) -> str:
    message = common_pb2.Inputs()
    for name, (value, python_type) in values.items():
        message.literals.add(
            name=name, value=TypeEngine.to_literal_sync(value, python_type, TypeEngine.to_literal_type(python_type))
        )
    path.write_bytes(message.SerializeToString())
    return str(path)


def a0(
    tmp_path: Path,
    inputs: str,
    *code: str,
    instance: str = "",
    resolver: str = "flyte.runtime.DefaultTaskResolver",
    env: dict[str, str] | None = None,
):
    outputs = tmp_path / "out"
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    args = [
        "--inputs",
        inputs,
        "--outputs-path",
        str(outputs),
        "--version",
        "v1",
        "--raw-data-path",
        str(tmp_path / "raw"),
        "--run-name",
        "r1",
        "--name",
        "a0",
        "--dest",
        ".",
        *code,
    ]
    if instance:
        args += ["--resolver", resolver, "mod", "a0tasks", "instance", instance]
    script = Path(sys.executable).parent / "a0"
    result = subprocess.run(
        [str(script), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    return result, outputs


def read_outputs(outputs: Path, python_type: type) -> dict[str, object]:
    message = common_pb2.Outputs.FromString((outputs / "outputs.pb").read_bytes())
    return {n.name: TypeEngine.to_python_value_sync(n.value, python_type) for n in message.literals}


def read_error(outputs: Path) -> execution_pb2.ErrorDocument:
    return execution_pb2.ErrorDocument.FromString((outputs / "error.pb").read_bytes())


def test_a_task_runs_from_a_tgz_bundle_and_writes_outputs(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb", x=(32, int))
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="add")
    assert result.returncode == 0, result.stderr
    assert read_outputs(outputs, int) == {"o0": 42}
    assert not (outputs / "error.pb").exists()


def test_outputs_encoded_after_the_body_are_written_under_the_actions_raw_data_path(tmp_path, bundle):
    # The pickle is offloaded while outputs.pb is written, after the task body returned: it
    # still belongs under --raw-data-path (a bucket on a cluster), not a local default folder.
    inputs = write_inputs(tmp_path / "inputs.pb", n=(4096, int))
    limit = {"FLYTE_PICKLE_INLINE_MAX_BYTES": "1024"}
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="boxed", env=limit)
    assert result.returncode == 0, result.stderr
    (named,) = common_pb2.Outputs.FromString((outputs / "outputs.pb").read_bytes()).literals
    uri = named.value.scalar.blob.uri
    assert uri.startswith(str(tmp_path / "raw") + "/"), named.value
    assert Path(uri).stat().st_size > 4096


def test_children_run_in_process(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb", n=(3, int))
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="fan")
    assert result.returncode == 0, result.stderr
    assert read_outputs(outputs, list[int]) == {"o0": [1, 2, 3]}


def test_the_public_sdks_resolver_name_is_understood(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb", x=(1, int), y=(1, int))
    result, outputs = a0(
        tmp_path,
        inputs,
        "--tgz",
        str(bundle),
        instance="add",
        resolver="flyte._internal.resolvers.default.DefaultTaskResolver",
    )
    assert result.returncode == 0, result.stderr
    assert read_outputs(outputs, int) == {"o0": 2}


def test_a_failing_task_writes_a_user_error_document_and_exits_0(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb", x=(7, int))
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="boom")
    assert result.returncode == 0, result.stderr
    doc = read_error(outputs)
    assert doc.error.code == "ValueError"
    assert "cannot handle 7" in doc.error.message
    assert doc.error.kind == execution_pb2.ContainerError.RECOVERABLE
    assert not (outputs / "outputs.pb").exists()


def test_a_non_recoverable_error_is_marked_so(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb")
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="fatal")
    assert result.returncode == 0, result.stderr
    assert read_error(outputs).error.kind == execution_pb2.ContainerError.NON_RECOVERABLE


def test_an_unknown_task_is_a_module_load_error_document(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb")
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="nope")
    assert result.returncode == 0, result.stderr
    doc = read_error(outputs)
    assert doc.error.code == "ModuleLoadError"
    assert "has no task 'nope'" in doc.error.message


def test_a_missing_required_input_names_it(tmp_path, bundle):
    inputs = write_inputs(tmp_path / "inputs.pb")
    result, outputs = a0(tmp_path, inputs, "--tgz", str(bundle), instance="add")
    assert result.returncode == 0, result.stderr
    assert "'x'" in read_error(outputs).error.message


def test_a_missing_bundle_is_a_code_bundle_error(tmp_path):
    inputs = write_inputs(tmp_path / "inputs.pb", x=(1, int))
    result, outputs = a0(tmp_path, inputs, "--tgz", str(tmp_path / "absent.tar.gz"), instance="add")
    assert result.returncode == 0, result.stderr
    assert read_error(outputs).error.code == "CodeBundleError"


def test_a_pkl_bundle_carries_the_task_itself(tmp_path):
    sys.path.insert(0, str(tmp_path))
    try:
        (tmp_path / "pkltasks.py").write_text(TASKS)
        import pkltasks

        pkl = build_pkl_bundle(pkltasks.add, tmp_path / "bundles", by_value=[pkltasks]).path
    finally:
        sys.path.remove(str(tmp_path))
    inputs = write_inputs(tmp_path / "inputs.pb", x=(5, int))
    result, outputs = a0(tmp_path, inputs, "--pkl", str(pkl))
    assert result.returncode == 0, result.stderr
    assert read_outputs(outputs, int) == {"o0": 15}


def test_bad_arguments_exit_non_zero_without_writing_anything(tmp_path):
    script = Path(sys.executable).parent / "a0"
    result = subprocess.run([str(script), "--inputs", "x"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "--outputs-path" in result.stderr


def test_a_local_bundle_is_read_in_place_not_copied(tmp_path, bundle, monkeypatch):
    # A bundle on this machine (a path or a file:// URI) is unpacked straight from where it is:
    # no downloaded copy is left in the temp folder for each attempt.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    inputs = write_inputs(tmp_path / "inputs.pb", x=(1, int))
    for code in (str(bundle), bundle.as_uri()):
        result, outputs = a0(tmp_path, inputs, "--tgz", code, instance="add")
        assert result.returncode == 0, result.stderr
        assert read_outputs(outputs, int) == {"o0": 11}
    assert [p.name for p in scratch.iterdir() if p.name.startswith("flyte-bundle-")] == []


def test_local_file_tells_local_bundles_from_remote_ones(tmp_path):
    from flyte.runtime._a0 import _local_file

    archive = tmp_path / "b c.tgz"
    archive.write_bytes(b"x")
    assert _local_file(str(archive)) == archive
    assert _local_file(archive.as_uri()) == archive  # percent-encoded space decoded
    assert _local_file(str(tmp_path / "missing.tgz")) is None  # fetched (and reported) by storage
    assert _local_file(str(tmp_path)) is None  # a folder is not a bundle file
    assert _local_file("s3://bucket/b.tgz") is None
    assert _local_file("file://otherhost/b.tgz") is None


def test_the_cached_parser_reads_run_and_action_names_from_the_environment_each_time(monkeypatch):
    from flyte.runtime._a0 import parse_args

    argv = ["--inputs", "i", "--outputs-path", "o", "--tgz", "t", "--resolver", "r", "mod", "m"]
    monkeypatch.setenv("RUN_NAME", "run-1")
    monkeypatch.setenv("ACTION_NAME", "act-1")
    first = parse_args(argv)
    monkeypatch.setenv("RUN_NAME", "run-2")
    monkeypatch.delenv("ACTION_NAME")
    second = parse_args(argv)
    assert (first.run_name, first.name) == ("run-1", "act-1")
    assert (second.run_name, second.name) == ("run-2", "a0")
    assert parse_args([*argv[:4], "--run-name", "explicit", *argv[4:]]).run_name == "explicit"


def test_a0s_own_steps_run_inline_and_the_tasks_calls_in_threads():
    import asyncio
    import threading

    from flyte.runtime._a0 import _PhaseExecutor

    async def main() -> tuple[str, str, str]:
        executor = _PhaseExecutor()
        asyncio.get_running_loop().set_default_executor(executor)
        inline = await asyncio.to_thread(lambda: threading.current_thread().name)
        executor.inline = False
        threaded = await asyncio.to_thread(lambda: threading.current_thread().name)
        executor.inline = True
        try:
            await asyncio.to_thread(lambda: 1 / 0)
        except ZeroDivisionError as e:
            error = type(e).__name__
        return inline, threaded, error

    inline, threaded, error = asyncio.run(main())
    assert inline == threading.current_thread().name
    assert threaded != inline
    assert error == "ZeroDivisionError"


def test_a_bundle_in_a_bucket_is_fetched_and_its_copy_removed(tmp_path, bundle, monkeypatch):
    # A real S3 endpoint (moto on loopback): a0 downloads the bundle into a temp folder, unpacks
    # it, and removes the copy, whether the run succeeds or the download fails.
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        s3 = boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id="k", aws_secret_access_key="s", region_name="us-east-1"
        )
        s3.create_bucket(Bucket="code")
        s3.upload_file(str(bundle), "code", f"v1/{bundle.name}")
        scratch = tmp_path / "tmp"
        scratch.mkdir()
        for name, value in {
            "TMPDIR": str(scratch),
            "FLYTE_AWS_ENDPOINT": endpoint,
            "FLYTE_AWS_ACCESS_KEY_ID": "k",
            "FLYTE_AWS_SECRET_ACCESS_KEY": "s",
            "FLYTE_AWS_REGION": "us-east-1",
            "FLYTE_STORAGE_RETRIES": "0",
        }.items():
            monkeypatch.setenv(name, value)
        inputs = write_inputs(tmp_path / "inputs.pb", x=(1, int))

        result, outputs = a0(tmp_path, inputs, "--tgz", f"s3://code/v1/{bundle.name}", instance="add")
        assert result.returncode == 0, result.stderr
        assert read_outputs(outputs, int) == {"o0": 11}
        assert list(scratch.iterdir()) == []

        (tmp_path / "missing").mkdir()
        result, outputs = a0(tmp_path / "missing", inputs, "--tgz", "s3://code/v1/nope.tar.gz", instance="add")
        assert result.returncode == 0, result.stderr
        error = read_error(outputs)
        assert "s3://code/v1/nope.tar.gz" in error.error.message
        assert list(scratch.iterdir()) == []
    finally:
        server.stop()
