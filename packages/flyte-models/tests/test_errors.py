import pickle

import pytest

import flyte.errors as errors


def test_user_errors_are_runtime_errors_of_kind_user():
    err = errors.NonRecoverableError("input file is empty")
    assert isinstance(err, errors.RuntimeUserError)
    assert isinstance(err, errors.BaseRuntimeError)
    assert isinstance(err, RuntimeError)
    assert (err.code, err.kind, str(err)) == ("NonRecoverableError", "user", "input file is empty")


@pytest.mark.parametrize(
    ("cls", "kind"),
    [(errors.RuntimeUserError, "user"), (errors.RuntimeSystemError, "system"), (errors.RuntimeUnknownError, "unknown")],
)
def test_kind_follows_the_class(cls, kind):
    err = cls("SomeCode", "went wrong", "worker-1")
    assert (err.code, err.kind, err.worker, err.root_cause_message) == ("SomeCode", kind, "worker-1", "went wrong")


@pytest.mark.parametrize(
    "cls",
    [errors.MaxRuntimeExceededError, errors.MaxQueuedTimeExceededError, errors.DeadlineExceededError],
)
def test_timeout_errors_share_a_base_and_carry_their_own_code(cls):
    err = cls("took 31s, max_runtime is 30s")
    assert isinstance(err, errors.TaskTimeoutError)
    assert err.code == cls.__name__
    assert err.kind == "user"
    assert err.worker is None


def test_message_only_errors_use_a_fixed_code():
    assert errors.ActionAbortedError("aborted by alice").code == "ActionAbortedError"
    assert errors.RestrictedTypeError("no sockets").code == "RestrictedTypeUsage"
    assert errors.RemoteTaskNotFoundError("no task x").code == "RemoteTaskNotFound"


def test_every_name_in_all_is_an_error_class_of_the_hierarchy():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if name == "ErrorKind":
            continue
        assert issubclass(obj, errors.BaseRuntimeError), name


def test_errors_survive_pickling_with_every_field():
    for err in [
        errors.RuntimeUserError("Code", "msg", "w"),
        errors.NonRecoverableError("no retry"),
        errors.RuntimeDataValidationError("x", ValueError("bad"), "t1"),
        errors.CustomError("BadShard", "shard 3 is empty"),
    ]:
        back = pickle.loads(pickle.dumps(err))
        assert type(back) is type(err)
        assert back.__dict__ == err.__dict__
        assert str(back) == str(err)


def test_data_validation_error_names_task_and_variable():
    err = errors.RuntimeDataValidationError("items", "expected int, got str", task_name="train")
    assert "'train'" in str(err)
    assert "'items'" in str(err)
    assert "expected int, got str" in str(err)
    assert err.code == "DataValidationError"


def test_custom_error_from_exception_keeps_type_and_cause():
    cause = KeyError("shard")
    err = errors.CustomError.from_exception(cause)
    assert err.code == "KeyError"
    assert err.__cause__ is cause


def test_arithmetic_on_an_error_value_raises_the_error_itself():
    # flyte.map(..., return_exceptions=True) returns errors as values; sum() must surface them.
    err = errors.OOMError("OOMKilled", "used 3Gi of 2Gi")
    with pytest.raises(errors.OOMError) as caught:
        sum([1, err])
    assert caught.value is err
