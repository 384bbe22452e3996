import asyncio
import typing

import pytest
from flyteidl2.core import types_pb2

from flyte.types import NativeInterface, TypeEngine

from .conftest import Color, Item


class Result(typing.NamedTuple):
    total: int
    label: str


def task_a(
    x: int, items: list[Item], mode: typing.Literal["fast", "slow"] = "fast", color: Color = Color.RED
) -> Result: ...


def task_b(a: str) -> tuple[int, str]: ...


def task_c() -> None: ...


def task_d(*args: int) -> int: ...


def test_inputs_with_defaults_and_named_tuple_outputs():
    iface = NativeInterface.from_callable(task_a)
    assert iface.required_inputs() == ["x", "items"]
    assert iface.outputs == {"total": int, "label": str}
    proto = iface.to_proto()
    assert [v.key for v in proto.inputs.variables] == ["color", "items", "mode", "x"]
    mode = next(v for v in proto.inputs.variables if v.key == "mode")
    assert list(mode.value.type.enum_type.values) == ["fast", "slow"]
    assert [v.key for v in proto.outputs.variables] == ["label", "total"]


def test_default_inputs_are_literals():
    params = asyncio.run(NativeInterface.from_callable(task_a).default_inputs())
    by_name = {p.name: p.parameter for p in params}
    assert set(by_name) == {"mode", "color"}
    assert by_name["mode"].default.scalar.primitive.string_value == "fast"
    assert by_name["color"].default.scalar.primitive.string_value == "RED"
    assert by_name["color"].var.type == TypeEngine.to_literal_type(Color)


def test_tuple_outputs_are_numbered_and_none_has_none():
    assert NativeInterface.from_callable(task_b).outputs == {"o0": int, "o1": str}
    assert NativeInterface.from_callable(task_c).outputs == {}
    assert NativeInterface.from_callable(task_b).to_proto().outputs.variables[0].value.type.simple == (
        types_pb2.SimpleType.INTEGER
    )


def test_var_args_are_refused():
    with pytest.raises(TypeError, match=r"\*args"):
        NativeInterface.from_callable(task_d)


def test_guess_python_types_reads_an_interface_back():
    proto = NativeInterface.from_callable(task_b).to_proto()
    assert TypeEngine.guess_python_types(proto.inputs) == {"a": str}
    assert TypeEngine.guess_python_types(proto.outputs) == {"o0": int, "o1": str}
