"""Action, ActionDetails, Task, Project and Secret objects without a backend: what they read from the
messages, argument checks, and cheap imports. Against a real server: packages/flyte-server/tests."""

from __future__ import annotations

import subprocess
import sys

import pytest
from flyteidl2.common import identifier_pb2, phase_pb2
from flyteidl2.project import project_service_pb2
from flyteidl2.secret import definition_pb2
from flyteidl2.task import run_pb2
from flyteidl2.workflow import run_definition_pb2

import flyte.errors
import flyte.remote
from flyte.remote import Action, ActionDetails, Project, Secret, Session, Task, _session
from flyte.remote._action import phase_filter

SESSION = Session("localhost:8090", insecure=True, project="p", domain="d")


def test_the_new_objects_load_no_grpc_or_protobuf():
    code = (
        "import sys, flyte.remote as r; r.Action, r.ActionDetails, r.Task, r.Project, r.Secret, r.upload_dir; "
        "r.RunNotFoundError; print([m for m in ('grpc', 'google.protobuf', 'flyteidl2') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _details(**fields: object) -> run_definition_pb2.ActionDetails:
    return run_definition_pb2.ActionDetails(
        id=identifier_pb2.ActionIdentifier(
            run=identifier_pb2.RunIdentifier(project="p", domain="d", name="r1"), name="a1"
        ),
        **fields,  # type: ignore[arg-type]
    )


def test_action_details_read_attempts_errors_and_times():
    first_error = run_definition_pb2.ErrorInfo(
        code="ValueError", message="bad input", kind=run_definition_pb2.ErrorInfo.KIND_USER
    )
    details = _details(
        attempts=[
            run_definition_pb2.ActionAttempt(attempt=1, phase=phase_pb2.ACTION_PHASE_FAILED, error_info=first_error),
            run_definition_pb2.ActionAttempt(attempt=2, phase=phase_pb2.ACTION_PHASE_SUCCEEDED),
        ]
    )
    details.status.phase = phase_pb2.ACTION_PHASE_SUCCEEDED
    details.status.start_time.FromSeconds(100)
    details.status.end_time.FromSeconds(103)
    wrapped = ActionDetails(details, SESSION)

    assert (wrapped.run_name, wrapped.name, wrapped.phase) == ("r1", "a1", "SUCCEEDED")
    assert wrapped.done()
    assert [(a.number, a.phase) for a in wrapped.attempts] == [(1, "FAILED"), (2, "SUCCEEDED")]
    assert isinstance(wrapped.attempts[0].error, flyte.errors.RuntimeUserError)
    assert "bad input" in str(wrapped.attempts[0].error)
    assert wrapped.attempts[1].error is None
    assert wrapped.runtime_seconds == 3
    assert wrapped.error is None
    wrapped.raise_for_status()


def test_an_aborted_action_raises_with_its_reason():
    details = _details(abort_info=run_definition_pb2.AbortInfo(reason="stop"))
    details.status.phase = phase_pb2.ACTION_PHASE_ABORTED
    wrapped = ActionDetails(details, SESSION)
    assert wrapped.abort_reason == "stop"
    with pytest.raises(flyte.errors.ActionAbortedError, match="action a1 of run r1 was aborted: stop"):
        wrapped.raise_for_status()


def test_a_listed_action_names_its_parent():
    pb = run_definition_pb2.Action(id=_details().id, metadata=run_definition_pb2.ActionMetadata(parent="a0"))
    assert Action(pb, SESSION).parent == "a0"
    assert Action(run_definition_pb2.Action(id=_details().id), SESSION).parent is None


def test_phase_filters_accept_names_in_any_case_and_name_unknown_ones():
    assert list(phase_filter(("running", "SUCCEEDED")).values) == [
        str(phase_pb2.ACTION_PHASE_RUNNING),
        str(phase_pb2.ACTION_PHASE_SUCCEEDED),
    ]
    with pytest.raises(ValueError, match=r"unknown phase 'finished'.*SUCCEEDED"):
        phase_filter("finished")


def test_task_get_is_lazy_and_needs_one_way_to_pick_the_version(monkeypatch):
    monkeypatch.setattr(_session, "_configured", None)
    flyte.remote.configure("127.0.0.1:1", insecure=True, project="p", domain="d")  # nothing listens there
    task = Task.get("env.main", auto_version="latest")
    assert (task.name, task.project, task.domain, task.version) == ("env.main", "p", "d", None)
    assert Task.get("env.main", project="q", version="v3").version == "v3"
    with pytest.raises(ValueError, match="exactly one of version"):
        Task.get("env.main")
    with pytest.raises(ValueError, match="got both"):
        Task.get("env.main", version="v1", auto_version="latest")
    with pytest.raises(ValueError, match="auto_version must be 'latest'"):
        Task.get("env.main", auto_version="newest")  # type: ignore[arg-type]


def test_projects_and_secrets_read_their_messages():
    project = Project(
        project_service_pb2.Project(
            id="ml",
            name="ML",
            labels=run_pb2.Labels(values={"team": "a"}),
            state=project_service_pb2.PROJECT_STATE_ARCHIVED,
            domains=[project_service_pb2.Domain(id="development", name="development")],
        ),
        SESSION,
    )
    assert (project.id, project.name, project.labels, project.domains, project.archived) == (
        "ml",
        "ML",
        {"team": "a"},
        ["development"],
        True,
    )
    secret = Secret(
        definition_pb2.Secret(
            id=definition_pb2.SecretIdentifier(name="tok"),
            secret_metadata=definition_pb2.SecretMetadata(type=definition_pb2.SECRET_TYPE_IMAGE_PULL_SECRET),
        )
    )
    assert (secret.name, secret.project, secret.type) == ("tok", "", "image_pull")
    assert "org-wide" in repr(secret)


def test_secret_values_must_be_text_or_bytes():
    from flyte.remote._secret import _spec

    assert _spec("x", "regular").string_value == "x"
    assert _spec(b"\x00", "image_pull").binary_value == b"\x00"
    with pytest.raises(TypeError, match="str or bytes, got int"):
        _spec(3, "regular")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'regular' or 'image_pull'"):
        _spec("x", "other")  # type: ignore[arg-type]


def test_upload_dir_refuses_a_file_and_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(_session, "_configured", None)
    flyte.remote.configure("127.0.0.1:1", insecure=True)
    (tmp_path / "f.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotADirectoryError, match=r"f\.txt"):
        flyte.remote.upload_dir(tmp_path / "f.txt")
    with pytest.raises(ValueError, match="holds no files"):
        flyte.remote.upload_dir(tmp_path / "empty")
