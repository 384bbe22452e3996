import random

import pytest
from flyteidl2.core import literals_pb2, types_pb2

from flyte.types import LiteralMismatchError, TypeEngine, TypeTransformerFailedError


def _naive_int_list(values):
    lits = [
        literals_pb2.Literal(scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(integer=v))) for v in values
    ]
    return literals_pb2.Literal(collection=literals_pb2.LiteralCollection(literals=lits))


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0],
        [1, 127, 128, 300, 2**40],
        [-1, -(2**63), 2**63 - 1, 0],
        [random.randint(-(2**63), 2**63 - 1) for _ in range(500)],
    ],
)
def test_int_list_is_byte_identical_to_messages_built_one_by_one(values):
    lit = TypeEngine.to_literal_sync(values, list[int])
    assert lit.SerializeToString() == _naive_int_list(values).SerializeToString()
    assert TypeEngine.to_python_value_sync(lit, list[int]) == values


def test_float_list_round_trips_ints_as_floats(roundtrip):
    _, back = roundtrip([1.5, 2, -0.0, float("inf")], list[float])
    assert back == [1.5, 2.0, -0.0, float("inf")]
    assert all(type(x) is float for x in back)


def test_nested_lists_and_maps(roundtrip):
    value = {"a": [[1, 2], []], "b": [[3]]}
    _, back = roundtrip(value, dict[str, list[list[int]]])
    assert back == value
    assert TypeEngine.to_literal_type(
        dict[str, list[list[int]]]
    ).map_value_type.collection_type.collection_type.simple == (types_pb2.SimpleType.INTEGER)


@pytest.mark.parametrize("t", [dict[str, float], dict[str, int], dict[str, str], dict[str, bool]])
def test_primitive_maps_round_trip(roundtrip, t):
    vt = t.__args__[1]
    value = {f"k{i}": vt(i % 2) for i in range(50)}
    _, back = roundtrip(value, t)
    assert back == value


def test_str_list_round_trips_unicode(roundtrip):
    _, back = roundtrip(["", "ä", "x" * 300], list[str])
    assert back == ["", "ä", "x" * 300]


def test_the_element_at_fault_is_named():
    with pytest.raises(
        TypeTransformerFailedError, match=r"^\[2\]: expected int, got str \(declared type: list\[int\]\)"
    ):
        TypeEngine.to_literal_sync([1, 2, "3"], list[int])


def test_an_out_of_range_element_is_named():
    with pytest.raises(TypeTransformerFailedError, match=r"^\[1\]: .* does not fit in a 64-bit integer"):
        TypeEngine.to_literal_sync([1, 2**70], list[int])


def test_the_map_key_at_fault_is_named():
    with pytest.raises(TypeTransformerFailedError, match=r"^\['b'\]\[0\]: expected int"):
        TypeEngine.to_literal_sync({"a": [1], "b": ["x"]}, dict[str, list[int]])


def test_non_str_map_keys_are_refused():
    with pytest.raises(TypeTransformerFailedError, match="map keys must be str"):
        TypeEngine.to_literal_sync({1: 2.0}, dict[str, float])


def test_a_mixed_collection_literal_falls_back_and_names_the_bad_element():
    lit = _naive_int_list([1, 2, 3])
    lit.collection.literals[1].scalar.primitive.string_value = "two"
    with pytest.raises(LiteralMismatchError, match=r"^\[1\]: expected a literal holding an integer"):
        TypeEngine.to_python_value_sync(lit, list[int])


def test_a_collection_element_with_extra_fields_still_decodes_element_by_element():
    lit = _naive_int_list([1, 2])
    lit.collection.literals[0].hash = "h"  # the merged fast path must notice and step aside
    assert TypeEngine.to_python_value_sync(lit, list[int]) == [1, 2]


def test_a_map_literal_is_not_a_list():
    lit = TypeEngine.to_literal_sync({"a": 1}, dict[str, int])
    with pytest.raises(LiteralMismatchError, match="expected a collection literal, got map"):
        TypeEngine.to_python_value_sync(lit, list[int])


def test_large_int_list_decodes_through_the_merged_fast_path():
    values = list(range(200_000))
    lit = TypeEngine.to_literal_sync(values, list[int])
    assert TypeEngine.to_python_value_sync(lit, list[int]) == values
