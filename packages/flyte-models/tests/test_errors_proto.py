import pytest
from flyteidl2.core import execution_pb2

import flyte.errors as errors
import flyte.models as m

ContainerError = execution_pb2.ContainerError


@pytest.mark.parametrize(
    ("exc", "code", "kind", "recoverable"),
    [
        (ValueError("bad"), "ValueError", "user", True),
        (errors.RuntimeSystemError("Lost", "node gone"), "Lost", "system", True),
        (errors.RuntimeUnknownError("Odd", "?"), "Odd", "unknown", True),
        (errors.NonRecoverableError("stop"), "NonRecoverableError", "user", False),
        (errors.OOMError("OOMKilled", "3Gi"), "OOMKilled", "user", True),
    ],
)
def test_exceptions_become_error_documents(exc, code, kind, recoverable):
    doc = m.error_document_from_exception(exc)
    origin = {"user": 1, "system": 2, "unknown": 0}[kind]
    assert (doc.error.code, doc.error.origin) == (code, origin)
    assert doc.error.kind == (ContainerError.RECOVERABLE if recoverable else ContainerError.NON_RECOVERABLE)


@pytest.mark.parametrize(
    "exc",
    [
        errors.RuntimeUserError("ValueError", "bad"),
        errors.RuntimeSystemError("Lost", "node gone"),
        errors.RuntimeUnknownError("Odd", "?"),
        errors.NonRecoverableError("stop"),
        errors.OOMError("OOMKilled", "3Gi"),
        errors.MaxRuntimeExceededError("31s > 30s"),
        errors.MaxQueuedTimeExceededError("queued 1h"),
        errors.DeadlineExceededError("late"),
        errors.ActionAbortedError("by alice"),
        errors.RestrictedTypeError("no sockets"),
        errors.CodeBundleError("bad archive"),
    ],
)
def test_flyte_errors_come_back_as_the_same_class_code_kind_and_message(exc):
    doc = m.error_document_from_exception(exc)
    back = m.exception_from_error_document(execution_pb2.ErrorDocument.FromString(doc.SerializeToString()))
    assert type(back) is type(exc)
    assert (back.code, back.kind, str(back)) == (exc.code, exc.kind, str(exc))


def test_plain_exceptions_come_back_as_user_errors_carrying_the_type_name():
    back = m.exception_from_error_document(m.error_document_from_exception(KeyError("shard")))
    assert type(back) is errors.RuntimeUserError
    assert (back.code, str(back)) == ("KeyError", "'shard'")


def test_message_can_carry_the_traceback():
    doc = m.error_document_from_exception(ValueError("bad"), message="Traceback ...\nValueError: bad")
    assert doc.error.message.startswith("Traceback")


def test_retries_exhausted_prefix_from_the_backend_is_unwrapped():
    doc = execution_pb2.ErrorDocument(
        error=ContainerError(
            code="RetriesExhausted|ValueError", message="bad", kind=ContainerError.RECOVERABLE, origin=1
        )
    )
    back = m.exception_from_error_document(doc)
    assert type(back) is errors.RetriesExhaustedError
    assert back.code == "ValueError"


def test_an_empty_document_is_a_system_error():
    back = m.exception_from_error_document(execution_pb2.ErrorDocument())
    assert isinstance(back, errors.RuntimeSystemError)


def test_unset_container_kind_means_non_recoverable():
    # NON_RECOVERABLE is enum value 0: a writer that forgets the field opts out of retries.
    info = m.ErrorInfo.from_document(execution_pb2.ErrorDocument(error=ContainerError(code="X", origin=1)))
    assert not info.recoverable
    assert isinstance(info.to_exception(), errors.NonRecoverableError)


def test_execution_error_round_trip_keeps_worker_and_recoverability():
    info = m.ErrorInfo("Lost", "node gone", "system", recoverable=True, worker="pod-1")
    assert m.ErrorInfo.from_execution_error(info.to_execution_error()) == info


def test_error_info_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        m.ErrorInfo("X", "y", "platform")  # type: ignore[arg-type]
