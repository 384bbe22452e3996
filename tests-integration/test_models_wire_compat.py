"""flyte.models speaks the same wire format as the public Flyte 2 SDK (flyte==2.12.1).

The public SDK shares our import name, so it lives in its own cached venv
(``~/.cache/flyte-dev/flyte-public-2.12.1``) and runs as a subprocess: it serializes task specs,
resources, error documents and child action names for a corpus of settings, and reads error
documents we wrote. We build the same things with flyte.models and compare the protobuf messages
field by field (as dicts, so a failure shows the differing field). The tests skip only when that
venv cannot be created (no network to the package index).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("flyteidl2")

from flyteidl2.core import execution_pb2, tasks_pb2
from flyteidl2.task import task_definition_pb2
from google.protobuf import json_format

import flyte.errors as errors
import flyte.models as m
from tools.public_flyte import PublicFlyteUnavailable, public_python

# Resource settings exchanged as JSON: {"gpu": {"helper": "GPU", "args": [...]}} builds a Device.
RESOURCE_CASES: list[dict[str, Any]] = [
    {"cpu": 1},
    {"cpu": 0.5},
    {"cpu": "500m"},
    {"cpu": [1, 2]},
    {"cpu": ["1", "2"]},
    {"memory": "1Gi"},
    {"memory": ["1Gi", "2Gi"]},
    {"disk": "5Gi"},
    {"shm": "auto"},
    {"shm": "1Gi"},
    {"gpu": 3},
    {"cpu": 2, "memory": "4Gi", "gpu": 1, "disk": "1Gi", "shm": "2Gi"},
    *({"gpu": g} for g in ["A100:2", "T4:1", "H100:8", "L40s:1", "A100_80G:4", "B200:1", "RTX_PRO_6000:2"]),
    *({"gpu": g} for g in ["T4 shared:1", "Trn1:4", "Inf2:2", "MI300X:1", "Gaudi1:1", "AppleSilicon"]),
    {"gpu": {"helper": "GPU", "args": ["A100", 1, "1g.5gb"]}},
    {"gpu": {"helper": "GPU", "args": ["H200", 2, "7g.141gb"]}},
    {"gpu": {"helper": "TPU", "args": ["V5P", "2x2x1"]}},
    {"gpu": {"helper": "TPU", "args": ["V5E", "2x2"]}},
    {"gpu": {"helper": "TPU", "args": ["V6E"]}},
    {"gpu": {"helper": "AMD_GPU", "args": ["MI355X"]}},
    {"gpu": {"helper": "Neuron", "args": ["Trn2u"]}},
    {"gpu": {"helper": "HABANA_GAUDI", "args": ["Gaudi1"]}},
    {"gpu": {"helper": "APPLE_SILICON", "args": []}},
]

CHILD_NAME_CASES = [
    ["a0", "ih", "th", 1, None],
    ["a0", "ih", "th", 2, "g"],
    ["x9k2", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "f5lxx1zz5pnorynqglhzmsp33", 17, "my group"],
    ["a0", "", "", 0, None],
]

# The tasks the public SDK serializes; TASKS below builds the same with flyte.models.
PUBLIC_TASKS = textwrap.dedent(
    """
    from datetime import timedelta
    import flyte

    plain_env = flyte.TaskEnvironment(name="plain", image="ghcr.io/org/plain:v1")

    @plain_env.task
    async def plain(x: int) -> int:
        return x

    full_env = flyte.TaskEnvironment(
        name="full",
        image="ghcr.io/org/img:abc",
        resources=flyte.Resources(cpu=("1", "2"), memory="2Gi", gpu="A100:2", disk="10Gi", shm="auto"),
        env_vars={"A": "1", "B": "two"},
        secrets=[
            flyte.Secret(key="token", group="gh"),
            flyte.Secret(key="k2", mount="/etc/flyte/secrets"),
            flyte.Secret(key="plain", as_env_var="MY_ENV"),
        ],
        cache=flyte.Cache(behavior="override", version_override="v7", serialize=True, ignored_inputs=("b",)),
    )

    @full_env.task(
        retries=flyte.RetryStrategy(
            3, backoff=flyte.Backoff(base=timedelta(seconds=2), factor=2.0, cap=timedelta(seconds=60))
        ),
        timeout=flyte.Timeout(max_runtime=timedelta(minutes=5), max_queued_time=60, deadline=3600),
    )
    async def full(a: int, b: str = "x") -> int:
        return a

    @full_env.task(retries=2, timeout=90, cache="disable", short_name="short")
    def sync_task(a: float) -> float:
        return a

    reuse_env = flyte.TaskEnvironment(
        name="reuse",
        image="ghcr.io/org/reuse:v2",
        resources=flyte.Resources(cpu=1, memory="1Gi"),
        reusable=flyte.ReusePolicy(replicas=(1, 4), idle_ttl=300, concurrency=3, scaledown_ttl=60, scope="run"),
    )

    @reuse_env.task(cache=flyte.Cache("override", version_override="c1", max_age=timedelta(hours=1)))
    async def reused(a: int) -> int:
        return a
    """
)

PUBLIC_SCRIPT = textwrap.dedent(
    """
    import asyncio, base64, json, sys, tempfile
    from pathlib import Path

    import flyte
    import flyte.errors as fe
    from flyte.models import ActionID, SerializationContext
    from flyte._internal.runtime import convert, io
    from flyte._internal.runtime.resources_serde import get_proto_extended_resources, get_proto_resources
    from flyte._internal.runtime.task_serde import translate_task_to_wire

    request = json.load(sys.stdin)
    b64 = lambda msg: base64.b64encode(msg.SerializeToString()).decode() if msg is not None else None
    out = {}

    sys.path.insert(0, request["root"])
    import public_tasks as t
    ctx = SerializationContext(version="v1", project="p", domain="d", org="o", root_dir=Path(request["root"]))
    out["tasks"] = {n: b64(translate_task_to_wire(getattr(t, n), ctx)) for n in request["tasks"]}

    def gpu(spec):
        if isinstance(spec, dict):
            return getattr(flyte, spec["helper"])(*spec["args"])
        return spec

    out["resources"] = []
    for case in request["resources"]:
        kw = {k: (tuple(v) if isinstance(v, list) else gpu(v) if k == "gpu" else v) for k, v in case.items()}
        r = flyte.Resources(**kw)
        out["resources"].append([b64(get_proto_resources(r)), b64(get_proto_extended_resources(r))])

    parent = lambda n: ActionID(name=n, run_name="r", project="p", domain="d", org="o")
    out["child_names"] = [
        parent(p).new_sub_action_from(task_call_seq=s, task_hash=th, input_hash=ih, group=g).name
        for p, ih, th, s, g in request["child_names"]
    ]

    async def errors():
        written = {}
        samples = {
            "user": ValueError("bad value"),
            "flyte_user": fe.RuntimeUserError("MyCode", "went wrong"),
            "system": fe.RuntimeSystemError("SysCode", "node lost"),
            "unknown": fe.RuntimeUnknownError("Odd", "no idea"),
            "non_recoverable": fe.NonRecoverableError("do not retry"),
            "oom": fe.OOMError("OOMKilled", "used 3Gi"),
            "timeout": fe.MaxRuntimeExceededError("took too long"),
        }
        for name, exc in samples.items():
            err = convert.convert_from_native_to_error(exc)
            uri = await io.upload_error(err.err, tempfile.mkdtemp(), recoverable=err.recoverable)
            written[name] = base64.b64encode(Path(uri).read_bytes()).decode()
        read = {}
        for name, doc in request["error_docs"].items():
            path = Path(tempfile.mkdtemp()) / "error.pb"
            path.write_bytes(base64.b64decode(doc))
            native = convert.convert_error_to_native(await io.load_error(str(path)))
            read[name] = [type(native).__name__, native.code, native.kind, str(native)]
        return written, read

    out["errors_written"], out["errors_read"] = asyncio.run(errors())
    json.dump(out, sys.stdout)
    """
)


def _public_python() -> Path:
    try:
        return public_python()
    except PublicFlyteUnavailable as e:
        pytest.skip(str(e))


def _b64(msg: Any) -> str:
    return base64.b64encode(msg.SerializeToString()).decode()


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    python = _public_python()
    root = tmp_path_factory.mktemp("public")
    (root / "public_tasks.py").write_text(PUBLIC_TASKS)
    request = {
        "root": str(root),
        "tasks": list(TASKS),
        "resources": RESOURCE_CASES,
        "child_names": CHILD_NAME_CASES,
        "error_docs": {name: _b64(info.to_document()) for name, info in OUR_ERRORS.items()},
    }
    result = subprocess.run(
        [str(python), "-c", PUBLIC_SCRIPT],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out: dict[str, Any] = json.loads(result.stdout)
    return out


def _decode(cls: Any, text: str | None) -> Any:
    if text is None:
        return None
    msg = cls()
    msg.ParseFromString(base64.b64decode(text))
    return msg


def _as_dict(msg: Any) -> dict[str, Any] | None:
    return json_format.MessageToDict(msg) if msg is not None else None


def _our_resources(case: dict[str, Any]) -> m.Resources:
    kw: dict[str, Any] = {}
    for k, v in case.items():
        if k == "gpu" and isinstance(v, dict):
            kw[k] = getattr(m, v["helper"])(*v["args"])
        else:
            kw[k] = tuple(v) if isinstance(v, list) else v
    return m.Resources(**kw)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(RESOURCE_CASES)), ids=[json.dumps(c) for c in RESOURCE_CASES])
def test_resources_serialize_like_the_public_sdk(public: dict[str, Any], index: int) -> None:
    theirs_res, theirs_ext = public["resources"][index]
    ours = _our_resources(RESOURCE_CASES[index])
    assert _as_dict(ours.to_proto()) == _as_dict(_decode(tasks_pb2.Resources, theirs_res))
    assert _as_dict(ours.to_extended_proto()) == _as_dict(_decode(tasks_pb2.ExtendedResources, theirs_ext))


@pytest.mark.slow
def test_child_action_names_match_the_public_sdk(public: dict[str, Any]) -> None:
    for (parent, ih, th, seq, group), theirs in zip(CHILD_NAME_CASES, public["child_names"], strict=True):
        assert m.child_action_name(parent, ih, th, seq, group) == theirs


# The same tasks as PUBLIC_TASKS, built with flyte.models. What other distributions compute is taken
# from the public spec: the interface (flyte-types), the container args, the code version (a hash of
# the function body) and a reusable task's type and actor config (the runtime).
_FULL = {
    "image": "ghcr.io/org/img:abc",
    "resources": m.Resources(cpu=("1", "2"), memory="2Gi", gpu="A100:2", disk="10Gi", shm="auto"),
    "env_vars": {"A": "1", "B": "two"},
    "secrets": [
        m.Secret(key="token", group="gh"),
        m.Secret(key="k2", mount=Path("/etc/flyte/secrets")),
        m.Secret(key="plain", as_env_var="MY_ENV"),
    ],
    "environment": "full",
}
TASKS: dict[str, dict[str, Any]] = {
    "plain": {"image": "ghcr.io/org/plain:v1", "environment": "plain", "short_name": "plain"},
    "full": {
        **_FULL,
        "short_name": "full",
        "cache": m.Cache("override", version_override="v7", serialize=True, ignored_inputs=("b",)),
        "retries": m.RetryStrategy(
            3, backoff=m.Backoff(base=timedelta(seconds=2), factor=2.0, cap=timedelta(seconds=60))
        ),
        "timeout": m.Timeout(max_runtime=timedelta(minutes=5), max_queued_time=60, deadline=3600),
    },
    "sync_task": {**_FULL, "short_name": "short", "retries": 2, "timeout": 90, "cache": "disable"},
    "reused": {
        "image": "ghcr.io/org/reuse:v2",
        "environment": "reuse",
        "short_name": "reused",
        "resources": m.Resources(cpu=1, memory="1Gi"),
        "reuse_policy": m.ReusePolicy(replicas=(1, 4), idle_ttl=300, concurrency=3, scaledown_ttl=60, scope="run"),
        "cache": m.Cache("override", version_override="c1", max_age=timedelta(hours=1)),
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TASKS))
def test_task_spec_serializes_like_the_public_sdk(public: dict[str, Any], name: str) -> None:
    theirs = _decode(task_definition_pb2.TaskSpec, public["tasks"][name])
    tt = theirs.task_template
    env = TASKS[name]["environment"]
    ours = m.TaskSpec(
        m.TaskID(f"{env}.{name}", "v1", "p", "d", "o"),
        interface=tt.interface,
        args=tuple(tt.container.args),
        runtime_version=tt.metadata.runtime.version,
        debuggable=tt.metadata.debuggable,
        cache_version=tt.metadata.discovery_version,
        task_type=tt.type,
        custom=json_format.MessageToDict(tt.custom) if tt.HasField("custom") else None,
        **TASKS[name],
    )
    assert _as_dict(ours.to_proto()) == _as_dict(theirs)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TASKS))
def test_public_task_spec_reads_back_to_the_same_bytes(public: dict[str, Any], name: str) -> None:
    theirs = _decode(task_definition_pb2.TaskSpec, public["tasks"][name])
    assert m.TaskSpec.from_proto(theirs).to_proto() == theirs


OUR_ERRORS = {
    "user": m.ErrorInfo.from_exception(ValueError("bad value")),
    "system": m.ErrorInfo.from_exception(errors.RuntimeSystemError("SysCode", "node lost")),
    "non_recoverable": m.ErrorInfo.from_exception(errors.NonRecoverableError("do not retry")),
    "oom": m.ErrorInfo.from_exception(errors.OOMError("OOMKilled", "used 3Gi")),
    "timeout": m.ErrorInfo.from_exception(errors.MaxRuntimeExceededError("took too long")),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("user", ["RuntimeUserError", "ValueError", "user", "bad value"]),
        ("system", ["RuntimeSystemError", "SysCode", "system", "node lost"]),
        ("non_recoverable", ["RuntimeUserError", "NonRecoverableError", "user", "do not retry"]),
        ("oom", ["OOMError", "OOMKilled", "user", "used 3Gi"]),
        ("timeout", ["MaxRuntimeExceededError", "MaxRuntimeExceededError", "user", "took too long"]),
    ],
)
def test_public_sdk_reads_our_error_documents(public: dict[str, Any], name: str, expected: list[str]) -> None:
    assert public["errors_read"][name] == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "cls", "code", "kind"),
    [
        ("flyte_user", errors.RuntimeUserError, "MyCode", "user"),
        ("system", errors.RuntimeSystemError, "SysCode", "system"),
        ("unknown", errors.RuntimeUnknownError, "Odd", "unknown"),
        ("non_recoverable", errors.NonRecoverableError, "NonRecoverableError", "user"),
        ("oom", errors.OOMError, "OOMKilled", "user"),
        ("timeout", errors.MaxRuntimeExceededError, "MaxRuntimeExceededError", "user"),
    ],
)
def test_we_read_the_public_sdks_error_documents(
    public: dict[str, Any], name: str, cls: type[errors.BaseRuntimeError], code: str, kind: str
) -> None:
    doc = _decode(execution_pb2.ErrorDocument, public["errors_written"][name])
    exc = m.exception_from_error_document(doc)
    assert type(exc) is cls
    assert (exc.code, exc.kind) == (code, kind)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["system", "non_recoverable", "oom", "timeout"])
def test_our_error_documents_are_byte_identical_to_the_public_sdks(public: dict[str, Any], name: str) -> None:
    assert _b64(OUR_ERRORS[name].to_document()) == public["errors_written"][name]
