"""``flyte.remote.Run`` without a backend: outputs, error mapping, sessions, an unreachable endpoint.

End-to-end runs against the embedded server are in packages/flyte-runtime/tests/test_remote_runs.py
(they need the runtime to bundle and deploy a task).
"""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.workflow import run_definition_pb2

import flyte.errors
import flyte.remote
from flyte.remote import ActionOutputs, Run, Session, _session


def test_import_flyte_remote_run_loads_no_grpc_or_protobuf():
    code = (
        "import sys, flyte.remote; flyte.remote.Run; flyte.remote.ActionOutputs; flyte.remote.upload_file; "
        "bad = [m for m in ('grpc', 'google.protobuf', 'flyteidl2') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_run_outputs_by_position_and_name():
    o = ActionOutputs((3, "x"), ("o0", "o1"))
    assert o == (3, "x")
    assert o.o0 == 3
    assert o.o1 == "x"
    assert o.named_outputs() == {"o0": 3, "o1": "x"}
    assert repr(o) == "ActionOutputs(o0=3, o1='x')"
    with pytest.raises(AttributeError, match="o0, o1"):
        _ = o.o2
    with pytest.raises(ValueError, match="1 output values but 0 names"):
        ActionOutputs((1,), ())


def _details(phase: int, **fields: object) -> run_definition_pb2.ActionDetails:
    details = run_definition_pb2.ActionDetails(
        id=identifier_pb2.ActionIdentifier(
            run=identifier_pb2.RunIdentifier(project="p", domain="d", name="r1"), name="a0"
        ),
        **fields,  # type: ignore[arg-type]
    )
    details.status.phase = phase  # type: ignore[assignment]
    return details


SESSION = Session("localhost:8090", insecure=True, project="p", domain="d")


def test_a_run_reports_its_name_url_and_phase():
    run = Run(_details(phase_pb2.ACTION_PHASE_RUNNING), SESSION)
    assert run.name == "r1"
    assert run.phase == "RUNNING"
    assert not run.done()
    assert run.url == "http://localhost:8090/v2/runs/project/p/domain/d/r1"
    run.raise_for_status()  # not failed (yet)


def test_a_failed_run_raises_the_flyte_error_of_its_error_info():
    info = run_definition_pb2.ErrorInfo(
        code="RetriesExhausted|ValueError", message="cannot handle 7", kind=run_definition_pb2.ErrorInfo.KIND_USER
    )
    run = Run(_details(phase_pb2.ACTION_PHASE_FAILED, error_info=info), SESSION)
    assert run.done()
    with pytest.raises(flyte.errors.RetriesExhaustedError, match="cannot handle 7"):
        run.raise_for_status()
    kind = run_definition_pb2.ErrorInfo.KIND_SYSTEM
    system = run_definition_pb2.ErrorInfo(code="OOMKilled", message="boom", kind=kind)
    with pytest.raises(flyte.errors.RuntimeSystemError, match="boom"):
        Run(_details(phase_pb2.ACTION_PHASE_FAILED, error_info=system), SESSION).raise_for_status()


def test_an_aborted_run_raises_action_aborted_with_the_reason():
    aborted = _details(phase_pb2.ACTION_PHASE_ABORTED, abort_info=run_definition_pb2.AbortInfo(reason="enough"))
    with pytest.raises(flyte.errors.ActionAbortedError, match="enough"):
        Run(aborted, SESSION).raise_for_status()


def test_configure_sets_the_default_session(monkeypatch):
    monkeypatch.setattr(_session, "_configured", None)
    session = flyte.remote.configure("localhost:1", insecure=True, project="proj")
    assert flyte.remote.current_session() is session
    assert session.domain == "development"
    assert session.org == ""  # one label: no org


@pytest.mark.parametrize(
    ("endpoint", "org"),
    [
        ("dns:///acme.flyte.example.com:443", "acme"),
        ("https://acme.hosted.example.cloud", "acme"),
        ("grpc://a.b.c:81", "a"),
        ("127.0.0.1:8090", ""),  # an address names no org (flyte 2.12.1 would say "127")
        ("http://10.1.2.3:30080", ""),
        ("localhost:8090", ""),
        ("flyte.internal:443", ""),
        ("[::1]:8090", ""),
    ],
)
def test_without_a_configured_org_the_endpoint_names_it_as_flyte_2_12_1_does(monkeypatch, endpoint, org):
    monkeypatch.setattr(_session, "_configured", None)
    assert flyte.remote.configure(endpoint).org == org
    assert flyte.remote.configure(endpoint, org="mine").org == "mine"


def test_a_configured_org_wins_over_the_one_the_endpoint_names(monkeypatch, tmp_path):
    monkeypatch.setattr(_session, "_configured", None)
    monkeypatch.delenv("FLYTECTL_CONFIG", raising=False)
    monkeypatch.setenv("FLYTE_ADMIN_ENDPOINT", "dns:///acme.flyte.example.com")
    monkeypatch.delenv("FLYTE_TASK_ORG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert flyte.remote.current_session().org == "acme"
    monkeypatch.setenv("FLYTE_TASK_ORG", "other")
    assert flyte.remote.current_session().org == "other"


def test_no_endpoint_anywhere_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(_session, "_configured", None)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("FLYTE_ADMIN_ENDPOINT", raising=False)
    monkeypatch.delenv("FLYTECTL_CONFIG", raising=False)
    with pytest.raises(flyte.errors.InitializationError, match="flyte start server"):
        flyte.remote.current_session()


def test_an_unreachable_backend_is_named(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(_session, "_configured", None)
    flyte.remote.configure(f"127.0.0.1:{port}", insecure=True)
    with pytest.raises(flyte.errors.InitializationError) as e:
        Run.get("missing")
    assert f"127.0.0.1:{port}" in str(e.value)
    assert "flyte start server" in str(e.value)
