import pytest
from flyteidl2.core import literals_pb2
from google.protobuf import duration_pb2, timestamp_pb2

from flyte.types import _wire


@pytest.mark.parametrize("n", [0, 1, 127, 128, 300, 2**63 - 1, -1, -(2**63)])
def test_int_literal_matches_the_protobuf_api(n):
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=n)))
    assert _wire.int_literal(n) == lit.SerializeToString()


@pytest.mark.parametrize("s", ["", "a", "ü" * 200])
def test_str_literal_matches_the_protobuf_api(s):
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=s)))
    assert _wire.str_literal(s) == lit.SerializeToString()


@pytest.mark.parametrize(("s", "ns"), [(0, 0), (5, 0), (0, 7), (-5, -7), (10**10, 999_999_999)])
def test_timestamp_and_duration_match_the_protobuf_api(s, ns):
    ts = literals_pb2.Primitive(datetime=timestamp_pb2.Timestamp(seconds=s, nanos=abs(ns)))
    assert (
        _wire.datetime_literal(s, abs(ns))
        == literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=ts)).SerializeToString()
    )
    d = literals_pb2.Primitive(duration=duration_pb2.Duration(seconds=s, nanos=ns))
    assert (
        _wire.duration_literal(s, ns)
        == literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=d)).SerializeToString()
    )


def test_binary_and_union_and_map_entries_parse_as_intended():
    lit = literals_pb2.Literal.FromString(_wire.binary_literal(b"\x01" * 200, "msgpack"))
    assert (lit.scalar.binary.value, lit.scalar.binary.tag) == (b"\x01" * 200, "msgpack")
    m = literals_pb2.Literal.FromString(_wire.map_literal(_wire.map_entry("k", _wire.int_literal(3))))
    assert m.map.literals["k"].scalar.primitive.integer == 3


def test_padded_varints_are_read_as_the_same_numbers():
    values = [0, 1, 2**20, 5]
    lit = literals_pb2.Literal.FromString(_wire.collection_literal(_wire.int64_elements(values)))
    assert [x.scalar.primitive.integer for x in lit.collection.literals] == values


def test_double_columns_keep_every_bit():
    values = [0.1, -0.0, 1e308, 5]
    lit = literals_pb2.Literal.FromString(_wire.collection_literal(_wire.double_elements(values)))
    assert [x.scalar.primitive.float_value for x in lit.collection.literals] == [0.1, -0.0, 1e308, 5.0]


def test_float_map_entries_match_the_protobuf_api():
    items = [("a", 1.5), ("ü" * 50, -0.0), ("", 3.0)]
    fast = _wire.map_literal(_wire.float_map_entries(items))
    ref = literals_pb2.Literal(map=literals_pb2.LiteralMap())
    for k, v in items:
        ref.map.literals[k].scalar.primitive.float_value = v
    assert literals_pb2.Literal.FromString(fast) == ref
    assert _wire.float_map_entries([("k" * 200, 1.0)]) is None
