import asyncio
import logging
import subprocess
import sys
import typing

import pytest
from flyteidl2.core import literals_pb2, types_pb2

from flyte.errors import RestrictedTypeError, RuntimeDataValidationError, RuntimeUserError
from flyte.types import FlytePickle, TypeEngine, TypeTransformer, TypeTransformerFailedError, _pickle, _plugins

from .conftest import Inner


class Celsius:
    def __init__(self, degrees: float):
        self.degrees = degrees

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Celsius) and other.degrees == self.degrees


class CelsiusTransformer(TypeTransformer[Celsius]):
    """An async third-party transformer, as a plugin would write one."""

    def __init__(self) -> None:
        super().__init__("Celsius", Celsius)

    def get_literal_type(self, t: typing.Any) -> types_pb2.LiteralType:
        return types_pb2.LiteralType(simple=types_pb2.SimpleType.FLOAT)

    async def to_literal(self, python_val, python_type, expected):
        await asyncio.sleep(0)
        return literals_pb2.Literal(
            scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(float_value=python_val.degrees))
        )

    async def to_python_value(self, lv, expected_python_type):
        await asyncio.sleep(0)
        return Celsius(lv.scalar.primitive.float_value)


@pytest.fixture
def celsius():
    transformer = CelsiusTransformer()
    TypeEngine.register(transformer)
    yield transformer
    TypeEngine._REGISTRY.pop(Celsius)
    TypeEngine._CODECS.clear()


def test_a_registered_async_transformer_works_alone_and_inside_collections(celsius):
    async def go():
        t = dict[str, list[typing.Optional[Celsius]]]  # noqa: UP045
        value = {"a": [Celsius(1.5), None]}
        lit = await TypeEngine.to_literal(value, t, TypeEngine.to_literal_type(t))
        return await TypeEngine.to_python_value(lit, t)

    assert asyncio.run(go()) == {"a": [Celsius(1.5), None]}
    assert TypeEngine.get_transformer(Celsius) is celsius
    assert TypeEngine.to_literal_type(list[Celsius]).collection_type.simple == types_pb2.SimpleType.FLOAT


def test_a_wrong_value_for_an_async_transformer_names_its_path(celsius):
    with pytest.raises(TypeTransformerFailedError, match=r"^\[1\]: Celsius: expected Celsius, got int"):
        TypeEngine.to_literal_sync([Celsius(1), 2], list[Celsius])


def test_registering_a_second_transformer_for_a_type_is_refused(celsius):
    with pytest.raises(ValueError, match="already handles Celsius"):
        TypeEngine.register(CelsiusTransformer())


def test_sync_helpers_refuse_to_block_a_running_loop_for_async_transformers(celsius):
    async def go():
        TypeEngine.to_literal_sync(Celsius(1), Celsius)

    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.run(go())


def test_sync_helpers_work_inside_a_loop_for_builtin_types():
    async def go():
        return TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync([1], list[int]), list[int])

    assert asyncio.run(go()) == [1]


def test_errors_are_user_errors_and_type_errors():
    with pytest.raises(TypeTransformerFailedError) as info:
        TypeEngine.to_literal_sync("x", int)
    assert isinstance(info.value, RuntimeUserError)
    assert isinstance(info.value, TypeError)
    assert info.value.kind == "user"


def test_restricted_types_raise_restricted_type_error():
    class Client:
        pass

    TypeEngine.register_restricted_type("live client", Client)
    try:
        with pytest.raises(RestrictedTypeError, match="live client"):
            TypeEngine.to_literal_type(Client)
    finally:
        TypeEngine._REGISTRY.pop(Client)


def test_unknown_types_fall_back_to_an_inline_pickle(roundtrip, caplog):
    class Opaque:
        def __init__(self, v):
            self.v = v

        def __eq__(self, other):
            return isinstance(other, Opaque) and other.v == self.v

    with caplog.at_level(logging.WARNING, logger="flyte.types"):
        lit, back = roundtrip(Opaque(3), Opaque)
    assert back == Opaque(3)
    assert "will be pickled" in caplog.text
    assert lit.scalar.binary.value
    assert not lit.scalar.binary.tag
    lt = TypeEngine.to_literal_type(Opaque)
    assert [v.structure.tag for v in lt.union_type.variants] == ["FlytePickle", "FlytePickle"]
    assert TypeEngine.guess_python_type(lt) is FlytePickle


def test_a_set_pickle_gets_a_stable_hash():
    lit = TypeEngine.to_literal_sync({3, 1, 2}, set)
    assert lit.hash == TypeEngine.to_literal_sync({1, 2, 3}, set).hash != ""


def test_a_pickle_over_the_inline_limit_is_refused_without_an_offload(monkeypatch):
    monkeypatch.setattr(_pickle.PickleTransformer, "inline_max_bytes", 100)
    monkeypatch.setattr(_pickle.PickleTransformer, "offload", None)
    TypeEngine._CODECS.clear()
    try:
        with pytest.raises(TypeTransformerFailedError, match="over the inline limit of 100"):
            TypeEngine.to_literal_sync(list(range(1000)), list)
    finally:
        TypeEngine._CODECS.clear()


def test_a_blob_pickle_without_an_offload_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(_pickle.PickleTransformer, "offload", None)
    TypeEngine._CODECS.clear()
    lit = literals_pb2.Literal(scalar=literals_pb2.Scalar(blob=literals_pb2.Blob(uri="s3://b/k")))
    try:
        with pytest.raises(TypeTransformerFailedError, match=r"offload is None"):
            TypeEngine.to_python_value_sync(lit, list)
    finally:
        TypeEngine._CODECS.clear()


class _EntryPoint:
    def __init__(self, name, load):
        self.name, self.value, self._load = name, f"pkg:{name}", load

    def load(self):
        return self._load()


def test_plugins_load_once_and_a_broken_one_only_warns(monkeypatch, caplog):
    calls = []

    def broken():
        raise ImportError("missing dependency")

    eps = [_EntryPoint("broken", broken), _EntryPoint("good", lambda: lambda: calls.append("registered"))]
    monkeypatch.setattr(_plugins, "entry_points", lambda group: eps if group == "flyte.plugins.types" else [])
    _plugins.reset_for_tests()
    with caplog.at_level(logging.WARNING, logger="flyte.types"):
        assert TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(1, int), int) == 1
        TypeEngine.get_transformer(int)
    assert calls == ["registered"]
    assert "'broken'" in caplog.text
    assert "missing dependency" in caplog.text


def test_literal_maps_name_the_variable():
    async def go():
        return await TypeEngine.dict_to_literal_map({"items": [Inner(1, 2)]}, {"items": list[Inner]}, "t")

    with pytest.raises(RuntimeDataValidationError, match=r"items\[0\]\.b: expected str, got int"):
        asyncio.run(go())


def test_literal_maps_round_trip():
    async def go():
        types = {"a": int, "b": list[str]}
        lm = await TypeEngine.dict_to_literal_map({"a": 1, "b": ["x"]}, types)
        return await TypeEngine.literal_map_to_kwargs(lm, types)

    assert asyncio.run(go()) == {"a": 1, "b": ["x"]}


@pytest.mark.parametrize(
    ("t", "lt_of"),
    [
        (int, int),
        (list[float], list[float]),
        (dict[str, bool], dict[str, bool]),
        (dict, dict),
        (int | None, typing.Optional[int]),  # noqa: UP045
    ],
)
def test_guess_python_type_reverses_literal_types(t, lt_of):
    assert TypeEngine.guess_python_type(TypeEngine.to_literal_type(t)) == lt_of


def test_guess_python_type_rebuilds_a_dataclass_that_reads_the_payload():
    lt = TypeEngine.to_literal_type(Inner)
    guessed = TypeEngine.guess_python_type(lt)
    lit = TypeEngine.to_literal_sync(Inner(1, "a"), Inner)
    back = TypeEngine.to_python_value_sync(lit, guessed)
    assert (back.a, back.b) == (1, "a")


def test_guess_python_type_of_an_enum_type():
    guessed = TypeEngine.guess_python_type(types_pb2.LiteralType(enum_type=types_pb2.EnumType(values=["A", "B"])))
    assert [m.name for m in guessed] == ["A", "B"]


def test_importing_flyte_types_loads_no_heavy_module():
    code = (
        "import sys, flyte.types; "
        "print(sorted(m for m in ('pydantic', 'msgpack', 'cloudpickle', 'pandas', 'flyteidl2', 'google.protobuf') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_converting_builtin_types_does_not_import_pydantic_or_cloudpickle():
    code = (
        "import sys\nfrom flyte.types import TypeEngine\n"
        "TypeEngine.to_literal_sync({'a': [1]}, dict[str, list[int]])\n"
        "print(sorted(m for m in ('pydantic', 'cloudpickle') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
