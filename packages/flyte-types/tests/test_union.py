import dataclasses
import typing

import pytest
from flyteidl2.core import literals_pb2

from flyte.types import LiteralMismatchError, TypeEngine, TypeTransformerFailedError

from .conftest import Inner


def test_optional_writes_a_tagged_union(roundtrip):
    lit, back = roundtrip(3, typing.Optional[int])  # noqa: UP045
    assert back == 3
    assert lit.scalar.union.type.structure.tag == "int"
    lit, back = roundtrip(None, int | None)
    assert back is None
    assert lit.scalar.union.type.structure.tag == "none"


def test_union_variant_types_carry_transformer_names():
    lt = TypeEngine.to_literal_type(typing.Union[int, str, list[int], Inner, dict, None])  # noqa: UP007
    tags = [v.structure.tag for v in lt.union_type.variants]
    assert tags == ["int", "str", "Typed List", "Object-Dataclass-Transformer", "Typed Dict", "none"]


def test_union_picks_the_exact_type_first(roundtrip):
    _, back = roundtrip(True, int | bool)
    assert back is True
    _, back = roundtrip(1, int | float)
    assert type(back) is int


@dataclasses.dataclass
class A:
    x: int


@dataclasses.dataclass
class B:
    x: int


def test_dataclasses_of_the_same_shape_read_back_by_their_schema(roundtrip):
    _, back = roundtrip(B(1), A | B)
    assert back == B(1)


def test_a_value_fitting_two_variants_is_an_ambiguity_error():
    with pytest.raises(TypeTransformerFailedError, match="ambiguous"):
        TypeEngine.to_literal_sync([], list[int] | list[str])


def test_a_value_fitting_no_variant_lists_why():
    with pytest.raises(TypeTransformerFailedError, match=r"expected int \| str, got list"):
        TypeEngine.to_literal_sync([1], int | str)


def test_a_bare_literal_is_read_by_the_one_variant_that_can():
    lit = TypeEngine.to_literal_sync("x", str)
    assert TypeEngine.to_python_value_sync(lit, int | str) == "x"


def test_a_union_literal_of_an_unknown_variant_is_a_mismatch():
    lit = TypeEngine.to_literal_sync(1.5, float | None)
    with pytest.raises(LiteralMismatchError, match="variant 'float' is not one of"):
        TypeEngine.to_python_value_sync(lit, int | str)


def test_optional_inside_a_list(roundtrip):
    _, back = roundtrip([1, None, 3], list[typing.Optional[int]])  # noqa: UP045
    assert back == [1, None, 3]


def test_empty_union_scalar_is_a_clear_error():
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(union=literals_pb2.Union()))
    with pytest.raises(LiteralMismatchError):
        TypeEngine.to_python_value_sync(lit, int | None)
