import dataclasses
import datetime
import typing

import msgpack
import pydantic
import pytest
from flyteidl2.core import types_pb2
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from flyte.types import LiteralMismatchError, TypeEngine, TypeTransformerFailedError

from .conftest import Color, Inner, Item, Movie, Point


def test_dataclass_is_msgpack_in_field_order_with_a_json_schema(roundtrip):
    value = Item(1, 2.0, Inner(3, "b"), tags=["t"])
    lit, back = roundtrip(value, Item)
    assert back == value
    assert lit.scalar.binary.tag == "msgpack"
    assert list(msgpack.unpackb(lit.scalar.binary.value)) == ["x", "y", "inner", "opt", "tags"]
    lt = TypeEngine.to_literal_type(Item)
    assert lt.simple == types_pb2.SimpleType.STRUCT
    assert lt.structure.tag == "Object-Dataclass-Transformer"
    schema = json_format.MessageToDict(lt.metadata)
    assert schema["properties"]["inner"]["title"] == "Inner"
    assert schema["required"] == ["x", "y", "inner"]
    assert schema["properties"]["opt"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}


@dataclasses.dataclass
class Rich:
    when: datetime.datetime
    day: datetime.date
    gap: datetime.timedelta
    color: Color
    pair: tuple[int, str]
    raw: bytes
    scores: dict[str, float]
    maybe: typing.Optional[Inner] = None  # noqa: UP045


def test_dataclass_fields_use_the_shapes_flyte_writes(roundtrip):
    value = Rich(
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        datetime.date(2024, 1, 2),
        datetime.timedelta(seconds=90),
        Color.GREEN,
        (1, "a"),
        b"\x00",
        {"a": 1.5},
        Inner(1, "x"),
    )
    lit, back = roundtrip(value, Rich)
    assert back == value
    data = msgpack.unpackb(lit.scalar.binary.value)
    assert data["when"] == "2024-01-02T03:04:05+00:00"
    assert data["gap"] == 90.0
    assert data["color"] == "green"
    assert data["pair"] == [1, "a"]


def test_list_of_dataclasses_reads_back_through_the_merged_fast_path(roundtrip):
    value = [Item(i, i / 2, Inner(i, str(i))) for i in range(100)]
    lit, back = roundtrip(value, list[Item])
    assert back == value
    assert len(lit.collection.literals) == 100


def test_a_bad_field_deep_in_a_list_names_its_path():
    value = [Item(0, 0.0, Inner(0, "a")), Item(1, 1.0, Inner(1, "b")), Item(2, 2.0, Inner(2, 3))]  # type: ignore[arg-type]
    with pytest.raises(TypeTransformerFailedError) as info:
        TypeEngine.to_literal_sync(value, list[Item])
    assert str(info.value) == "[2].inner.b: expected str, got int (declared type: list[Item])"
    assert info.value.path == "[2].inner.b"


def test_a_payload_missing_a_required_field_is_a_literal_mismatch():
    lit = TypeEngine.to_literal_sync({"x": 1}, dict)
    with pytest.raises(LiteralMismatchError, match="missing field 'y' of Item"):
        TypeEngine.to_python_value_sync(lit, Item)


def test_a_corrupt_msgpack_payload_is_a_literal_mismatch():
    lit = TypeEngine.to_literal_sync(Inner(1, "a"), Inner)
    lit.scalar.binary.value = b"\xc1"
    with pytest.raises(LiteralMismatchError, match="corrupt msgpack payload"):
        TypeEngine.to_python_value_sync(lit, Inner)


def test_untyped_dict_is_one_msgpack_map(roundtrip):
    value = {"a": 1, "b": [1, 2], "c": {"d": None}}
    _, back = roundtrip(value, dict)
    assert back == value
    assert (
        TypeEngine.to_literal_type(dict).annotation.annotations["cache-key-metadata"]["serialization-format"]
        == "msgpack"
    )


def test_dict_with_int_keys_is_msgpack(roundtrip):
    _, back = roundtrip({1: "a"}, dict[int, str])
    assert back == {1: "a"}


def test_tuple_named_tuple_and_typed_dict_round_trip(roundtrip):
    lit, back = roundtrip((1, "a"), tuple[int, str])
    assert back == (1, "a")
    assert msgpack.unpackb(lit.scalar.binary.value) == {"item_0": 1, "item_1": "a"}
    lit, back = roundtrip(Point(1, "p"), Point)
    assert back == Point(1, "p")
    assert type(back) is Point
    assert msgpack.unpackb(lit.scalar.binary.value) == {"x": 1, "label": "p"}
    _, back = roundtrip(Movie(title="t", year=1), Movie)
    assert back == {"title": "t", "year": 1}
    assert json_format.MessageToDict(TypeEngine.to_literal_type(Point).metadata)["title"] == "NamedTupleWrapper_Point"


class Sub(pydantic.BaseModel):
    a: int
    color: Color = Color.RED
    when: typing.Optional[datetime.datetime] = None  # noqa: UP045


class Top(pydantic.BaseModel):
    name: str
    items: list[Sub]


def test_pydantic_models_round_trip_with_enums_by_name(roundtrip):
    value = Top(
        name="n", items=[Sub(a=1, color=Color.GREEN, when=datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc))]
    )
    lit, back = roundtrip(value, Top)
    assert back == value
    data = msgpack.unpackb(lit.scalar.binary.value)
    assert data["items"][0]["color"] == "GREEN"
    schema = json_format.MessageToDict(TypeEngine.to_literal_type(Top).metadata)
    assert schema["$defs"]["Color"]["enum"] == ["RED", "GREEN"]
    assert TypeEngine.to_literal_type(Top).structure.tag == "Pydantic Transformer"


def test_pydantic_accepts_a_json_like_dict():
    lit = TypeEngine.to_literal_sync({"name": "n", "items": [{"a": 1}]}, Top)
    assert TypeEngine.to_python_value_sync(lit, Top) == Top(name="n", items=[Sub(a=1)])


def test_pydantic_validation_failure_is_reported():
    lit = TypeEngine.to_literal_sync({"name": "n", "items": "x"}, dict)
    with pytest.raises(LiteralMismatchError, match="not a valid Top"):
        TypeEngine.to_python_value_sync(lit, Top)


def test_enum_travels_by_name(roundtrip):
    lit, back = roundtrip(Color.GREEN, Color)
    assert back is Color.GREEN
    assert lit.scalar.primitive.string_value == "GREEN"
    assert list(TypeEngine.to_literal_type(Color).enum_type.values) == ["RED", "GREEN"]


def test_enum_refuses_a_non_member_name():
    lit = TypeEngine.to_literal_sync("BLUE", str)
    with pytest.raises(LiteralMismatchError, match="'BLUE' is not a member of Color"):
        TypeEngine.to_python_value_sync(lit, Color)


def test_literal_of_strings_is_an_enum_of_its_values(roundtrip):
    t = typing.Literal["low", "high"]
    _, back = roundtrip("high", t)
    assert back == "high"
    assert list(TypeEngine.to_literal_type(t).enum_type.values) == ["low", "high"]
    with pytest.raises(TypeTransformerFailedError, match="expected one of"):
        TypeEngine.to_literal_sync("mid", t)


def test_protobuf_message_is_a_generic_struct(roundtrip):
    value = struct_pb2.Struct()
    value.update({"a": 1.0, "b": ["x"]})
    lit, back = roundtrip(value, struct_pb2.Struct)
    assert back == value
    assert lit.scalar.HasField("generic")
    assert TypeEngine.to_literal_type(struct_pb2.Struct).metadata["pb_type"] == "google.protobuf.struct_pb2.Struct"
    enum_type = types_pb2.EnumType(values=["a", "b"])
    _, back_enum = roundtrip(enum_type, types_pb2.EnumType)
    assert back_enum == enum_type


def test_a_message_without_a_json_object_form_is_refused_clearly():
    with pytest.raises(TypeTransformerFailedError, match="no JSON object form"):
        TypeEngine.to_literal_sync(timestamp_pb2.Timestamp(seconds=5), timestamp_pb2.Timestamp)
