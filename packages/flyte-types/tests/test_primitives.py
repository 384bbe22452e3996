import datetime
import typing

import pytest
from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import LiteralMismatchError, TypeEngine, TypeTransformerFailedError

UTC = datetime.timezone.utc


@pytest.mark.parametrize(
    ("value", "t", "simple"),
    [
        (7, int, types_pb2.SimpleType.INTEGER),
        (-(2**63), int, types_pb2.SimpleType.INTEGER),
        (2.5, float, types_pb2.SimpleType.FLOAT),
        ("héllo", str, types_pb2.SimpleType.STRING),
        (True, bool, types_pb2.SimpleType.BOOLEAN),
        (False, bool, types_pb2.SimpleType.BOOLEAN),
        (None, type(None), types_pb2.SimpleType.NONE),
        (datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime.datetime, types_pb2.SimpleType.DATETIME),
        (datetime.timedelta(days=-1, seconds=5, microseconds=7), datetime.timedelta, types_pb2.SimpleType.DURATION),
    ],
)
def test_primitive_round_trips_with_its_simple_type(roundtrip, value, t, simple):
    _, back = roundtrip(value, t)
    assert TypeEngine.to_literal_type(t).simple == simple
    assert back == value
    assert type(back) is type(value)


def test_primitive_literals_match_the_protobuf_api():
    lit = TypeEngine.to_literal_sync(5, int)
    expected = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=5)))
    assert lit == expected
    none = TypeEngine.to_literal_sync(None, type(None))
    assert none == literals_pb2.Literal(scalar=literals_pb2.Scalar(none_type=literals_pb2.Void()))


def test_naive_datetime_is_taken_as_utc():
    _, back = (
        None,
        TypeEngine.to_python_value_sync(
            TypeEngine.to_literal_sync(datetime.datetime(2024, 1, 2), datetime.datetime), datetime.datetime
        ),
    )
    assert back == datetime.datetime(2024, 1, 2, tzinfo=UTC)


def test_aware_datetime_in_another_zone_keeps_the_instant(roundtrip):
    tz = datetime.timezone(datetime.timedelta(hours=5))
    value = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=tz)
    _, back = roundtrip(value, datetime.datetime)
    assert back == value


def test_date_travels_as_midnight_utc(roundtrip):
    lit, back = roundtrip(datetime.date(1960, 5, 6), datetime.date)
    assert back == datetime.date(1960, 5, 6)
    assert lit.scalar.primitive.datetime.seconds < 0


def test_float_accepts_an_int_and_int_accepts_a_whole_float_literal():
    assert TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(3, float), float) == 3.0
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=4.0)))
    assert TypeEngine.to_python_value_sync(lit, int) == 4


@pytest.mark.parametrize(("value", "t"), [("1", int), (True, int), (1, str), (1, bool), (2**64, int), (1.5, int)])
def test_a_value_of_the_wrong_type_is_refused_with_the_declared_type(value, t):
    with pytest.raises(TypeTransformerFailedError, match=f"declared type: {t.__name__}"):
        TypeEngine.to_literal_sync(value, t)


def test_a_literal_of_the_wrong_kind_is_a_literal_mismatch():
    lit = TypeEngine.to_literal_sync("x", str)
    with pytest.raises(LiteralMismatchError, match="expected a literal holding an integer, got primitive string_value"):
        TypeEngine.to_python_value_sync(lit, int)


def test_an_empty_literal_is_a_clear_error_not_an_attribute_error():
    with pytest.raises(LiteralMismatchError):
        TypeEngine.to_python_value_sync(literals_pb2.Literal(), typing.Optional[int])  # noqa: UP045


def test_to_python_value_refuses_something_that_is_not_a_literal():
    with pytest.raises(TypeTransformerFailedError, match="expected a flyteidl2 Literal"):
        TypeEngine.to_python_value_sync(b"\x08\x01", int)  # type: ignore[arg-type]
